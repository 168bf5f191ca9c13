/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-body: the multi-line body decoder (dot-unstuffing, CRLF to LF).
 *
 * Input: two bytes choosing where to split the rest, then the bytes as
 * they come from the server. The decoder is run over the two pieces, and
 * again one byte at a time; both must agree. When the body contains its
 * terminating line and no bare CR before it, the output must equal that of
 * a simple line-based reference decoder.
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
	CHECK(o->len + n <= o->size);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/*
 * Reference: split on LF, strip one trailing CR, stop at a line ".",
 * unstuff a leading dot, join with LF. Returns the bytes consumed up to and
 * including the terminator line, or 0 if there is none or a bare CR
 * precedes it (then the comparison is skipped).
 */
static size_t
reference(const char *in, size_t len, struct out *o)
{
	const char	*p = in, *end = in + len, *nl, *l;
	size_t		 n, i;

	o->len = 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			return 0;		/* no terminator */
		n = nl - p;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++)
			if (p[i] == '\r')
				return 0;	/* a bare CR: skip */
		if (n == 1 && p[0] == '.')
			return nl + 1 - in;
		l = p;
		if (n > 0 && l[0] == '.') {
			l++;
			n--;
		}
		memcpy(o->buf + o->len, l, n);
		o->len += n;
		o->buf[o->len++] = '\n';
		p = nl + 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body_dec	 d, d1;
	struct out	 o, o1, r;
	const char	*in;
	size_t		 len, split, used, used1, i, want;
	int		 failed;

	if (size < 2)
		return 0;
	split = data[0] | data[1] << 8;
	in = (const char *)data + 2;
	len = size - 2;
	split %= len + 1;

	o.size = o1.size = r.size = len + 1;
	o.buf = xmalloc(o.size);
	o1.buf = xmalloc(o1.size);
	r.buf = xmalloc(r.size);
	o.len = o1.len = 0;

	/* Two pieces. */
	body_dec_init(&d);
	used = body_dec_run(&d, in, split, collect, &o, &failed);
	CHECK(!failed && used <= split);
	if (!d.done) {
		CHECK(used == split);
		used += body_dec_run(&d, in + split, len - split, collect, &o,
		    &failed);
		CHECK(!failed);
	}
	CHECK(used <= len);
	CHECK(d.in == used);
	CHECK(o.len <= used);
	if (!d.done)
		CHECK(used == len);
	/* An empty call changes nothing. */
	CHECK(body_dec_run(&d, in, 0, collect, &o, &failed) == 0 && !failed);

	/* One byte at a time. */
	body_dec_init(&d1);
	for (used1 = 0; used1 < len && !d1.done; ) {
		i = body_dec_run(&d1, in + used1, 1, collect, &o1, &failed);
		CHECK(!failed && i <= 1);
		if (i == 0)
			break;
		used1 += i;
	}
	CHECK(d1.done == d.done);
	CHECK(used1 == used);
	CHECK(o1.len == o.len && memcmp(o1.buf, o.buf, o.len) == 0);

	/* Against the reference, where it applies. */
	if ((want = reference(in, len, &r)) != 0) {
		CHECK(d.done);
		CHECK(used == want);
		CHECK(o.len == r.len && memcmp(o.buf, r.buf, r.len) == 0);
	}

	free(o.buf);
	free(o1.buf);
	free(r.buf);
	return 0;
}
