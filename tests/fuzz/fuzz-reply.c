/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-reply: everything pullmail parses out of server replies and
 * message headers.
 *
 *  - pop3_parse_status / pop3_resp_status on the input and on each line;
 *  - pop3_listing (and through it the static read_list, read_uidl,
 *    parse_num, valid_uid) with the input as the server's reply stream,
 *    pre-loaded into the connection's read buffer; the last byte's low
 *    two bits choose what CAPA said (none / UIDL+PIPELINING / UIDL / no
 *    UIDL);
 *  - hdr_get, rfc2047_decode, sanitize_text (output: no C0, DEL, ESC,
 *    valid UTF-8, at most max characters);
 *  - log_vis (output: printable ASCII only);
 *  - deliver_sender_parse (result: no byte <= 0x20 or >= 0x7f);
 *  - b64_decode / b64_encode (canonical input round-trips exactly; no
 *    more bytes out than the base64 characters in can carry).
 *
 * FUZZ_KNOWN=b64 in the environment skips the last check, to keep a long
 * run going past that finding (padding followed by blanks decoded as data,
 * by the old b64_decode); the strict decoder has fixed it.
 */

#include "config.h"

#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pullmail.h"

#include "fuzz.h"

static int		 sv[2] = { -1, -1 };	/* [0]: ours, [1]: peer */
static struct pop3	*pp;
static char		 host[] = "fuzz";


static void
setup(void)
{
	if (sv[0] != -1)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		abort();
	}
	/* Our reads see EOF at once; our writes land in the peer, drained. */
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	pp = xcalloc(1, sizeof(*pp));
}

static void
drain(void)
{
	char	 buf[4096];

	while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Valid UTF-8 with no C0 control, no DEL, no C1 control. */
static void
check_sanitized(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, i, chars = 0;
	unsigned int		 cp;

	while (*p != '\0') {
		CHECK(*p >= 0x20 && *p != 0x7f && *p != 0x1b);
		if (*p < 0x80) {
			p++;
			chars++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 4;
			cp = *p & 0x07;
		} else {
			CHECK(!"invalid UTF-8 lead byte");
			return;
		}
		for (i = 1; i < n; i++) {
			CHECK((p[i] & 0xc0) == 0x80);
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		CHECK(!(n == 2 && cp < 0x80));
		CHECK(!(n == 3 && cp < 0x800));
		CHECK(!(n == 4 && (cp < 0x10000 || cp > 0x10ffff)));
		CHECK(!(cp >= 0xd800 && cp <= 0xdfff));
		CHECK(cp >= 0xa0);		/* no C1 control */
		p += n;
		chars++;
	}
	CHECK(chars <= max);
}

static void
check_vis(const char *s)
{
	for (; *s != '\0'; s++)
		CHECK(*s >= 0x20 && *s < 0x7f);
}

/* Is this known finding (a word of $FUZZ_KNOWN) to be let through? */
static int
known(const char *what)
{
	const char	*k = getenv("FUZZ_KNOWN"), *p;
	size_t		 n = strlen(what);

	for (p = k; p != NULL && (p = strstr(p, what)) != NULL; p += n)
		if ((p == k || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

static int
b64_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : 63;
}

/* RFC 4648 canonical: alphabet, '=' only as final padding, zero pad bits. */
static int
b64_canonical(const char *s, size_t len)
{
	size_t	 i, pad = 0;

	if (len % 4 != 0)
		return 0;
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!b64_char((unsigned char)s[i]))
			return 0;
	if (pad == 1 && (b64_val((unsigned char)s[len - 2]) & 0x03) != 0)
		return 0;
	if (pad == 2 && (b64_val((unsigned char)s[len - 3]) & 0x0f) != 0)
		return 0;
	return 1;
}

static void
fuzz_b64(const char *s, size_t len)
{
	unsigned char	*d, *d2;
	char		*e;
	size_t		 n, n2, i, alpha = 0;

	if ((d = b64_decode(s, &n)) != NULL) {
		for (i = 0; i < len; i++)
			if (b64_char((unsigned char)s[i]))
				alpha++;
		/* Each base64 character carries 6 bits, no more. */
		CHECK(n <= alpha * 6 / 8 || known("b64"));
		e = b64_encode(d, n);
		if (b64_canonical(s, len))
			CHECK(strcmp(e, s) == 0);
		d2 = b64_decode(e, &n2);
		CHECK(d2 != NULL && n2 == n && memcmp(d, d2, n) == 0);
		free(d2);
		free(e);
		free(d);
	}
	/* And the other way: any bytes survive encode then decode. */
	e = b64_encode((const unsigned char *)s, len);
	d = b64_decode(e, &n);
	CHECK(d != NULL && n == len && memcmp(d, s, len) == 0);
	free(d);
	free(e);
}

static void
fuzz_status(const char *line, size_t len)
{
	const char	*text;
	char		*copy, *t;
	int		 ok;

	/* An exact-size copy: reading past len is caught. */
	copy = xmalloc(len ? len : 1);
	memcpy(copy, line, len);
	if (pop3_parse_status(copy, len, &ok, &text) == 0) {
		CHECK(text >= copy && text <= copy + len);
		CHECK(ok == 0 || ok == 1);
		t = xstrndup(text, copy + len - text);
		(void)pop3_resp_status(t, 75);
		free(t);
	}
	free(copy);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char * const *)a, *(const char * const *)b);
}

static void
fuzz_listing(const char *in, size_t len, int mode)
{
	struct pop3	*p = pp;
	struct pm_err	 err = { 0, NULL };
	struct msg	*m = NULL;
	size_t		 n = 0, i;

	memset(p, 0, sizeof(*p));
	p->err = &err;
	p->conn.fd = sv[0];
	p->conn.timeout_ms = 1000;
	p->conn.host = host;
	switch (mode) {
	case 0:
		break;			/* no CAPA: UIDL tried, not required */
	case 1:
		p->has_capa = p->has_uidl = p->pipelining = 1;
		break;
	case 2:
		p->has_capa = p->has_uidl = 1;
		break;
	case 3:
		p->has_capa = 1;	/* no UIDL */
		break;
	}
	if (len > sizeof(p->conn.rbuf))
		len = sizeof(p->conn.rbuf);
	memcpy(p->conn.rbuf, in, len);
	p->conn.rlen = len;
	if (pop3_listing(p, &m, &n) == 0) {
		CHECK(err.msg == NULL);
		for (i = 0; i < n; i++) {
			CHECK(m[i].num >= 1 && m[i].num <= PM_MSGS_MAX);
			if (i > 0)
				CHECK(m[i - 1].num < m[i].num);
			/* A key the cache can store; no two the same. */
			if (m[i].uid != NULL)
				CHECK(uidl_valid_key(m[i].uid));
		}
		if (n > 0 && m[0].uid != NULL) {
			const char **keys = calloc(n, sizeof(*keys));

			for (i = 0; i < n; i++) {
				CHECK(m[i].uid != NULL);
				keys[i] = m[i].uid;
			}
			qsort(keys, n, sizeof(*keys), cmp_str);
			for (i = 1; i < n; i++)
				CHECK(strcmp(keys[i - 1], keys[i]) != 0);
			free(keys);
		}
		for (i = 0; i < n; i++)
			free(m[i].uid);
		free(m);
	} else {
		CHECK(err.msg != NULL);
		CHECK(strchr(err.msg, '\n') == NULL);
		err_clear(&err);
	}
	free(p->conn.wbuf);
	drain();
}

static void
fuzz_text(const char *s)
{
	static const size_t maxes[] = { 0, 1, 24, 200, (size_t)-1 };
	char	*dec, *san;
	size_t	 i;

	dec = rfc2047_decode(s);
	CHECK(strlen(dec) <= strlen(s) * 2);
	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		san = sanitize_text(dec, maxes[i]);
		check_sanitized(san, maxes[i]);
		free(san);
	}
	san = sanitize_text(s, (size_t)-1);
	check_sanitized(san, (size_t)-1);
	free(san);
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "Subject", "From", "Date",
	    "Return-Path", "X" };
	const char	*in = (const char *)data, *p, *end, *nl;
	char		*exact, *str, *v, *s;
	size_t		 i;

	setup();

	/* Not NUL-terminated, exactly size bytes. */
	exact = xmalloc(size ? size : 1);
	memcpy(exact, data, size);
	/* NUL-terminated, for the string interfaces. */
	str = xstrndup(in, size);

	fuzz_status(exact, size);
	for (p = in, end = in + size; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		fuzz_status(p, nl - p - (nl > p && nl[-1] == '\r'));
	}

	fuzz_listing(in, size, size ? data[size - 1] & 3 : 0);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((v = hdr_get(exact, size, names[i])) == NULL)
			continue;
		CHECK(strlen(v) <= size);
		fuzz_text(v);
		free(v);
	}
	fuzz_text(str);

	v = log_vis(exact, size);
	check_vis(v);
	free(v);

	s = deliver_sender_parse(exact, size);
	CHECK(s != NULL && *s != '\0');
	for (v = s; *v != '\0'; v++)
		CHECK((unsigned char)*v > 0x20 && (unsigned char)*v < 0x7f);
	free(s);

	fuzz_b64(str, strlen(str));

	free(str);
	free(exact);
	return 0;
}
