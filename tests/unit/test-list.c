/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* Header fields, encoded words and terminal-safe text for --list. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../src/pullmail.h"
#include "tap.h"

static void
dec(const char *in, const char *want)
{
	char	*s = rfc2047_decode(in);

	is_str(s, want, in);
	free(s);
}

static void
san(const char *in, size_t max, const char *want, const char *what)
{
	char	*s = sanitize_text(in, max);

	is_str(s, want, what);
	free(s);
}

int
main(void)
{
	const char	*h = "From: Ann <ann@example.org>\n"
	    "Subject: a long\n\tfolded subject\n"
	    "X-Empty:\n"
	    "subject: second\n"
	    "\n"
	    "Subject: in the body\n";
	char		*v;

	v = hdr_get(h, strlen(h), "Subject");
	is_str(v, "a long\tfolded subject", "folded field unfolded");
	free(v);
	v = hdr_get(h, strlen(h), "from");
	is_str(v, "Ann <ann@example.org>", "field names are case-insensitive");
	free(v);
	v = hdr_get(h, strlen(h), "X-Empty");
	is_str(v, "", "empty field");
	free(v);
	v = hdr_get(h, strlen(h), "Date");
	ok(v == NULL, "absent field");
	v = hdr_get("Subject: x\r\n\r\nSubject: y\r\n", 25, "Subject");
	is_str(v, "x", "CRLF header");
	free(v);

	dec("=?UTF-8?B?w7xiZXI=?=", "\xc3\xbc" "ber");
	dec("=?utf-8?q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait");
	dec("=?ISO-8859-1?Q?M=FCller?=", "M\xc3\xbcller");
	dec("=?UTF-8?B?YQ==?= =?UTF-8?B?Yg==?=", "ab");
	dec("x =?UTF-8?B?YQ==?= y", "x a y");
	dec("=?KOI8-R?B?8NLJ?=", "=?KOI8-R?B?8NLJ?=");
	dec("=?UTF-8?X?bad?=", "=?UTF-8?X?bad?=");
	dec("=?UTF-8?B?unterminated", "=?UTF-8?B?unterminated");
	dec("plain text", "plain text");
	dec("=?UTF-8?B?QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=?=",
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	dec("=?UTF-8?Q?=1B[31m?=", "\x1b[31m");

	san("hello", 80, "hello", "plain ASCII kept");
	san("a\x1b[31mred\x07", 80, "a?[31mred?", "ESC and BEL replaced");
	san("caf\xc3\xa9 \xe6\x97\xa5", 80, "caf\xc3\xa9 \xe6\x97\xa5",
	    "printable UTF-8 kept");
	san("\xc2\x9b" "31m", 80, "?31m", "C1 CSI replaced");
	san("x\xe2\x80\xaey", 80, "x?y", "right-to-left override replaced");
	san("\xc0\xaf", 80, "?", "overlong form replaced");
	san("\xff\xfe", 80, "??", "invalid bytes replaced");
	san("\xe6\x97", 80, "??", "truncated sequence replaced");
	san("tab\there\r\n", 80, "tab here  ", "tabs and line ends blank");
	san("\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 2, "\xe6\x97\xa5\xe6\x97\xa5",
	    "truncated by characters, not bytes");
	return done();
}
