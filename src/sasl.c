/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Logging in: USER/PASS, APOP, and SASL (RFC 5034) with PLAIN, LOGIN,
 * CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, the server's
 * signature checked), XOAUTH2 and OAUTHBEARER (RFC 7628).
 *
 * auth = auto picks the strongest mechanism the server offers. Nothing
 * that reveals the password (USER/PASS, PLAIN, LOGIN) is sent over an
 * unencrypted connection unless allow_plaintext is set. Every secret that
 * passes through here is wiped after use.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "pullmail.h"

#define SCRAM_ITER_MAX	1000000	/* a hostile server must not make us spin */

static const char *mech_names[] = {
	"auto", "user", "apop", "plain", "login", "cram-md5", "scram-sha-1",
	"scram-sha-256", "xoauth2", "oauthbearer", "external"
};

const char *
auth_mech_name(int m)
{
	return m >= 0 && m < AUTH_NMECHS ? mech_names[m] : "?";
}

int
auth_mech_parse(const char *s)
{
	int	 i;

	for (i = 0; i < AUTH_NMECHS; i++)
		if (strcasecmp(s, mech_names[i]) == 0)
			return i;
	return -1;
}

/* Base64, allocated; the caller wipes and frees. */
char *
b64_encode(const unsigned char *in, size_t len)
{
	char	*out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, len);
	return out;
}

/* The value of a base64 digit (RFC 4648 section 4), or -1. */
int
b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode base64, strictly: SASL challenges are padded base64 (RFC 4648,
 * RFC 5034), so the length must be a multiple of 4, "=" may only end the
 * last quantum (one or two of them), and nothing outside the alphabet is
 * allowed, whitespace included; unpadded input is refused, and so are
 * non-zero bits left over in the last quantum. The empty string decodes
 * to nothing. Returns the data, NUL-terminated (*outlen excludes the
 * NUL), or NULL if malformed.
 */
unsigned char *
b64_decode(const char *in, size_t *outlen)
{
	unsigned char	*out;
	size_t		 len = strlen(in), pad = 0, i, o = 0;
	int		 v[4] = { 0, 0, 0, 0 }, j;

	if (len % 4 != 0)
		return NULL;
	if (len > 0 && in[len - 1] == '=') {
		pad++;
		if (in[len - 2] == '=')
			pad++;
	}
	out = xmalloc(len / 4 * 3 + 1);
	for (i = 0; i < len; i += 4) {
		for (j = 0; j < 4; j++) {
			if (i + j >= len - pad)
				v[j] = 0;
			else if ((v[j] = b64_digit(in[i + j])) == -1)
				goto bad;
		}
		out[o++] = v[0] << 2 | v[1] >> 4;
		out[o++] = (v[1] & 0x0f) << 4 | v[2] >> 2;
		out[o++] = (v[2] & 0x03) << 6 | v[3];
	}
	/* Bits the padding says are unused must be zero. */
	if ((pad == 2 && (v[1] & 0x0f) != 0) ||
	    (pad == 1 && (v[2] & 0x03) != 0))
		goto bad;
	o -= pad;
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	freezero(out, len / 4 * 3 + 1);
	return NULL;
}

static int
offered(const struct pop3 *p, const char *mech)
{
	const char	*s = p->sasl;
	size_t		 n = strlen(mech);

	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if (strncasecmp(s, mech, n) == 0 && (s[n] == ' ' || s[n] == '\0'))
			return 1;
		s += strcspn(s, " ");
	}
	return 0;
}

/*
 * Send a SASL response (base64 of data) and read the reply. The response
 * is registered as a secret (log_secret_add), like every one auth_cmd
 * sends: PLAIN, LOGIN and the OAuth mechanisms carry the password or token
 * in it, and a server that echoes it must not get it shown.
 */
static int
respond(struct pop3 *p, const unsigned char *data, size_t len,
    const char **challenge)
{
	char	*b = b64_encode(data, len);
	int	 r;

	log_secret_add(b);
	r = pop3_auth_step(p, b, challenge);
	freezero(b, strlen(b));
	return r;
}

/*
 * "AUTH MECH" with an optional initial response (base64 of ir; "=" when
 * ir is empty). RFC 5034 section 4: it goes on the AUTH line only if that
 * line stays within the 255 octets of a POP3 command (RFC 2449); a longer
 * one (an OAuth token of several KB) is sent on a line of its own after
 * the server's "+" continuation, as it is when twostep is set. The text of
 * that continuation is not looked at: these mechanisms start with the
 * client, and RFC 4422 has the server send an empty challenge. *inline_ir
 * (if not NULL) says whether the response went on the AUTH line. Returns
 * as pop3_auth_step does, for the server's answer to the response.
 */
static int
auth_cmd(struct pop3 *p, const char *mech, const unsigned char *ir,
    size_t irlen, int twostep, const char **challenge, int *inline_ir)
{
	char	*b, *line;
	int	 r;

	if (inline_ir != NULL)
		*inline_ir = 0;
	if (ir == NULL) {
		xasprintf(&line, "AUTH %s", mech);
		r = pop3_auth_step(p, line, challenge);
		free(line);
		return r;
	}
	b = b64_encode(ir, irlen);
	log_secret_add(b);
	if (!twostep && strlen("AUTH  ") + strlen(mech) +
	    (irlen == 0 ? 1 : strlen(b)) <= PM_CMD_MAX) {
		xasprintf(&line, "AUTH %s %s", mech, irlen == 0 ? "=" : b);
		if (inline_ir != NULL)
			*inline_ir = 1;
		r = pop3_auth_step(p, line, challenge);
		freezero(line, strlen(line));
	} else {
		xasprintf(&line, "AUTH %s", mech);
		r = pop3_auth_step(p, line, challenge);
		free(line);
		if (r == 1)
			r = pop3_auth_step(p, b, challenge);
	}
	freezero(b, strlen(b));
	return r;
}

/*
 * The end of an exchange, r as pop3_auth_step returned it: +OK is success,
 * -ERR refusal. An unexpected challenge in a SASL exchange is answered with
 * "*" (cancel) and counts as refusal if the server then says -ERR; one
 * that answers the cancel with +OK, or with yet another challenge (a
 * server that will not end the exchange), is a protocol error. USER, PASS
 * and APOP (sasl 0) are no SASL exchange: a continuation there is a
 * protocol error at once. Every -1 comes with p->err set.
 */
static int
finish(struct pop3 *p, int r, const char *mech, int sasl)
{
	const char	*c;

	if (r == 0)
		return 0;
	if (r == 1 && !sasl) {
		err_set(p->err, EX_PROTOCOL, "%s: protocol error: a SASL "
		    "continuation (\"+\") during the %s login", p->conn.host,
		    mech);
		return -1;
	}
	if (r == 1) {
		r = pop3_auth_step(p, "*", &c);
		if (r == 0)
			err_set(p->err, EX_PROTOCOL, "%s: protocol error: "
			    "login accepted after it was cancelled",
			    p->conn.host);
		else if (r == 1)
			err_set(p->err, EX_PROTOCOL, "%s: protocol error: the "
			    "server did not end the %s exchange when it was "
			    "cancelled", p->conn.host, mech);
	}
	if (r == 2)
		pop3_auth_refused(p, mech, NULL);
	return -1;
}

/*
 * After a -ERR to an initial response: whether to try once more in two
 * steps ("AUTH MECH", "+", the response). Only a -ERR without a response
 * code is retried: the server may take no initial responses (RFC 5034
 * lets a client do without them). -ERR [AUTH] and the like are refusals.
 * Microsoft 365 answers an initial response with "-ERR Protocol error.
 * Connection is closed." and closes the connection, so the second try is
 * made on a new connection, the secret registered again (closing forgets
 * it). Returns 1 to retry, 0 not to, -1 if the new connection failed
 * (p->err set).
 */
static int
retry_twostep(struct pop3 *p, const char *mech, const char *secret, int r,
    int inl)
{
	const struct account	*a = p->acct;
	struct pm_err		*err = p->err;
	int			 inspect = p->conn.inspect;

	if (r != 2 || !inl || p->resp[0] == '[')
		return 0;
	log_debug("%s: %s with an initial response refused, trying without, "
	    "on a new connection", a->name, mech);
	pop3_close(p);
	if (pop3_connect(p, a, inspect, err) == -1)
		return -1;
	log_secret_add(secret);
	return 1;
}

static int
login_user(struct pop3 *p, const char *user, const char *pass)
{
	const char	*c;
	char		*line;
	int		 r;

	xasprintf(&line, "USER %s", user);
	r = pop3_auth_step(p, line, &c);
	free(line);
	if (r != 0)
		return finish(p, r, "USER", 0);
	xasprintf(&line, "PASS %s", pass);
	r = pop3_auth_step(p, line, &c);
	freezero(line, strlen(line));
	return finish(p, r, "USER", 0);
}

static void
hex(const unsigned char *in, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
login_apop(struct pop3 *p, const char *user, const char *pass)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		*data, *line, digest[2 * EVP_MAX_MD_SIZE + 1];
	const char	*c;
	int		 r;

	if (p->apop_ts[0] == '\0') {
		err_set(p->err, EX_NOPERM, "%s: the server does not offer APOP "
		    "(no timestamp in its greeting)", p->conn.host);
		return -1;
	}
	xasprintf(&data, "%s%s", p->apop_ts, pass);
	if (EVP_Digest(data, strlen(data), md, &mdlen, EVP_md5(), NULL) != 1)
		fatalx("EVP_Digest failed");
	freezero(data, strlen(data));
	hex(md, mdlen, digest);
	xasprintf(&line, "APOP %s %s", user, digest);
	r = pop3_auth_step(p, line, &c);
	free(line);
	return finish(p, r, "APOP", 0);
}

/*
 * PLAIN: the response on the AUTH line when it fits (auth_cmd), and in two
 * steps, on a new connection, for a server that takes no initial
 * responses (retry_twostep).
 */
static int
login_plain(struct pop3 *p, const char *user, const char *pass)
{
	unsigned char	*buf;
	size_t		 ul = strlen(user), pl = strlen(pass), len = ul + pl + 2;
	const char	*c;
	int		 r, inl;

	buf = xmalloc(len);
	buf[0] = '\0';
	memcpy(buf + 1, user, ul);
	buf[ul + 1] = '\0';
	memcpy(buf + ul + 2, pass, pl);
	r = auth_cmd(p, "PLAIN", buf, len, 0, &c, &inl);
	switch (retry_twostep(p, "PLAIN", pass, r, inl)) {
	case 1:
		r = auth_cmd(p, "PLAIN", buf, len, 1, &c, NULL);
		break;
	case -1:
		freezero(buf, len);
		return -1;
	}
	freezero(buf, len);
	return finish(p, r, "PLAIN", 1);
}

static int
login_login(struct pop3 *p, const char *user, const char *pass)
{
	const char	*c;
	int		 r;

	if ((r = auth_cmd(p, "LOGIN", NULL, 0, 0, &c, NULL)) != 1)
		return finish(p, r, "LOGIN", 1);
	if ((r = respond(p, (const unsigned char *)user, strlen(user),
	    &c)) != 1)
		return finish(p, r, "LOGIN", 1);
	r = respond(p, (const unsigned char *)pass, strlen(pass), &c);
	return finish(p, r, "LOGIN", 1);
}

static int
login_cram(struct pop3 *p, const char *user, const char *pass)
{
	unsigned char	*chal, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	size_t		 clen;
	char		*resp, digest[2 * EVP_MAX_MD_SIZE + 1];
	const char	*c;
	int		 r;

	if ((r = auth_cmd(p, "CRAM-MD5", NULL, 0, 0, &c, NULL)) != 1)
		return finish(p, r, "CRAM-MD5", 1);
	if ((chal = b64_decode(c, &clen)) == NULL) {
		err_set(p->err, EX_PROTOCOL, "%s: protocol error: bad CRAM-MD5 "
		    "challenge", p->conn.host);
		return -1;
	}
	if (HMAC(EVP_md5(), pass, strlen(pass), chal, clen, md, &mdlen) == NULL)
		fatalx("HMAC failed");
	free(chal);
	hex(md, mdlen, digest);
	xasprintf(&resp, "%s %s", user, digest);
	r = respond(p, (unsigned char *)resp, strlen(resp), &c);
	free(resp);
	return finish(p, r, "CRAM-MD5", 1);
}

/* The value of attribute "k=" in a SCRAM message, or NULL. */
static char *
scram_attr(const char *msg, char k)
{
	const char	*s = msg, *e;

	while (*s != '\0') {
		if (s[0] == k && s[1] == '=') {
			e = strchr(s, ',');
			return xstrndup(s + 2, e ? (size_t)(e - s - 2) :
			    strlen(s + 2));
		}
		if ((s = strchr(s, ',')) == NULL)
			break;
		s++;
	}
	return NULL;
}

/*
 * SCRAM (RFC 5802), without channel binding. The server must prove it
 * knows the password too: its final signature is checked.
 */
static int
login_scram(struct pop3 *p, const char *user, const char *pass,
    const EVP_MD *md, const char *mech)
{
	unsigned char	 cn[18], salted[EVP_MAX_MD_SIZE], ckey[EVP_MAX_MD_SIZE];
	unsigned char	 skey[EVP_MAX_MD_SIZE], stored[EVP_MAX_MD_SIZE];
	unsigned char	 csig[EVP_MAX_MD_SIZE], ssig[EVP_MAX_MD_SIZE];
	unsigned char	 proof[EVP_MAX_MD_SIZE], *salt = NULL, *sfinal = NULL;
	unsigned int	 hl = EVP_MD_get_size(md), l;
	size_t		 saltlen, sflen, i;
	char		*cnonce = NULL, *first = NULL, *sfirst = NULL;
	char		*nonce = NULL, *s64 = NULL, *it = NULL, *final = NULL;
	char		*auth = NULL, *p64 = NULL, *v = NULL, *name, *q;
	const char	*c, *errstr;
	unsigned char	*dec = NULL;
	long long	 iter;
	int		 r, rv = -1;

	/* The user name, with ',' and '=' escaped as SCRAM asks. */
	name = xmalloc(strlen(user) * 3 + 1);
	for (q = name; *user != '\0'; user++) {
		if (*user == ',')
			q += sprintf(q, "=2C");
		else if (*user == '=')
			q += sprintf(q, "=3D");
		else
			*q++ = *user;
	}
	*q = '\0';
	if (RAND_bytes(cn, sizeof(cn)) != 1)
		fatalx("RAND_bytes failed");
	cnonce = b64_encode(cn, sizeof(cn));
	xasprintf(&first, "n=%s,r=%s", name, cnonce);
	{
		char *gs2;

		xasprintf(&gs2, "n,,%s", first);
		r = auth_cmd(p, mech, (unsigned char *)gs2, strlen(gs2), 0,
		    &c, NULL);
		free(gs2);
	}
	if (r == 0) {
		/* Logged in before any proof: anyone could say +OK. */
		err_set(p->err, EX_NOPERM, "%s: %s: the server accepted the "
		    "login before proving it knows the password", p->conn.host,
		    mech);
		goto out;
	}
	if (r != 1) {
		rv = finish(p, r, mech, 1);
		goto out;
	}
	if ((dec = b64_decode(c, &sflen)) == NULL ||
	    memchr(dec, '\0', sflen) != NULL)
		goto bad;
	sfirst = (char *)dec;
	dec = NULL;
	nonce = scram_attr(sfirst, 'r');
	s64 = scram_attr(sfirst, 's');
	it = scram_attr(sfirst, 'i');
	if (nonce == NULL || s64 == NULL || it == NULL ||
	    strncmp(nonce, cnonce, strlen(cnonce)) != 0 ||
	    strlen(nonce) == strlen(cnonce) ||
	    (salt = b64_decode(s64, &saltlen)) == NULL)
		goto bad;
	iter = strtonum(it, 1, SCRAM_ITER_MAX, &errstr);
	if (errstr != NULL)
		goto bad;
	if (PKCS5_PBKDF2_HMAC(pass, strlen(pass), salt, saltlen, iter, md, hl,
	    salted) != 1)
		fatalx("PBKDF2 failed");
	HMAC(md, salted, hl, (const unsigned char *)"Client Key", 10, ckey, &l);
	HMAC(md, salted, hl, (const unsigned char *)"Server Key", 10, skey, &l);
	EVP_Digest(ckey, hl, stored, &l, md, NULL);
	xasprintf(&final, "c=biws,r=%s", nonce);
	xasprintf(&auth, "%s,%s,%s", first, sfirst, final);
	HMAC(md, stored, hl, (unsigned char *)auth, strlen(auth), csig, &l);
	HMAC(md, skey, hl, (unsigned char *)auth, strlen(auth), ssig, &l);
	for (i = 0; i < hl; i++)
		proof[i] = ckey[i] ^ csig[i];
	p64 = b64_encode(proof, hl);
	{
		char *msg;

		xasprintf(&msg, "%s,p=%s", final, p64);
		r = respond(p, (unsigned char *)msg, strlen(msg), &c);
		freezero(msg, strlen(msg));
	}
	if (r != 1) {
		/* +OK without the server's proof is not good enough. */
		if (r == 0) {
			err_set(p->err, EX_NOPERM, "%s: %s: the server did not "
			    "prove it knows the password", p->conn.host, mech);
			goto out;
		}
		rv = finish(p, r, mech, 1);
		goto out;
	}
	if ((sfinal = b64_decode(c, &sflen)) == NULL ||
	    (v = scram_attr((char *)sfinal, 'v')) == NULL) {
		r = pop3_auth_step(p, "*", &c);
		goto bad;
	}
	{
		char *want = b64_encode(ssig, hl);
		int same = strcmp(want, v) == 0;

		free(want);
		if (!same) {
			err_set(p->err, EX_NOPERM, "%s: %s: the server's "
			    "signature is wrong (is this the real server?)",
			    p->conn.host, mech);
			pop3_auth_step(p, "*", &c);
			goto out;
		}
	}
	r = pop3_auth_step(p, "", &c);
	rv = finish(p, r, mech, 1);
	goto out;
bad:
	err_set(p->err, EX_PROTOCOL, "%s: protocol error: malformed %s "
	    "message from the server", p->conn.host, mech);
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(ckey, sizeof(ckey));
	explicit_bzero(skey, sizeof(skey));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(proof, sizeof(proof));
	free(name);
	free(cnonce);
	free(first);
	free(sfirst);
	free(nonce);
	free(s64);
	free(it);
	free(salt);
	free(final);
	free(auth);
	free(p64);
	free(v);
	free(sfinal);
	free(dec);
	return rv;
}

/*
 * XOAUTH2 and OAUTHBEARER with an access token. A short token goes on the
 * AUTH line (Gmail wants it there), a long one (Microsoft 365's are
 * several KB) after a "+" continuation: see auth_cmd. A server that
 * refuses the token on the AUTH line with a bare -ERR (no response code:
 * it may not take initial responses) is asked once more in the other
 * form, on a new connection (retry_twostep); -ERR [AUTH] is a refusal,
 * never retried. A challenge after the
 * token carries the server's JSON error: it is acknowledged (an empty
 * line for XOAUTH2, "AQ==" for OAUTHBEARER, RFC 7628 section 3.2.3) and
 * reported with the -ERR that follows.
 */
static int
login_oauth(struct pop3 *p, const char *user, const char *token, int bearer)
{
	const char	*mech = bearer ? "OAUTHBEARER" : "XOAUTH2", *c;
	char		*msg, *json = NULL, *why = NULL;
	unsigned char	*dec;
	size_t		 dlen;
	int		 r, inl;

	if (bearer)
		xasprintf(&msg, "n,a=%s,\001host=%s\001port=%s\001auth=Bearer "
		    "%s\001\001", user, p->acct->host, p->acct->port, token);
	else
		xasprintf(&msg, "user=%s\001auth=Bearer %s\001\001", user,
		    token);
	r = auth_cmd(p, mech, (unsigned char *)msg, strlen(msg), 0, &c, &inl);
	switch (retry_twostep(p, mech, token, r, inl)) {
	case 1:
		r = auth_cmd(p, mech, (unsigned char *)msg, strlen(msg), 1,
		    &c, NULL);
		break;
	case -1:
		freezero(msg, strlen(msg));
		return -1;
	}
	freezero(msg, strlen(msg));
	if (r == 1) {
		/* An error challenge: keep its JSON, acknowledge. */
		if ((dec = b64_decode(c, &dlen)) == NULL) {
			if (pop3_auth_step(p, "*", &c) != -1)
				err_set(p->err, EX_PROTOCOL, "%s: protocol "
				    "error: malformed %s error challenge (not "
				    "base64)", p->conn.host, mech);
			return -1;
		}
		json = log_vis((char *)dec, dlen > 300 ? 300 : dlen);
		free(dec);
		r = pop3_auth_step(p, bearer ? "AQ==" : "", &c);
		if (r == 1) {
			if (pop3_auth_step(p, "*", &c) != -1)
				err_set(p->err, EX_PROTOCOL, "%s: protocol "
				    "error: %s exchange did not end",
				    p->conn.host, mech);
			free(json);
			return -1;
		}
	}
	if (r == 0) {
		free(json);
		return 0;
	}
	if (r == 2) {
		if (json != NULL && *json != '\0')
			xasprintf(&why, "(%s)", json);
		pop3_auth_refused(p, mech, why);
	}
	free(json);
	free(why);
	return -1;
}

/* Choose the mechanism for auth = auto: the strongest offered. */
static int
choose(const struct pop3 *p, int encrypted)
{
	/*
	 * An OAuth2 account has a bearer token, not a password: the
	 * standard mechanism if offered, else Google's and Microsoft's
	 * (which they also speak when CAPA does not list it).
	 */
	if (p->acct->oauth2 != NULL) {
		if (!encrypted)
			return -1;
		return offered(p, "OAUTHBEARER") ? AUTH_OAUTHBEARER :
		    AUTH_XOAUTH2;
	}
	if (offered(p, "SCRAM-SHA-256"))
		return AUTH_SCRAM256;
	if (offered(p, "SCRAM-SHA-1"))
		return AUTH_SCRAM1;
	if (offered(p, "CRAM-MD5"))
		return AUTH_CRAM;
	if (!encrypted)
		return -1;
	if (offered(p, "PLAIN"))
		return AUTH_PLAIN;
	if (offered(p, "LOGIN"))
		return AUTH_LOGIN;
	return AUTH_USER;
}

/* Log in with the account's mechanism; *mp says which one it was. */
static int
login(struct pop3 *p, const char *secret, int *mp)
{
	const struct account	*a = p->acct;
	int			 encrypted = p->conn.ssl != NULL;
	int			 m = a->auth;

	if (m == AUTH_AUTO) {
		m = choose(p, encrypted || a->allow_plaintext);
		if (m == -1) {
			err_set(p->err, EX_CONFIG, "refusing to send the "
			    "%s over an unencrypted connection%s (use tls "
			    "= starttls or implicit, or set allow_plaintext = "
			    "yes)", a->oauth2 != NULL ? "token" : "password",
			    a->oauth2 != NULL ? "" : ", and the server offers "
			    "no mechanism that hides it");
			return -1;
		}
	}
	if ((m == AUTH_USER || m == AUTH_PLAIN || m == AUTH_LOGIN ||
	    m == AUTH_XOAUTH2 || m == AUTH_OAUTHBEARER) && !encrypted &&
	    !a->allow_plaintext) {
		err_set(p->err, EX_CONFIG, "refusing to send the %s over an "
		    "unencrypted connection (use tls = starttls or implicit, "
		    "or set allow_plaintext = yes)", m == AUTH_XOAUTH2 ||
		    m == AUTH_OAUTHBEARER ? "token" : "password");
		return -1;
	}
	*mp = m;
	log_debug("%s: logging in with %s", a->name, auth_mech_name(m));
	switch (m) {
	case AUTH_USER:
		return login_user(p, a->user, secret);
	case AUTH_APOP:
		return login_apop(p, a->user, secret);
	case AUTH_PLAIN:
		return login_plain(p, a->user, secret);
	case AUTH_LOGIN:
		return login_login(p, a->user, secret);
	case AUTH_CRAM:
		return login_cram(p, a->user, secret);
	case AUTH_SCRAM1:
		return login_scram(p, a->user, secret, EVP_sha1(),
		    "SCRAM-SHA-1");
	case AUTH_SCRAM256:
		return login_scram(p, a->user, secret, EVP_sha256(),
		    "SCRAM-SHA-256");
	case AUTH_XOAUTH2:
		return login_oauth(p, a->user, secret, 0);
	case AUTH_OAUTHBEARER:
		return login_oauth(p, a->user, secret, 1);
	case AUTH_EXTERNAL: {
		const char *c;
		return finish(p, auth_cmd(p, "EXTERNAL", (unsigned char *)"",
		    0, 0, &c, NULL), "EXTERNAL", 1);
	}
	}
	fatalx("auth_login: mechanism %d", m);
}

/*
 * Log in: 0 when the server accepted the login, else -1 with p->err set.
 * A failure that set no error would end the account with status 0, as if
 * the login had worked and the mailbox were empty: whatever path forgot
 * its error, the failure is reported here as the bug it is.
 *
 * The secret (password or token; NULL for EXTERNAL) and the SASL responses
 * made of it become the session's registered secrets (log_secret_add), so
 * that no server text shown from now on can reveal them; the end of the
 * session (pop3_close) forgets them.
 */
int
auth_login(struct pop3 *p, const char *secret)
{
	int	 m = p->acct->auth, r;

	log_secret_clear();
	if (secret != NULL)
		log_secret_add(secret);
	r = login(p, secret, &m);
	if (r != 0 && p->err->status == 0) {
		err_set(p->err, EX_SOFTWARE, "internal error: the %s login "
		    "failed without saying why", auth_mech_name(m));
		r = -1;
	}
	return r;
}
