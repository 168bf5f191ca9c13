/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * The base64 of SASL: strict decoding of server challenges (padded, no
 * whitespace, nothing outside the alphabet) and encoding round trips.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pullmail.h"
#include "tap.h"

/* in decodes to want (wantlen bytes), NUL-terminated. */
static void
good(const char *in, const char *want, size_t wantlen)
{
	unsigned char	*out;
	size_t		 len = (size_t)-1;

	out = b64_decode(in, &len);
	ok(out != NULL && len == wantlen && memcmp(out, want, wantlen) == 0 &&
	    out[len] == '\0', "\"%s\" decodes to %zu bytes", in, wantlen);
	free(out);
}

/* in is refused. */
static void
bad(const char *in, const char *why)
{
	unsigned char	*out;
	size_t		 len = 12345;
	char		*v = log_vis(in, strlen(in));

	out = b64_decode(in, &len);
	ok(out == NULL, "\"%s\" refused: %s", v, why);
	free(out);
	free(v);
}

int
main(void)
{
	static const char	*vec[][2] = {	/* RFC 4648 section 10 */
		{ "", "" },
		{ "Zg==", "f" },
		{ "Zm8=", "fo" },
		{ "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" },
		{ "Zm9vYmE=", "fooba" },
		{ "Zm9vYmFy", "foobar" },
	};
	unsigned char	 all[256], *out;
	char		*enc;
	size_t		 i, len;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
		good(vec[i][0], vec[i][1], strlen(vec[i][1]));
	good("+/+/", "\xfb\xff\xbf", 3);
	good("AAAA", "\0\0\0", 3);

	bad("Zg=a", "padding followed by data");
	bad("Z===", "three padding characters");
	bad("====", "nothing but padding");
	bad("Zm9v Zg==", "a space inside");
	bad("Zm9v\t", "a trailing tab");
	bad("Zm9v    ", "trailing spaces (length a multiple of 4)");
	bad(" Zm9v", "a leading space");
	bad("Zm9v\r\n", "a line end");
	bad("Zg", "unpadded");
	bad("Zm8", "unpadded (two bytes)");
	bad("Zm9v=", "padding after a full quantum");
	bad("Zm=v", "padding in the middle of a quantum");
	bad("Zg==Zg==", "padding in the middle of the data");
	bad("Zh==", "non-zero leftover bits (one byte)");
	bad("Zm9=", "non-zero leftover bits (two bytes)");
	bad("Zm9v-_==", "the URL-safe alphabet");
	bad("Zm9\x80", "an 8-bit byte");
	bad("Zm9*", "a byte outside the alphabet");

	/* Every byte value survives encoding and decoding. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = i;
	for (i = 0; i <= sizeof(all); i += 37) {
		enc = b64_encode(all, i);
		out = b64_decode(enc, &len);
		ok(out != NULL && len == i && memcmp(out, all, i) == 0,
		    "round trip of %zu bytes", i);
		free(out);
		free(enc);
	}
	return done();
}
