/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * The parts of OAuth2 that need no network: the token endpoint's JSON
 * (json-c, with a depth limit; a body is never trusted to be text), forms
 * and URLs, the address a browser was redirected to, PKCE, and the token
 * file. See pullmail.h for the interface.
 *
 * json-c keeps its own copies of the strings it parses and prints; they are
 * freed (not wiped) with the object, promptly. Everything of ours that held
 * a token is wiped.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pullmail.h"

#define JSON_DEPTH	16
#define TEN_YEARS	(10LL * 366 * 86400)

/* The body as one JSON object, or NULL. */
static json_object *
parse_object(const char *body, size_t len)
{
	json_tokener	*tok;
	json_object	*o;
	size_t		 end, i;

	if (len == 0 || len > OAUTH2_BODY_MAX || memchr(body, '\0', len))
		return NULL;
	if ((tok = json_tokener_new_ex(JSON_DEPTH)) == NULL)
		fatalx("json_tokener_new_ex failed");
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		/* A bare number at the end is "continue": not an object. */
		json_object_put(o);
		o = NULL;
	} else {
		end = json_tokener_get_parse_end(tok);
		for (i = end; i < len; i++)
			if (body[i] != ' ' && body[i] != '\t' &&
			    body[i] != '\r' && body[i] != '\n')
				break;
		if (i < len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/*
 * Member key of o as a string: 1 found (*sp, *lenp), 0 absent (or null),
 * -1 of another type.
 */
static int
get_string(json_object *o, const char *key, const char **sp, size_t *lenp)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*sp = json_object_get_string(v);
	*lenp = (size_t)json_object_get_string_len(v);
	return 1;
}

/* 1..max bytes, each one lo..0x7e. */
static int
bytes_ok(const char *s, size_t len, size_t max, unsigned char lo)
{
	size_t	 i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* A token: 1..PM_PASS_MAX bytes 0x21..0x7e (no space, CR, LF: SASL-safe). */
#define token_ok(s, len)	bytes_ok((s), (len), PM_PASS_MAX, 0x21)
/* Printable ASCII, spaces allowed, 1..max bytes. */
#define text_ok(s, len, max)	bytes_ok((s), (len), (max), 0x20)

/*
 * A number of seconds, sent as a JSON integer or a string of digits:
 * 1 found (*out), 0 absent, -1 wrong.
 */
static int
get_seconds(json_object *o, const char *key, long long *out)
{
	json_object	*v;
	const char	*s;
	long long	 n = 0;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		n = json_object_get_int64(v);
		if (errno != 0 && n == INT64_MAX)
			n = TEN_YEARS;
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
			return -1;
		for (; *s != '\0'; s++) {
			n = n * 10 + (*s - '0');
			if (n > TEN_YEARS) {
				n = TEN_YEARS;
				break;
			}
		}
	} else
		return -1;
	if (n < 0)
		return -1;
	*out = n > TEN_YEARS ? TEN_YEARS : n;
	return 1;
}

static char *
dup_wipeable(const char *s, size_t len)
{
	return xstrndup(s, len);
}

void
oauth2_token_free(struct oauth2_token *t)
{
	if (t->access_token != NULL)
		freezero_str(t->access_token);
	if (t->refresh_token != NULL)
		freezero_str(t->refresh_token);
	free(t->scope);
	free(t->dead_why);
	free(t->client_id);
	free(t->token_url);
	memset(t, 0, sizeof(*t));
}

void
oauth2_device_free(struct oauth2_device *d)
{
	if (d->device_code != NULL)
		freezero_str(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
}

static int
fail(char **why, const char *msg)
{
	*why = xstrdup(msg);
	return -1;
}

int
oauth2_parse_token(const char *body, size_t len, time_t now,
    struct oauth2_token *t, char **why)
{
	json_object	*o;
	const char	*s;
	size_t		 sl;
	long long	 secs;
	int		 r, rv = -1;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	if ((o = parse_object(body, len)) == NULL)
		return fail(why, "its reply is not a JSON object");
	if ((r = get_string(o, "access_token", &s, &sl)) != 1) {
		fail(why, r == 0 ? "its reply has no access_token" :
		    "its reply's access_token is not a string");
		goto out;
	}
	if (!token_ok(s, sl)) {
		fail(why, "the access token it sent holds bytes a login "
		    "cannot carry (or is empty, or too long)");
		goto out;
	}
	t->access_token = dup_wipeable(s, sl);
	if ((r = get_string(o, "token_type", &s, &sl)) == -1 ||
	    (r == 1 && (sl != 6 || strncasecmp(s, "bearer", 6) != 0))) {
		fail(why, "the token it sent is not of type Bearer");
		goto out;
	}
	if ((r = get_seconds(o, "expires_in", &secs)) == -1) {
		fail(why, "its reply's expires_in is not a number of seconds");
		goto out;
	}
	if (r == 1)
		t->expires_at = now + (time_t)secs;
	if ((r = get_string(o, "refresh_token", &s, &sl)) == -1 ||
	    (r == 1 && !token_ok(s, sl))) {
		fail(why, "the refresh token it sent holds bytes that cannot "
		    "be kept (or is empty, or too long)");
		goto out;
	}
	if (r == 1)
		t->refresh_token = dup_wipeable(s, sl);
	if ((r = get_string(o, "scope", &s, &sl)) == -1 ||
	    (r == 1 && sl > 0 && !text_ok(s, sl, 4096))) {
		fail(why, "its reply's scope is not printable text");
		goto out;
	}
	if (r == 1 && sl > 0)
		t->scope = xstrndup(s, sl);
	rv = 0;
out:
	json_object_put(o);
	if (rv == -1)
		oauth2_token_free(t);
	return rv;
}

/* Server text for a message: escaped, cut to OAUTH2_SHOWN_MAX. */
static char *
shown(const char *s, size_t len)
{
	char	*v, *out;
	size_t	 n = len, vl;

	/* Cut the raw text, so that no escape sequence is cut in two. */
	for (;;) {
		v = log_vis(s, n);
		vl = strlen(v);
		if (vl <= OAUTH2_SHOWN_MAX || n == 0)
			break;
		free(v);
		n = n > 16 && vl > OAUTH2_SHOWN_MAX + 64 ?
		    n * OAUTH2_SHOWN_MAX / vl : n - 1;
	}
	if (n == len)
		return v;
	xasprintf(&out, "%s...", v);
	free(v);
	return out;
}

int
oauth2_parse_error(const char *body, size_t len, char **code, char **desc)
{
	json_object	*o, *e;
	const char	*s;
	size_t		 sl;

	*code = *desc = NULL;
	if ((o = parse_object(body, len)) == NULL)
		return -1;
	if (get_string(o, "error", &s, &sl) == 1 && sl > 0) {
		*code = shown(s, sl);
		if (get_string(o, "error_description", &s, &sl) == 1 && sl > 0)
			*desc = shown(s, sl);
	} else if (json_object_object_get_ex(o, "error", &e) && e != NULL &&
	    json_object_is_type(e, json_type_object)) {
		/* Google APIs: {"error": {"code", "message", "status"}}. */
		if (get_string(e, "status", &s, &sl) == 1 && sl > 0)
			*code = shown(s, sl);
		else
			*code = xstrdup("error");
		if (get_string(e, "message", &s, &sl) == 1 && sl > 0)
			*desc = shown(s, sl);
	}
	json_object_put(o);
	return *code != NULL ? 0 : -1;
}

static int
https_ok(const char *s, size_t len)
{
	return len > 8 && strncasecmp(s, "https://", 8) == 0 &&
	    text_ok(s, len, 2048) && memchr(s, ' ', len) == NULL;
}

int
oauth2_parse_device(const char *body, size_t len, struct oauth2_device *d,
    char **why)
{
	json_object	*o;
	const char	*s;
	size_t		 sl;
	long long	 n;
	int		 r, rv = -1;

	memset(d, 0, sizeof(*d));
	*why = NULL;
	if ((o = parse_object(body, len)) == NULL)
		return fail(why, "its reply is not a JSON object");
	if (get_string(o, "device_code", &s, &sl) != 1 || !token_ok(s, sl)) {
		fail(why, "its reply has no usable device_code");
		goto out;
	}
	d->device_code = dup_wipeable(s, sl);
	if (get_string(o, "user_code", &s, &sl) != 1 || !text_ok(s, sl, 64)) {
		fail(why, "its reply has no usable user_code");
		goto out;
	}
	d->user_code = xstrndup(s, sl);
	if ((r = get_string(o, "verification_uri", &s, &sl)) == 0)
		r = get_string(o, "verification_url", &s, &sl);
	if (r != 1 || !https_ok(s, sl)) {
		fail(why, "its reply has no https:// verification_uri");
		goto out;
	}
	d->verification_uri = xstrndup(s, sl);
	if ((r = get_string(o, "verification_uri_complete", &s, &sl)) == -1 ||
	    (r == 1 && !https_ok(s, sl))) {
		fail(why, "its reply's verification_uri_complete is not an "
		    "https:// URL");
		goto out;
	}
	if (r == 1)
		d->verification_uri_complete = xstrndup(s, sl);
	if (get_seconds(o, "expires_in", &n) != 1 || n < 1 || n > 86400) {
		fail(why, "its reply has no expires_in of 1 to 86400 seconds");
		goto out;
	}
	d->expires_in = (int)n;
	if ((r = get_seconds(o, "interval", &n)) == -1) {
		fail(why, "its reply's interval is not a number of seconds");
		goto out;
	}
	d->interval = r == 0 ? 5 : n < 1 ? 1 : n > 300 ? 300 : (int)n;
	rv = 0;
out:
	json_object_put(o);
	if (rv == -1)
		oauth2_device_free(d);
	return rv;
}

/* Append s percent-encoded (all but ALPHA DIGIT - . _ ~) to *bufp. */
static void
encode(char **bufp, size_t *lenp, size_t *sizep, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 need = strlen(s) * 3 + 1;
	unsigned char c;

	if (*lenp + need > *sizep) {
		*sizep = (*lenp + need) * 2;
		*bufp = xreallocarray(*bufp, *sizep, 1);
	}
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			(*bufp)[(*lenp)++] = c;
		else {
			(*bufp)[(*lenp)++] = '%';
			(*bufp)[(*lenp)++] = hex[c >> 4];
			(*bufp)[(*lenp)++] = hex[c & 15];
		}
	}
	(*bufp)[*lenp] = '\0';
}

static void
append(char **bufp, size_t *lenp, size_t *sizep, const char *s)
{
	size_t	 n = strlen(s);

	if (*lenp + n + 1 > *sizep) {
		*sizep = (*lenp + n + 1) * 2;
		*bufp = xreallocarray(*bufp, *sizep, 1);
	}
	memcpy(*bufp + *lenp, s, n + 1);
	*lenp += n;
}

char *
oauth2_form(const char *const *kv)
{
	char	*buf;
	size_t	 len = 0, size = 256, i;

	buf = xmalloc(size);
	buf[0] = '\0';
	for (i = 0; kv[i] != NULL; i += 2) {
		if (kv[i + 1] == NULL)
			continue;
		if (len > 0)
			append(&buf, &len, &size, "&");
		encode(&buf, &len, &size, kv[i]);
		append(&buf, &len, &size, "=");
		encode(&buf, &len, &size, kv[i + 1]);
	}
	return buf;
}

char *
oauth2_url(const char *base, const char *const *kv)
{
	char	*form = oauth2_form(kv), *url;
	size_t	 bl = strlen(base);
	const char *sep;

	if (*form == '\0') {
		free(form);
		return xstrdup(base);
	}
	if (strchr(base, '?') == NULL)
		sep = "?";
	else if (bl > 0 && (base[bl - 1] == '?' || base[bl - 1] == '&'))
		sep = "";
	else
		sep = "&";
	xasprintf(&url, "%s%s%s", base, sep, form);
	free(form);
	return url;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) ('+' a space): NULL if malformed, or (strict)
 * if it holds a control byte. Not strict: such bytes are kept (for text
 * that is escaped before it is shown).
 */
static char *
decode(const char *s, size_t len, int strict)
{
	char	*out = xmalloc(len + 1);
	size_t	 i, n = 0;
	int	 hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= len ||
			    (hi = hexval((unsigned char)s[i + 1])) == -1 ||
			    (lo = hexval((unsigned char)s[i + 2])) == -1) {
				freezero(out, len + 1);
				return NULL;
			}
			c = hi << 4 | lo;
			i += 2;
		}
		if ((c < 0x20 || c == 0x7f) && (strict || c == 0)) {
			freezero(out, len + 1);
			return NULL;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return out;
}

int
oauth2_parse_redirect(const char *input, char **code, char **state,
    char **error, char **error_desc)
{
	const char	*s, *e, *q, *qe, *p, *amp, *eq;
	char		*v, **slot;
	size_t		 nl;

	*code = *state = *error = *error_desc = NULL;
	s = input;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	if (e == s)
		return -1;
	if ((q = memchr(s, '?', e - s)) != NULL) {
		q++;
		qe = memchr(q, '#', e - q);
		if (qe == NULL)
			qe = e;
	} else if (memchr(s, '=', e - s) != NULL) {
		q = s;
		qe = e;
	} else {
		/* A bare code. */
		size_t	 i;

		if (e - s > 4096)
			return -1;
		for (i = 0; s + i < e; i++)
			if ((unsigned char)s[i] < 0x21 ||
			    (unsigned char)s[i] > 0x7e || s[i] == '&')
				return -1;
		*code = xstrndup(s, e - s);
		return 0;
	}
	for (p = q; p < qe; p = amp + 1) {
		if ((amp = memchr(p, '&', qe - p)) == NULL)
			amp = qe;
		if ((eq = memchr(p, '=', amp - p)) == NULL)
			eq = amp;
		nl = eq - p;
		slot = NULL;
		if (nl == 4 && memcmp(p, "code", 4) == 0)
			slot = code;
		else if (nl == 5 && memcmp(p, "state", 5) == 0)
			slot = state;
		else if (nl == 5 && memcmp(p, "error", 5) == 0)
			slot = error;
		else if (nl == 17 && memcmp(p, "error_description", 17) == 0)
			slot = error_desc;
		if (slot != NULL) {
			if (*slot != NULL)
				goto bad;
			v = decode(eq < amp ? eq + 1 : amp, eq < amp ?
			    (size_t)(amp - eq - 1) : 0, slot == code ||
			    slot == state);
			if (v == NULL)
				goto bad;
			if (slot == error || slot == error_desc) {
				*slot = shown(v, strlen(v));
				free(v);
			} else
				*slot = v;
		}
		if (amp == qe)
			break;
	}
	if ((*code != NULL && **code != '\0') || *error != NULL)
		return 0;
bad:
	if (*code != NULL)
		freezero_str(*code);
	free(*state);
	free(*error);
	free(*error_desc);
	*code = *state = *error = *error_desc = NULL;
	return -1;
}

static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t	 i, o = 0;
	unsigned int v;

	for (i = 0; i + 2 < n; i += 3) {
		v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		v = in[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		v = in[i] << 16 | in[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
}

static void
random_bytes(unsigned char *buf, size_t n)
{
	if (RAND_bytes(buf, (int)n) != 1)
		fatalx("RAND_bytes failed");
}

void
oauth2_pkce_challenge(const char *verifier,
    char challenge[OAUTH2_CHALLENGE_LEN + 1])
{
	unsigned char	 md[32];
	unsigned int	 mdlen = sizeof(md);

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		fatalx("EVP_Digest failed");
	b64url(md, sizeof(md), challenge);
}

void
oauth2_pkce(char verifier[OAUTH2_VERIFIER_LEN + 1],
    char challenge[OAUTH2_CHALLENGE_LEN + 1])
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-._~";
	unsigned char	 b;
	size_t		 n = 0;

	/* 66 characters: bytes of 198 and above are drawn again. */
	while (n < OAUTH2_VERIFIER_LEN) {
		random_bytes(&b, 1);
		if (b < 198)
			verifier[n++] = set[b % 66];
	}
	verifier[n] = '\0';
	oauth2_pkce_challenge(verifier, challenge);
}

char *
oauth2_random(size_t n)
{
	unsigned char	*b = xmalloc(n);
	char		*s = xmalloc(n * 4 / 3 + 4);

	random_bytes(b, n);
	b64url(b, n, s);
	free(b);
	return s;
}

static void
put_str(json_object *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, key, json_object_new_string(v));
}

static void
put_time(json_object *o, const char *key, time_t v)
{
	if (v != 0)
		json_object_object_add(o, key, json_object_new_int64(v));
}

char *
oauth2_store_format(const struct oauth2_token *t)
{
	json_object	*o = json_object_new_object();
	char		*text;

	json_object_object_add(o, "version", json_object_new_int(1));
	put_str(o, "access_token", t->access_token);
	put_str(o, "refresh_token", t->refresh_token);
	put_str(o, "scope", t->scope);
	put_time(o, "expires_at", t->expires_at);
	put_time(o, "signed_in", t->signed_in);
	put_time(o, "refreshed", t->refreshed);
	put_time(o, "dead", t->dead);
	put_str(o, "dead_why", t->dead_why);
	put_str(o, "client_id", t->client_id);
	put_str(o, "token_url", t->token_url);
	xasprintf(&text, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* A time member: 1 (*out), 0 absent, -1 not a whole number >= 0. */
static int
get_time(json_object *o, const char *key, time_t *out)
{
	json_object	*v;
	int64_t		 n;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	if ((n = json_object_get_int64(v)) < 0)
		return -1;
	*out = (time_t)n;
	return 1;
}

int
oauth2_store_parse(const char *text, size_t len, struct oauth2_token *t,
    char **why)
{
	static const struct { const char *key; size_t off; int tok; } strs[] = {
		{ "access_token", offsetof(struct oauth2_token, access_token), 1 },
		{ "refresh_token", offsetof(struct oauth2_token, refresh_token), 1 },
		{ "scope", offsetof(struct oauth2_token, scope), 0 },
		{ "dead_why", offsetof(struct oauth2_token, dead_why), 0 },
		{ "client_id", offsetof(struct oauth2_token, client_id), 0 },
		{ "token_url", offsetof(struct oauth2_token, token_url), 0 },
	};
	static const struct { const char *key; size_t off; } times[] = {
		{ "expires_at", offsetof(struct oauth2_token, expires_at) },
		{ "signed_in", offsetof(struct oauth2_token, signed_in) },
		{ "refreshed", offsetof(struct oauth2_token, refreshed) },
		{ "dead", offsetof(struct oauth2_token, dead) },
	};
	json_object	*o, *v;
	const char	*s;
	size_t		 sl, i;
	int		 r, rv = -1;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	if ((o = parse_object(text, len)) == NULL)
		return fail(why, "not a JSON object");
	if (!json_object_object_get_ex(o, "version", &v) || v == NULL ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != 1) {
		fail(why, "not version 1 of the token file");
		goto out;
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if ((r = get_string(o, strs[i].key, &s, &sl)) == 0)
			continue;
		if (r == -1 || (strs[i].tok ? !token_ok(s, sl) :
		    !text_ok(s, sl, 4096))) {
			xasprintf(why, "%s is not valid", strs[i].key);
			goto out;
		}
		*(char **)((char *)t + strs[i].off) = xstrndup(s, sl);
	}
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if (get_time(o, times[i].key, (time_t *)((char *)t +
		    times[i].off)) == -1) {
			xasprintf(why, "%s is not a time", times[i].key);
			goto out;
		}
	rv = 0;
out:
	json_object_put(o);
	if (rv == -1)
		oauth2_token_free(t);
	return rv;
}

int
oauth2_store_read(const char *path, struct oauth2_token *t,
    struct pm_err *err)
{
	struct stat	 st;
	char		*buf = NULL, *why = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rv = -1;

	memset(t, 0, sizeof(*t));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		err_set(err, errno == ELOOP ? EX_CONFIG : EX_IOERR, "%s: %s",
		    path, errno == ELOOP ? "a symbolic link: the token file "
		    "must be a regular file" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		err_set(err, EX_IOERR, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, EX_IOERR, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		err_set(err, EX_CONFIG, "%s: holds OAuth2 tokens but is owned "
		    "by uid %u, not you (uid %u)", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		err_set(err, EX_CONFIG, "%s: holds OAuth2 tokens but is mode "
		    "%04o: run chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size > OAUTH2_BODY_MAX) {
		err_set(err, EX_DATAERR, "%s: damaged (larger than %d bytes)",
		    path, OAUTH2_BODY_MAX);
		goto out;
	}
	buf = xmalloc(OAUTH2_BODY_MAX + 1);
	while (len < OAUTH2_BODY_MAX &&
	    (n = read(fd, buf + len, OAUTH2_BODY_MAX - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, EX_IOERR, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += n;
	}
	if (oauth2_store_parse(buf, len, t, &why) == -1) {
		err_set(err, EX_DATAERR, "%s: damaged (%s)", path, why);
		free(why);
		goto out;
	}
	rv = 1;
out:
	if (buf != NULL)
		freezero(buf, OAUTH2_BODY_MAX + 1);
	close(fd);
	return rv;
}

int
oauth2_store_write(const char *path, const struct oauth2_token *t,
    struct pm_err *err)
{
	char	*tmp, *text;
	int	 fd, saved;

	text = oauth2_store_format(t);
	xasprintf(&tmp, "%s.tmp", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 || write_all(fd, text, strlen(text)) == -1 ||
	    fsync(fd) == -1 || close(fd) == -1 || (fd = -1,
	    rename(tmp, path) == -1) || fsync_parent(path) == -1) {
		saved = errno;
		if (fd != -1)
			close(fd);
		(void)unlink(tmp);
		err_set(err, EX_IOERR, "%s: %s (the tokens could not be "
		    "saved)", path, strerror(saved));
		freezero_str(text);
		free(tmp);
		return -1;
	}
	freezero_str(text);
	free(tmp);
	return 0;
}
