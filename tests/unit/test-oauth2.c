/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * oauth2-util.c: the token endpoint's JSON (good and hostile bodies), forms
 * and URLs, redirects and pasted answers, PKCE, the token file.
 */

#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

#define NOW	1700000000

/* A token reply: ok or not; the expected fields when ok. */
struct tcase {
	const char	*name;
	const char	*body;
	int		 good;
	const char	*access, *refresh, *scope;
	time_t		 expires;	/* expires_at - NOW, or -1: 0 */
};

static const struct tcase tcases[] = {
	{ "Google-like", "{\"access_token\": \"ya29.a0Af-x_Y\", "
	    "\"expires_in\": 3599, \"scope\": \"https://mail.google.com/\", "
	    "\"token_type\": \"Bearer\"}", 1, "ya29.a0Af-x_Y", NULL,
	    "https://mail.google.com/", 3599 },
	{ "Microsoft-like, expires_in a string", "{\"token_type\":\"bearer\","
	    "\"scope\":\"https://outlook.office.com/POP.AccessAsUser.All\","
	    "\"expires_in\":\"4282\",\"ext_expires_in\":4282,"
	    "\"access_token\":\"EwB4A8l6\",\"refresh_token\":\"M.C5.-x!\","
	    "\"id_token\":\"eyJ0\"}\r\n", 1, "EwB4A8l6", "M.C5.-x!",
	    "https://outlook.office.com/POP.AccessAsUser.All", 4282 },
	{ "no expires_in", "{\"access_token\":\"a\"}", 1, "a", NULL, NULL, -1 },
	{ "expires_in huge, clamped", "{\"access_token\":\"a\","
	    "\"expires_in\":99999999999999999999}", 1, "a", NULL, NULL,
	    10LL * 366 * 86400 },
	{ "expires_in huge string, clamped", "{\"access_token\":\"a\","
	    "\"expires_in\":\"999999999999999999999999\"}", 1, "a", NULL, NULL,
	    10LL * 366 * 86400 },
	{ "empty body", "", 0, NULL, NULL, NULL, 0 },
	{ "not JSON", "<html>Service Unavailable</html>", 0, NULL, NULL, NULL, 0 },
	{ "a JSON array", "[{\"access_token\":\"a\"}]", 0, NULL, NULL, NULL, 0 },
	{ "a JSON string", "\"access_token\"", 0, NULL, NULL, NULL, 0 },
	{ "a number", "12", 0, NULL, NULL, NULL, 0 },
	{ "trailing garbage", "{\"access_token\":\"a\"}x", 0, NULL, NULL, NULL, 0 },
	{ "two objects", "{\"access_token\":\"a\"}{}", 0, NULL, NULL, NULL, 0 },
	{ "no access_token", "{\"token_type\":\"Bearer\"}", 0, NULL, NULL, NULL, 0 },
	{ "access_token a number", "{\"access_token\":12}", 0, NULL, NULL, NULL, 0 },
	{ "access_token empty", "{\"access_token\":\"\"}", 0, NULL, NULL, NULL, 0 },
	{ "access_token with CRLF", "{\"access_token\":\"a\\r\\nDELE 1\"}", 0, NULL, NULL, NULL, 0 },
	{ "access_token with a space", "{\"access_token\":\"a b\"}", 0, NULL, NULL, NULL, 0 },
	{ "access_token with a NUL", "{\"access_token\":\"a\\u0000b\"}", 0, NULL, NULL, NULL, 0 },
	{ "access_token not ASCII", "{\"access_token\":\"a\\u00e9\"}", 0, NULL, NULL, NULL, 0 },
	{ "token_type mac", "{\"access_token\":\"a\",\"token_type\":\"mac\"}", 0, NULL, NULL, NULL, 0 },
	{ "expires_in negative", "{\"access_token\":\"a\",\"expires_in\":-1}", 0, NULL, NULL, NULL, 0 },
	{ "expires_in 1e309", "{\"access_token\":\"a\",\"expires_in\":1e309}", 0, NULL, NULL, NULL, 0 },
	{ "expires_in 12abc", "{\"access_token\":\"a\",\"expires_in\":\"12abc\"}", 0, NULL, NULL, NULL, 0 },
	{ "expires_in a float", "{\"access_token\":\"a\",\"expires_in\":3.5}", 0, NULL, NULL, NULL, 0 },
	{ "refresh_token with a tab", "{\"access_token\":\"a\","
	    "\"refresh_token\":\"r\\tx\"}", 0, NULL, NULL, NULL, 0 },
	{ "refresh_token an object", "{\"access_token\":\"a\","
	    "\"refresh_token\":{}}", 0, NULL, NULL, NULL, 0 },
	{ "scope with an escape", "{\"access_token\":\"a\","
	    "\"scope\":\"\\u001b[2J\"}", 0, NULL, NULL, NULL, 0 },
	{ "invalid UTF-8", "{\"access_token\":\"a\",\"x\":\"\xff\xfe\"}", 1,
	    "a", NULL, NULL, -1 },
	{ "duplicate keys (the last counts)", "{\"access_token\":\"a\","
	    "\"access_token\":\"b\"}", 1, "b", NULL, NULL, -1 },
};

static void
test_tokens(void)
{
	struct oauth2_token	 t;
	char			*why, deep[30000];
	size_t			 i, n;
	int			 r;

	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];

		r = oauth2_parse_token(c->body, strlen(c->body), NOW, &t, &why);
		if (!c->good) {
			ok(r == -1 && why != NULL && t.access_token == NULL &&
			    strchr(why, '\n') == NULL, "token reply, %s: "
			    "refused (%s)", c->name, why ? why : "no reason");
			free(why);
			continue;
		}
		ok(r == 0 && strcmp(t.access_token, c->access) == 0 &&
		    (c->refresh == NULL ? t.refresh_token == NULL :
		    strcmp(t.refresh_token, c->refresh) == 0) &&
		    (c->scope == NULL ? t.scope == NULL :
		    strcmp(t.scope, c->scope) == 0) &&
		    t.expires_at == (c->expires == -1 ? 0 : NOW + c->expires),
		    "token reply, %s: taken", c->name);
		oauth2_token_free(&t);
	}
	/* 10000 levels of nesting: refused, no stack overflow. */
	n = 0;
	deep[n++] = '{';
	memcpy(deep + n, "\"a\":", 4);
	n += 4;
	for (i = 0; i < 10000; i++)
		deep[n++] = '[';
	for (i = 0; i < 10000; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	ok(oauth2_parse_token(deep, n, NOW, &t, &why) == -1,
	    "token reply nested 10000 deep: refused");
	free(why);
	/* A NUL byte in the body itself; the length says where it ends. */
	ok(oauth2_parse_token("{\"access_token\":\"a\"}\0{}", 23, NOW, &t,
	    &why) == -1, "token reply with a NUL byte: refused");
	free(why);
	ok(oauth2_parse_token("{\"access_token\":\"abc\"}", 10, NOW, &t,
	    &why) == -1, "token reply cut short by its length: refused");
	free(why);
	{
		/* A secret never shows in the reason. */
		const char *b = "{\"access_token\":\"s3cr3t\\nX\"}";

		oauth2_parse_token(b, strlen(b), NOW, &t, &why);
		ok(why != NULL && strstr(why, "s3cr3t") == NULL,
		    "a refused token is not quoted in the reason");
		free(why);
	}
	{
		/* The longest token a login takes, and one byte more. */
		char *b = xmalloc(PM_PASS_MAX + 64);

		snprintf(b, PM_PASS_MAX + 64, "{\"access_token\":\"%0*d\"}",
		    PM_PASS_MAX, 0);
		ok(oauth2_parse_token(b, strlen(b), NOW, &t, &why) == 0 &&
		    strlen(t.access_token) == PM_PASS_MAX,
		    "a %d-byte access token: taken", PM_PASS_MAX);
		oauth2_token_free(&t);
		snprintf(b, PM_PASS_MAX + 64, "{\"access_token\":\"%0*d\"}",
		    PM_PASS_MAX + 1, 0);
		ok(oauth2_parse_token(b, strlen(b), NOW, &t, &why) == -1,
		    "a %d-byte access token: refused", PM_PASS_MAX + 1);
		free(why);
		free(b);
	}
}

static void
test_errors(void)
{
	const char	*cb;
	char		*code, *desc, *b;
	size_t	 n;

	cb = "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Token has been expired or revoked.\"}";
	ok(oauth2_parse_error(cb, strlen(cb), &code, &desc) == 0 &&
	    strcmp(code, "invalid_grant") == 0 &&
	    strcmp(desc, "Token has been expired or revoked.") == 0,
	    "error reply: code and description");
	free(code);
	free(desc);
	cb = "{\"error\":\"slow_down\"}";
	ok(oauth2_parse_error(cb, strlen(cb), &code, &desc) == 0 &&
	    strcmp(code, "slow_down") == 0 && desc == NULL,
	    "error reply without a description");
	free(code);
	cb = "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"\\u001b]0;owned\\u0007\\u001b[31mred\\r\\nX\"}";
	ok(oauth2_parse_error(cb, strlen(cb), &code, &desc) == 0 &&
	    strchr(desc, '\033') == NULL && strchr(desc, '\n') == NULL &&
	    strchr(desc, '\a') == NULL && strstr(desc, "owned") != NULL,
	    "error reply: control bytes in the description escaped (%s)",
	    desc);
	free(code);
	free(desc);
	/* A description of 10 KB, cut. */
	b = xmalloc(10300);
	n = (size_t)snprintf(b, 10300, "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"AADSTS70000: ");
	memset(b + n, 'x', 10000);
	n += 10000;
	memcpy(b + n, "\"}", 3);
	n += 2;
	ok(oauth2_parse_error(b, n, &code, &desc) == 0 &&
	    strlen(desc) <= OAUTH2_SHOWN_MAX + 3 &&
	    strcmp(desc + strlen(desc) - 3, "...") == 0 &&
	    strncmp(desc, "AADSTS70000", 11) == 0,
	    "error reply: a 10 KB description cut to %d bytes and \"...\"",
	    OAUTH2_SHOWN_MAX);
	free(code);
	free(desc);
	/* ... and one of escapes only, cut between escapes. */
	n = (size_t)snprintf(b, 10300, "{\"error\":\"e\","
	    "\"error_description\":\"");
	for (size_t i = 0; i < 400; i++) {
		memcpy(b + n, "\\u001b", 6);
		n += 6;
	}
	memcpy(b + n, "\"}", 3);
	n += 2;
	ok(oauth2_parse_error(b, n, &code, &desc) == 0 &&
	    strlen(desc) <= OAUTH2_SHOWN_MAX + 3 &&
	    (strlen(desc) - 3) % 4 == 0,
	    "error reply: a description of escapes cut between two of them");
	free(code);
	free(desc);
	free(b);
	cb = "{\"error\":{\"code\":400,\"message\":\"Bad request\","
	    "\"status\":\"INVALID_ARGUMENT\"}}";
	ok(oauth2_parse_error(cb, strlen(cb), &code, &desc) == 0 &&
	    strcmp(code, "INVALID_ARGUMENT") == 0 &&
	    strcmp(desc, "Bad request") == 0,
	    "error reply, Google APIs' object form");
	free(code);
	free(desc);
	ok(oauth2_parse_error("<html>", 6, &code, &desc) == -1 &&
	    code == NULL && desc == NULL, "error reply not JSON: -1");
	ok(oauth2_parse_error("{\"error\":5}", 11, &code, &desc) == -1,
	    "error reply with a numeric error: -1");
}

static void
test_device(void)
{
	static const struct { const char *name, *body; int good, interval; }
	    dc[] = {
		{ "Microsoft-like", "{\"user_code\":\"ABCD-EFGH\","
		    "\"device_code\":\"DAQABAAEAAAD\",\"verification_uri\":"
		    "\"https://microsoft.com/devicelogin\",\"expires_in\":900,"
		    "\"interval\":5,\"message\":\"To sign in...\"}", 1, 5 },
		{ "verification_url (Google)", "{\"device_code\":\"d\","
		    "\"user_code\":\"U\",\"verification_url\":"
		    "\"https://www.google.com/device\",\"expires_in\":\"1800\"}",
		    1, 5 },
		{ "interval 0 raised to 1", "{\"device_code\":\"d\","
		    "\"user_code\":\"U\",\"verification_uri\":\"https://x/\","
		    "\"expires_in\":60,\"interval\":0}", 1, 1 },
		{ "interval 1000 cut to 300", "{\"device_code\":\"d\","
		    "\"user_code\":\"U\",\"verification_uri\":\"https://x/\","
		    "\"expires_in\":60,\"interval\":1000}", 1, 300 },
		{ "http:// refused", "{\"device_code\":\"d\",\"user_code\":\"U\","
		    "\"verification_uri\":\"http://x/\",\"expires_in\":60}", 0, 0 },
		{ "URI with a space", "{\"device_code\":\"d\",\"user_code\":\"U\","
		    "\"verification_uri\":\"https://x/ y\",\"expires_in\":60}",
		    0, 0 },
		{ "no device_code", "{\"user_code\":\"U\","
		    "\"verification_uri\":\"https://x/\",\"expires_in\":60}", 0, 0 },
		{ "user_code with an escape", "{\"device_code\":\"d\","
		    "\"user_code\":\"\\u001b[2J\",\"verification_uri\":"
		    "\"https://x/\",\"expires_in\":60}", 0, 0 },
		{ "expires_in 0", "{\"device_code\":\"d\",\"user_code\":\"U\","
		    "\"verification_uri\":\"https://x/\",\"expires_in\":0}", 0, 0 },
		{ "no expires_in", "{\"device_code\":\"d\",\"user_code\":\"U\","
		    "\"verification_uri\":\"https://x/\"}", 0, 0 },
	};
	struct oauth2_device	 d;
	char			*why;
	size_t			 i;
	int			 r;

	for (i = 0; i < sizeof(dc) / sizeof(dc[0]); i++) {
		r = oauth2_parse_device(dc[i].body, strlen(dc[i].body), &d, &why);
		if (dc[i].good)
			ok(r == 0 && d.interval == dc[i].interval &&
			    strncmp(d.verification_uri, "https://", 8) == 0,
			    "device reply, %s: taken", dc[i].name);
		else
			ok(r == -1 && why != NULL && d.device_code == NULL,
			    "device reply, %s: refused", dc[i].name);
		free(why);
		oauth2_device_free(&d);
	}
}

static void
test_forms(void)
{
	const char	*kv1[] = { "a b", "c&d=e+f/g", "skip", NULL, "u",
	    "\xc3\xa9~._-", NULL };
	const char	*kv0[] = { NULL };
	const char	*kv2[] = { "x", "1", NULL };
	char		*s;

	s = oauth2_form(kv1);
	is_str(s, "a%20b=c%26d%3De%2Bf%2Fg&u=%C3%A9~._-", "form encoding");
	free(s);
	s = oauth2_url("https://h/auth", kv2);
	is_str(s, "https://h/auth?x=1", "url without a query");
	free(s);
	s = oauth2_url("https://h/auth?tenant=t", kv2);
	is_str(s, "https://h/auth?tenant=t&x=1", "url with a query");
	free(s);
	s = oauth2_url("https://h/auth?", kv2);
	is_str(s, "https://h/auth?x=1", "url ending in ?");
	free(s);
	s = oauth2_url("https://h/auth", kv0);
	is_str(s, "https://h/auth", "url with no fields");
	free(s);
}

static void
test_redirects(void)
{
	static const struct {
		const char *name, *in;
		int rv;
		const char *code, *state, *error;
	} rc[] = {
		{ "loopback request target", "/?code=4%2F0Ad&state=xyz&scope=s",
		    0, "4/0Ad", "xyz", NULL },
		{ "pasted URL with spaces around", "  http://127.0.0.1:5000/?"
		    "state=s1&code=c1\r\n", 0, "c1", "s1", NULL },
		{ "query only", "code=a+b%20c&state=s", 0, "a b c", "s", NULL },
		{ "bare code", "4/0AdQt8qh", 0, "4/0AdQt8qh", NULL, NULL },
		{ "fragment ignored", "http://x/?code=c#state=evil", 0, "c", NULL,
		    NULL },
		{ "an error", "/?error=access_denied&error_description="
		    "The+user+said+no&state=s", 0, NULL, "s", "access_denied" },
		{ "bad percent escape", "/?code=%zz", -1, NULL, NULL, NULL },
		{ "percent escape cut", "/?code=ab%4", -1, NULL, NULL, NULL },
		{ "NUL escaped", "/?code=a%00b", -1, NULL, NULL, NULL },
		{ "newline escaped", "/?code=a%0ab", -1, NULL, NULL, NULL },
		{ "code twice", "/?code=a&code=b", -1, NULL, NULL, NULL },
		{ "state twice", "/?code=a&state=1&state=2", -1, NULL, NULL,
		    NULL },
		{ "empty", "", -1, NULL, NULL, NULL },
		{ "only ?", "?", -1, NULL, NULL, NULL },
		{ "no code", "/?state=s", -1, NULL, NULL, NULL },
		{ "empty code", "/?code=&state=s", -1, NULL, NULL, NULL },
		{ "bare code with &", "a&b", -1, NULL, NULL, NULL },
	};
	char	*code, *state, *error, *desc;
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
		r = oauth2_parse_redirect(rc[i].in, &code, &state, &error, &desc);
		ok(r == rc[i].rv &&
		    (rc[i].code == NULL ? code == NULL :
		    code != NULL && strcmp(code, rc[i].code) == 0) &&
		    (rc[i].state == NULL ? state == NULL :
		    state != NULL && strcmp(state, rc[i].state) == 0) &&
		    (rc[i].error == NULL ? error == NULL :
		    error != NULL && strcmp(error, rc[i].error) == 0),
		    "redirect, %s", rc[i].name);
		free(code);
		free(state);
		free(error);
		free(desc);
	}
	r = oauth2_parse_redirect("/?error=x&error_description=%1B%5B2J",
	    &code, &state, &error, &desc);
	ok(r == 0 && desc != NULL && strchr(desc, '\033') == NULL,
	    "redirect: an escape in error_description is escaped");
	free(code);
	free(state);
	free(error);
	free(desc);
}

static void
test_pkce(void)
{
	char	 v[OAUTH2_VERIFIER_LEN + 1], c[OAUTH2_CHALLENGE_LEN + 1];
	char	 v2[OAUTH2_VERIFIER_LEN + 1], c2[OAUTH2_CHALLENGE_LEN + 1];
	char	 x[OAUTH2_CHALLENGE_LEN + 1], *s;

	oauth2_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", x);
	is_str(x, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	    "PKCE: RFC 7636 appendix B's challenge");
	oauth2_pkce(v, c);
	oauth2_pkce(v2, c2);
	ok(strlen(v) == OAUTH2_VERIFIER_LEN && strspn(v, "ABCDEFGHIJKLMNOPQRS"
	    "TUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") ==
	    OAUTH2_VERIFIER_LEN, "PKCE: a verifier of %d unreserved "
	    "characters", OAUTH2_VERIFIER_LEN);
	oauth2_pkce_challenge(v, x);
	ok(strlen(c) == OAUTH2_CHALLENGE_LEN && strcmp(c, x) == 0,
	    "PKCE: the challenge is the verifier's S256");
	ok(strcmp(v, v2) != 0, "PKCE: two verifiers differ");
	s = oauth2_random(16);
	ok(strlen(s) == 22 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789-_") == 22, "random state: 16 bytes "
	    "in base64url");
	free(s);
}

static void
test_store(void)
{
	struct oauth2_token	 t, r;
	struct pm_err		 err = { 0, NULL };
	char			 dir[] = "/tmp/pm-oauth2-XXXXXX", path[256];
	char			 tmp[300], lnk[300], *text, *why;
	struct stat		 st;
	int			 fd;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/acct.oauth2", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	memset(&t, 0, sizeof(t));
	t.access_token = xstrdup("AT/x+y");
	t.refresh_token = xstrdup("RT");
	t.scope = xstrdup("https://mail.google.com/");
	t.expires_at = 1700003600;
	t.signed_in = 1700000000;
	t.refreshed = 1700000100;
	t.client_id = xstrdup("id.apps.googleusercontent.com");
	t.token_url = xstrdup("https://oauth2.googleapis.com/token");

	ok(oauth2_store_read(path, &r, &err) == 0, "store: no file: 0");
	fd = open(tmp, O_CREAT | O_WRONLY, 0600);
	write(fd, "stale", 5);
	close(fd);
	ok(oauth2_store_write(path, &t, &err) == 0, "store: written");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "store: mode 0600");
	ok(access(tmp, F_OK) == -1, "store: the stale .tmp is gone");
	ok(oauth2_store_read(path, &r, &err) == 1 &&
	    strcmp(r.access_token, t.access_token) == 0 &&
	    strcmp(r.refresh_token, "RT") == 0 &&
	    strcmp(r.scope, t.scope) == 0 && r.expires_at == t.expires_at &&
	    r.signed_in == t.signed_in && r.refreshed == t.refreshed &&
	    r.dead == 0 && r.dead_why == NULL &&
	    strcmp(r.client_id, t.client_id) == 0 &&
	    strcmp(r.token_url, t.token_url) == 0, "store: read back whole");
	oauth2_token_free(&r);

	text = oauth2_store_format(&t);
	ok(strstr(text, "\"version\":1") != NULL ||
	    strstr(text, "\"version\": 1") != NULL, "store: version 1");
	ok(oauth2_store_parse("{\"version\":2}", 13, &r, &why) == -1,
	    "store: version 2 refused");
	free(why);
	ok(oauth2_store_parse("{\"version\":1,\"expires_at\":\"x\"}", 30, &r,
	    &why) == -1, "store: a time that is not a number refused");
	free(why);
	ok(oauth2_store_parse("{\"version\":1,\"expires_at\":-5}", 29, &r,
	    &why) == -1, "store: a negative time refused");
	free(why);
	ok(oauth2_store_parse("{\"version\":1,\"access_token\":\"a b\"}", 34,
	    &r, &why) == -1, "store: a token with a space refused");
	free(why);
	ok(oauth2_store_parse("{\"version\":1}", 13, &r, &why) == 0 &&
	    r.access_token == NULL, "store: a minimal file");
	oauth2_token_free(&r);
	free(text);

	chmod(path, 0644);
	ok(oauth2_store_read(path, &r, &err) == -1 && err.status == EX_CONFIG &&
	    strstr(err.msg, "mode 0644: run chmod 600") != NULL,
	    "store: mode 0644 refused");
	err_clear(&err);
	chmod(path, 0600);
	snprintf(lnk, sizeof(lnk), "%s/link.oauth2", dir);
	symlink(path, lnk);
	ok(oauth2_store_read(lnk, &r, &err) == -1, "store: a symlink refused");
	err_clear(&err);
	unlink(lnk);
	mkdir(lnk, 0700);
	ok(oauth2_store_read(lnk, &r, &err) == -1 && err.status == EX_IOERR,
	    "store: a directory refused");
	err_clear(&err);
	rmdir(lnk);
	fd = open(path, O_WRONLY | O_TRUNC);
	write(fd, "{\"version\":1,", 13);
	close(fd);
	ok(oauth2_store_read(path, &r, &err) == -1 &&
	    err.status == EX_DATAERR && strstr(err.msg, "damaged") != NULL,
	    "store: a damaged file: EX_DATAERR");
	err_clear(&err);

	snprintf(lnk, sizeof(lnk), "%s/absent/acct.oauth2", dir);
	ok(oauth2_store_write(lnk, &t, &err) == -1 && err.status == EX_IOERR,
	    "store: into a missing directory: EX_IOERR");
	err_clear(&err);
	snprintf(lnk, sizeof(lnk), "%s/absent", dir);
	ok(access(lnk, F_OK) == -1, "store: nothing left behind");

	unlink(path);
	rmdir(dir);
	oauth2_token_free(&t);
}

int
main(void)
{
	log_init(0, 0);
	test_tokens();
	test_errors();
	test_device();
	test_forms();
	test_redirects();
	test_pkce();
	test_store();
	return done();
}
