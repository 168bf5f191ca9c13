/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-oauth2: whatever a token endpoint (or a browser, or a damaged
 * token file) may send: any bytes as a token reply, an error reply, a
 * device authorization reply, a token file and a redirect.
 *
 * Each parse either refuses with a one-line reason or gives fields that
 * keep their promises: tokens of 1 to PM_PASS_MAX bytes 0x21-0x7e (safe on
 * a SASL line), server text escaped (no control byte reaches a terminal)
 * and cut, https:// verification URLs; a parsed token file formats and
 * parses again to the same tokens.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pullmail.h"

#include "fuzz.h"

static int
token_ok(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > PM_PASS_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
shown_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	const char		*b = (const char *)in;
	struct oauth2_token	 t, u;
	struct oauth2_device	 d;
	char			*why, *code, *desc, *state, *text, *s;

	if (oauth2_parse_token(b, len, 1700000000, &t, &why) == 0) {
		CHECK(token_ok(t.access_token));
		CHECK(t.refresh_token == NULL || token_ok(t.refresh_token));
		CHECK(t.scope == NULL || shown_ok(t.scope));
		oauth2_token_free(&t);
	} else {
		CHECK(why != NULL && strchr(why, '\n') == NULL);
		CHECK(t.access_token == NULL);
		free(why);
	}
	if (oauth2_parse_error(b, len, &code, &desc) == 0) {
		CHECK(shown_ok(code) && strlen(code) <= OAUTH2_SHOWN_MAX + 3);
		CHECK(desc == NULL || (shown_ok(desc) &&
		    strlen(desc) <= OAUTH2_SHOWN_MAX + 3));
		free(code);
		free(desc);
	} else
		CHECK(code == NULL && desc == NULL);
	if (oauth2_parse_device(b, len, &d, &why) == 0) {
		CHECK(token_ok(d.device_code) && shown_ok(d.user_code));
		CHECK(strncasecmp(d.verification_uri, "https://", 8) == 0);
		CHECK(d.interval >= 1 && d.interval <= 300);
		CHECK(d.expires_in >= 1 && d.expires_in <= 86400);
		oauth2_device_free(&d);
	} else
		free(why);
	if (oauth2_store_parse(b, len, &t, &why) == 0) {
		text = oauth2_store_format(&t);
		CHECK(oauth2_store_parse(text, strlen(text), &u, &why) == 0);
		CHECK((t.access_token == NULL) == (u.access_token == NULL));
		CHECK(t.access_token == NULL ||
		    strcmp(t.access_token, u.access_token) == 0);
		CHECK(t.expires_at == u.expires_at && t.dead == u.dead);
		free(text);
		oauth2_token_free(&t);
		oauth2_token_free(&u);
	} else
		free(why);
	s = xmalloc(len + 1);
	memcpy(s, in, len);
	s[len] = '\0';
	if (oauth2_parse_redirect(s, &code, &state, &why, &desc) == 0) {
		CHECK(code != NULL || why != NULL);
		CHECK(code == NULL || shown_ok(code));
		CHECK(why == NULL || shown_ok(why));
		CHECK(desc == NULL || shown_ok(desc));
	} else
		CHECK(code == NULL && state == NULL && why == NULL &&
		    desc == NULL);
	free(code);
	free(state);
	free(why);
	free(desc);
	free(s);
	return 0;
}
