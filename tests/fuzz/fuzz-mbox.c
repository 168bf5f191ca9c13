/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-mbox: streaming mboxrd quoting.
 *
 * Input: two 16-bit split points, then the message. The quoter is run over
 * the three pieces and again one byte at a time (both must agree). The
 * output must have no line starting "From "; removing one '>' from every
 * line matching ^>+From must give back the input, with a final newline
 * added when it was missing.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pullmail.h"

#include "fuzz.h"


struct out {
	char	*buf;
	size_t	 len;
	size_t	 size;
};

static int
collect(void *arg, const char *s, size_t n)
{
	struct out	*o = arg;

	CHECK(n > 0);
	if (o->len + n > o->size) {
		o->size = (o->len + n) * 2;
		o->buf = xreallocarray(o->buf, o->size, 1);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/* Does the line at p (up to end) match ^>+From ? */
static int
quoted_from(const char *p, const char *end)
{
	const char	*q = p;

	while (q < end && *q == '>')
		q++;
	return q > p && end - q >= 5 && memcmp(q, "From ", 5) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mboxq	 q;
	struct out	 o = { NULL, 0, 0 }, o1 = { NULL, 0, 0 };
	struct out	 u = { NULL, 0, 0 };
	const char	*in, *p, *end, *nl;
	size_t		 len, a, b, t, i;

	if (size < 4)
		return 0;
	a = data[0] | data[1] << 8;
	b = data[2] | data[3] << 8;
	in = (const char *)data + 4;
	len = size - 4;
	a %= len + 1;
	b %= len + 1;
	if (a > b) {
		t = a;
		a = b;
		b = t;
	}

	mboxq_init(&q);
	CHECK(mboxq_run(&q, in, a, collect, &o) == 0);
	CHECK(mboxq_run(&q, in + a, b - a, collect, &o) == 0);
	CHECK(mboxq_run(&q, in + b, len - b, collect, &o) == 0);
	CHECK(mboxq_finish(&q, collect, &o) == 0);

	mboxq_init(&q);
	for (i = 0; i < len; i++)
		CHECK(mboxq_run(&q, in + i, 1, collect, &o1) == 0);
	CHECK(mboxq_finish(&q, collect, &o1) == 0);
	CHECK(o1.len == o.len && memcmp(o1.buf, o.buf, o.len) == 0);

	/* No line of the output starts with "From ". */
	CHECK(o.len > 0 && o.buf[o.len - 1] == '\n');
	for (p = o.buf, end = o.buf + o.len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		CHECK(nl != NULL);
		CHECK(!(nl - p >= 5 && memcmp(p, "From ", 5) == 0));
		/* Unquote: drop one '>' from ^>+From lines. */
		if (quoted_from(p, nl))
			collect(&u, p + 1, nl + 1 - (p + 1));
		else
			collect(&u, p, nl + 1 - p);
	}
	if (len == 0 || in[len - 1] != '\n') {
		CHECK(u.len == len + 1);
		CHECK(u.buf[len] == '\n');
	} else
		CHECK(u.len == len);
	CHECK(len == 0 || memcmp(u.buf, in, len) == 0);

	free(o.buf);
	free(o1.buf);
	free(u.buf);
	return 0;
}
