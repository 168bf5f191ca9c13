/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Reply parsing, response codes, the body decoder, and LIST/UIDL listings
 * read from a socketpair.
 */

#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

struct out {
	char	*buf;
	size_t	 len;
	int	 fail_after;	/* fail the sink after this many calls, or -1 */
	int	 calls;
};

static int
collect(void *arg, const char *s, size_t n)
{
	struct out	*o = arg;

	if (o->fail_after >= 0 && o->calls++ >= o->fail_after)
		return -1;
	o->buf = realloc(o->buf, o->len + n + 1);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

/*
 * Decode wire in pieces cut at every pair of split points, and check the
 * result is the same however the bytes arrive.
 */
static void
check_decode(const char *name, const char *wire, size_t wlen,
    const char *want, size_t want_len, size_t want_used)
{
	size_t	 a, b, used, len[3], off;
	int	 failed, bad = 0, c;
	struct body_dec	 d;
	struct out	 o;

	for (a = 0; a <= wlen && !bad; a++) {
		for (b = a; b <= wlen && !bad; b++) {
			memset(&o, 0, sizeof(o));
			o.fail_after = -1;
			body_dec_init(&d);
			len[0] = a;
			len[1] = b - a;
			len[2] = wlen - b;
			used = 0;
			off = 0;
			for (c = 0; c < 3 && !d.done; c++) {
				used += body_dec_run(&d, wire + off, len[c],
				    collect, &o, &failed);
				off += len[c];
			}
			if (!d.done || used != want_used || o.len != want_len ||
			    (want_len && memcmp(o.buf, want, want_len) != 0)) {
				printf("# split %zu/%zu: done=%d used=%zu "
				    "len=%zu\n", a, b, d.done, used, o.len);
				bad = 1;
			}
			free(o.buf);
		}
	}
	ok(!bad, "decode %s, every split", name);
}

/*
 * pop3_listing against a server that answers LIST and UIDL (pipelined)
 * with the bytes of server. Returns pop3_listing's result; *nmsgs and the
 * error in *err.
 */
static int
listing(const char *server, size_t *nmsgs, struct pm_err *err)
{
	static char	 host[] = "test";
	struct pop3	*p;
	struct msg	*m = NULL;
	size_t		 i;
	int		 sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	if (write(sv[1], server, strlen(server)) != (ssize_t)strlen(server)) {
		perror("write");
		exit(1);
	}
	shutdown(sv[1], SHUT_WR);
	p = calloc(1, sizeof(*p));
	p->conn.fd = sv[0];
	p->conn.host = host;
	p->conn.timeout_ms = 5000;
	p->err = err;
	p->has_capa = p->has_uidl = p->pipelining = 1;
	*nmsgs = 0;
	r = pop3_listing(p, &m, nmsgs);
	if (r == 0) {
		for (i = 0; i < *nmsgs; i++)
			free(m[i].uid);
		free(m);
	}
	free(p->conn.wbuf);
	free(p);
	close(sv[0]);
	close(sv[1]);
	return r;
}

int
main(void)
{
	const char	*text;
	int		 okv;
	struct body_dec	 d;
	struct out	 o;
	size_t		 used;
	int		 failed;

	ok(pop3_parse_status("+OK", 3, &okv, &text) == 0 && okv &&
	    *text == '\0', "+OK alone");
	ok(pop3_parse_status("+OK hello there", 15, &okv, &text) == 0 &&
	    okv && strcmp(text, "hello there") == 0, "+OK with text");
	ok(pop3_parse_status("-ERR [IN-USE] busy", 18, &okv, &text) == 0 &&
	    !okv && strcmp(text, "[IN-USE] busy") == 0, "-ERR with text");
	ok(pop3_parse_status("+OKAY", 5, &okv, &text) == -1,
	    "+OKAY is not +OK");
	ok(pop3_parse_status("-ERROR x", 8, &okv, &text) == -1,
	    "-ERROR is not -ERR");
	ok(pop3_parse_status("+ok", 3, &okv, &text) == -1,
	    "status is case-sensitive");
	ok(pop3_parse_status("", 0, &okv, &text) == -1, "empty line");
	ok(pop3_parse_status("* OK imap", 9, &okv, &text) == -1,
	    "an IMAP greeting is refused");
	ok(pop3_parse_status("+", 1, &okv, &text) == -1, "a lone +");

	ok(pop3_resp_status("[IN-USE] locked", EX_NOPERM) == EX_TEMPFAIL,
	    "[IN-USE] is temporary");
	ok(pop3_resp_status("[LOGIN-DELAY] wait", EX_NOPERM) == EX_TEMPFAIL,
	    "[LOGIN-DELAY] is temporary");
	ok(pop3_resp_status("[SYS/TEMP] x", EX_NOPERM) == EX_TEMPFAIL,
	    "[SYS/TEMP] is temporary");
	ok(pop3_resp_status("[AUTH] bad", EX_TEMPFAIL) == EX_NOPERM,
	    "[AUTH] is refusal");
	ok(pop3_resp_status("[SYS/PERM] gone", EX_TEMPFAIL) == EX_NOPERM,
	    "[SYS/PERM] is refusal");
	ok(pop3_resp_status("no code", 42) == 42, "no code: the default");

#define DEC(name, wire, want, used) \
	check_decode(name, wire, sizeof(wire) - 1, want, sizeof(want) - 1, used)

	DEC("plain CRLF lines", "a\r\nb\r\n.\r\n", "a\nb\n", 9);
	DEC("empty body", ".\r\n", "", 3);
	DEC("stuffed dot", "..x\r\n.\r\n", ".x\n", 8);
	DEC("a line that is one dot", "..\r\n.\r\n", ".\n", 7);
	DEC("a line of two dots", "...\r\n.\r\n", "..\n", 8);
	DEC("From line untouched", "From me\r\n>From you\r\n.\r\n",
	    "From me\n>From you\n", 23);
	DEC("bare CR kept", "a\rb\r\n.\r\n", "a\rb\n", 8);
	DEC("CR at end of line then CRLF", "a\r\r\n.\r\n", "a\r\n", 7);
	DEC("bare LF lines", "a\nb\n.\n", "a\nb\n", 6);
	DEC("8-bit bytes", "caf\xc3\xa9 \xff\r\n.\r\n", "caf\xc3\xa9 \xff\n",
	    12);
	DEC("blank lines", "\r\n\r\nx\r\n.\r\n", "\n\nx\n", 10);
	DEC("dot CR then text", ".\rz\r\n.\r\n", "\rz\n", 8);
	DEC("stops at the terminator", "a\r\n.\r\nRETR-REPLY", "a\n", 6);
	DEC("terminator-like text inside", "x.\r\n .\r\n.\r\n", "x.\n .\n",
	    11);

	/* A sink failure stops the decoder and is reported. */
	memset(&o, 0, sizeof(o));
	o.fail_after = 0;
	body_dec_init(&d);
	used = body_dec_run(&d, "abc\r\n.\r\n", 8, collect, &o, &failed);
	ok(failed && !d.done, "sink failure reported");
	free(o.buf);

	/* A long body in tiny pieces: nothing lost, constant state. */
	{
		size_t	 n = 200000, i, off;
		char	*wire = malloc(n * 3 + 8), *want = malloc(n * 2 + 1);
		size_t	 wl = 0, ww = 0;

		for (i = 0; i < n; i++) {
			wire[wl++] = 'a' + i % 26;
			want[ww++] = 'a' + i % 26;
			if (i % 100 == 99) {
				wire[wl++] = '\r';
				wire[wl++] = '\n';
				want[ww++] = '\n';
			}
		}
		memcpy(wire + wl, "\r\n.\r\n", 5);
		wl += 5;
		want[ww++] = '\n';
		memset(&o, 0, sizeof(o));
		o.fail_after = -1;
		body_dec_init(&d);
		for (off = 0; off < wl && !d.done; off += used)
			used = body_dec_run(&d, wire + off,
			    wl - off < 7 ? wl - off : 7, collect, &o, &failed);
		ok(d.done && o.len == ww && memcmp(o.buf, want, ww) == 0 &&
		    d.in == wl, "long body in 7-byte pieces");
		free(o.buf);
		free(wire);
		free(want);
	}

	/* Listings: an empty LIST (no array at all) then UIDL lines. */
	{
		struct pm_err	 err = { 0, NULL };
		size_t		 n;

		ok(listing("+OK\r\n.\r\n+OK\r\n.\r\n", &n, &err) == 0 &&
		    n == 0, "empty LIST and UIDL: no messages");
		err_clear(&err);
		ok(listing("+OK\r\n.\r\n+OK\r\n1 ghost\r\n.\r\n", &n,
		    &err) == -1 && err.status == EX_PROTOCOL &&
		    strstr(err.msg, "message number not in LIST") != NULL,
		    "empty LIST, UIDL names message 1: protocol error");
		err_clear(&err);
		ok(listing("+OK\r\n1 10\r\n2 20\r\n.\r\n"
		    "+OK\r\n1 a\r\n3 c\r\n.\r\n", &n, &err) == -1 &&
		    err.status == EX_PROTOCOL &&
		    strstr(err.msg, "message number not in LIST") != NULL,
		    "UIDL names a message LIST did not: protocol error");
		err_clear(&err);
		ok(listing("+OK\r\n1 10\r\n2 20\r\n.\r\n"
		    "+OK\r\n2 b\r\n1 a\r\n.\r\n", &n, &err) == 0 &&
		    n == 2, "two messages, UIDL in another order");
		err_clear(&err);
	}
	return done();
}
