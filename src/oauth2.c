/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * OAuth2 built in: signing in once (--authorize) and keeping the tokens
 * fresh by itself.
 *
 * Signing in takes one of three flows: the device code (RFC 8628: the user
 * enters a code on the provider's page, from any device, while pullmail
 * polls the token endpoint), the authorization code with PKCE (RFC 7636)
 * and a loopback redirect to 127.0.0.1 on a random port (RFC 8252, what
 * Google's desktop clients must use), or paste-back: the same URL opened
 * on another machine, whose browser ends on an address that does not load
 * there; the user pastes it (or the code) back. The browser flow reads
 * stdin too, so a pasted address works there as well.
 *
 * The tokens live in STATEDIR/ACCOUNT.oauth2 (oauth2-util.c: JSON, 0600,
 * replaced atomically). A refresh holds STATEDIR/ACCOUNT.oauth2.lock, so
 * two pullmail processes never spend one refresh token twice: the second
 * finds the first's fresh token on reading the file again under the lock.
 * A rotated refresh token is saved before the access token is used.
 *
 * Statuses: EX_NOPERM when the user must sign in again (no tokens, or a
 * refresh refused with invalid_grant, recorded in the file so that later
 * runs say so at once instead of asking the token endpoint again),
 * EX_CONFIG when the provider refuses the client, EX_TEMPFAIL when the
 * token endpoint cannot be reached or fails for now (the tokens are kept
 * as they were), EX_PROTOCOL for a reply that makes no sense.
 *
 * HTTPS goes through libcurl, verified (certificate and host name; the
 * account's oauth2_ca_file, else the system's CAs), https:// only, without
 * redirects. No token or secret reaches a message, a trace or argv: -vv
 * shows each request's URL and form field names, and the reply's status.
 */

#include "config.h"

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pullmail.h"

static char	*config_given;	/* -C FILE, for the commands we suggest */

/* The configuration named with -C, repeated in the commands suggested. */
void
oauth2_set_config(const char *path)
{
	free(config_given);
	config_given = NULL;
	/* Quoted for the shell if it needs it (and can be). */
	if (path != NULL)
		xasprintf(&config_given, "pullmail -C %s%s%s",
		    strpbrk(path, " \t\"$`\\;&|<>()*?[]#~!{}") != NULL &&
		    strchr(path, '\'') == NULL ? "'" : "", path,
		    strpbrk(path, " \t\"$`\\;&|<>()*?[]#~!{}") != NULL &&
		    strchr(path, '\'') == NULL ? "'" : "");
}

static const char *
cmd(void)
{
	return config_given != NULL ? config_given : "pullmail";
}

#define REFRESH_MARGIN	300	/* refresh when fewer seconds are left */
#define UNKNOWN_LIFE	3000	/* an access token's life, if not said */
#define WAIT_BROWSER	900	/* seconds the browser flows wait */
#define REQUEST_MAX	8192	/* the loopback redirect's request */

struct http_reply {
	long	 status;
	char	*body;
	size_t	 len;
	int	 toolong;
};

static size_t
http_sink(char *data, size_t size, size_t n, void *arg)
{
	struct http_reply	*r = arg;
	size_t			 len = size * n;

	if (len > OAUTH2_BODY_MAX - r->len) {
		r->toolong = 1;
		return 0;
	}
	r->body = xreallocarray(r->body, r->len + len + 1, 1);
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* libcurl's progress callback: a SIGTERM or SIGINT ends the transfer. */
static int
http_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	return fetch_stop ? 1 : 0;
}

static void
http_reply_free(struct http_reply *r)
{
	if (r->body != NULL)
		freezero(r->body, r->len + 1);
	memset(r, 0, sizeof(*r));
}

/* The host of an https:// URL, for messages. */
static void
url_host(const char *url, char *buf, size_t len)
{
	const char	*h = url, *e;

	if (strncasecmp(h, "https://", 8) == 0)
		h += 8;
	e = h + strcspn(h, "/?#");
	snprintf(buf, len, "%.*s", (int)(e - h), h);
}

/*
 * POST a form to an endpoint; *r holds the reply's status and body. -1 with
 * err set when there was no reply (what = "token endpoint" etc.).
 * The names of the form's fields, for the trace, are in names (the values
 * are never shown).
 */
static int
http_post(const struct account *a, const char *what, const char *url,
    const char *form, const char *names, struct http_reply *r,
    struct pm_err *err)
{
	static int		 inited;
	CURL			*c;
	CURLcode		 cc;
	struct curl_slist	*hdrs = NULL;
	char			 ebuf[CURL_ERROR_SIZE], host[256], *v;
	int			 rv = -1;

	memset(r, 0, sizeof(*r));
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			fatalx("curl_global_init failed");
		inited = 1;
	}
	url_host(url, host, sizeof(host));
	log_debug("%s: https> POST %s (%s)", a->name, url, names);
	if ((c = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	ebuf[0] = '\0';
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (a->oauth2_ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, a->oauth2_ca_file);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)a->timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)a->timeout);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		log_debug("%s: https< %ld (%zu bytes)", a->name, r->status,
		    r->len);
		rv = 0;
		goto out;
	}
	v = log_vis(ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc),
	    strlen(ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc)));
	if (r->toolong)
		err_set(err, EX_PROTOCOL, "the %s %s sent a reply longer "
		    "than %d bytes", what, host, OAUTH2_BODY_MAX);
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		err_set(err, EX_TEMPFAIL, "stopped while asking the %s %s",
		    what, host);
	else if (cc == CURLE_PEER_FAILED_VERIFICATION)
		err_set(err, EX_NOPERM, "the %s %s: certificate not "
		    "accepted: %s", what, host, v);
	else if (cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_UNSUPPORTED_PROTOCOL)
		err_set(err, EX_CONFIG, "the %s %s: %s", what, host, v);
	else
		err_set(err, EX_TEMPFAIL, "the %s %s cannot be reached: %s "
		    "(the tokens are kept; try again later)", what, host, v);
	free(v);
	http_reply_free(r);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rv;
}

static char *
token_path(const char *statedir, const char *name, const char *suffix)
{
	char	*p;

	xasprintf(&p, "%s/%s.oauth2%s", statedir, name, suffix);
	return p;
}

/*
 * The lock serializing refreshes and sign-ins of one account (held until
 * the descriptor is closed); waits for another pullmail holding it.
 */
static int
token_lock(const char *statedir, const char *name, struct pm_err *err)
{
	char	*path = token_path(statedir, name, ".lock");
	int	 fd;

	if (mkdir_p(statedir, 0700) == -1) {
		err_set(err, EX_IOERR, "%s: %s", statedir, strerror(errno));
		free(path);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(err, EX_IOERR, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR || fetch_stop) {
			err_set(err, errno == EINTR ? EX_TEMPFAIL : EX_IOERR,
			    "%s: %s", path, errno == EINTR ? "stopped while "
			    "waiting for another pullmail's refresh" :
			    strerror(errno));
			close(fd);
			free(path);
			return -1;
		}
	}
	free(path);
	return fd;
}

/* The client's credentials in a form: id, and the secret if there is one. */
#define CLIENT(a)	"client_id", (a)->oauth2_client_id, \
	"client_secret", (a)->oauth2_client_secret

static const char *
grant_names(const struct account *a, const char *grant)
{
	static char	 buf[256];

	snprintf(buf, sizeof(buf), "grant_type=%s, client_id%s, ...", grant,
	    a->oauth2_client_secret != NULL ? ", client_secret=***" : "");
	return buf;
}

/*
 * A token endpoint's refusal as an error. invalid_grant is set as
 * EX_NOPERM with the words "sign-in" for the caller to record; *code
 * (if not NULL) gets the error code, for the device flow's polling.
 */
static void
endpoint_error(const struct account *a, const char *what,
    const char *url, const struct http_reply *r, char **codep,
    struct pm_err *err)
{
	char	 host[256], why[512];
	char	*code = NULL, *desc = NULL;

	url_host(url, host, sizeof(host));
	if (codep != NULL)
		*codep = NULL;
	if (oauth2_parse_error(r->body != NULL ? r->body : "", r->len, &code,
	    &desc) == -1) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		if (r->status >= 500 || r->status == 429 || r->status == 408)
			err_set(err, EX_TEMPFAIL, "the %s %s failed for now "
			    "(%s; the tokens are kept; try again later)", what,
			    host, why);
		else
			err_set(err, EX_PROTOCOL, "the %s %s answered %s "
			    "without an OAuth2 error", what, host, why);
		return;
	}
	snprintf(why, sizeof(why), "%s%s%s", code, desc != NULL ? ": " : "",
	    desc != NULL ? desc : "");
	if (strcmp(code, "invalid_grant") == 0)
		err_set(err, EX_NOPERM, "OAuth2 sign-in no longer valid (%s): "
		    "run %s --authorize %s", why, cmd(), a->name);
	else if (strcmp(code, "invalid_client") == 0 ||
	    strcmp(code, "unauthorized_client") == 0)
		err_set(err, EX_CONFIG, "the %s %s refused the client (%s): "
		    "check oauth2_client_id and oauth2_client_secret", what,
		    host, why);
	else if (strcmp(code, "invalid_scope") == 0)
		err_set(err, EX_CONFIG, "the %s %s refused the scope (%s): "
		    "check oauth2_scope", what, host, why);
	else if (strcmp(code, "temporarily_unavailable") == 0 ||
	    strcmp(code, "server_error") == 0 || r->status >= 500 ||
	    r->status == 429)
		err_set(err, EX_TEMPFAIL, "the %s %s failed for now (%s; the "
		    "tokens are kept; try again later)", what, host, why);
	else if (strcmp(code, "access_denied") == 0)
		err_set(err, EX_NOPERM, "the sign-in was declined (%s)", why);
	else
		err_set(err, EX_PROTOCOL, "the %s %s refused the request (%s)",
		    what, host, why);
	if (codep != NULL)
		*codep = code;
	else
		free(code);
	free(desc);
}

/*
 * A success: 200 without an OAuth2 error in it (some servers answer a
 * pending device code or a refusal with 200 and {"error": ...}).
 */
static int
reply_ok(const struct http_reply *r)
{
	char	*code, *desc;

	if (r->status != 200)
		return 0;
	if (oauth2_parse_error(r->body != NULL ? r->body : "", r->len, &code,
	    &desc) == -1)
		return 1;
	free(code);
	free(desc);
	return 0;
}

/* A fresh token from the endpoint's reply: what t becomes. */
static int
take_tokens(const struct account *a, const struct http_reply *r,
    struct oauth2_token *t, struct pm_err *err)
{
	char	*why = NULL, host[256];

	if (oauth2_parse_token(r->body != NULL ? r->body : "", r->len,
	    time(NULL), t, &why) == -1) {
		url_host(a->oauth2_token_url, host, sizeof(host));
		err_set(err, EX_PROTOCOL, "the token endpoint %s: %s", host,
		    why);
		free(why);
		return -1;
	}
	return 0;
}

static int
access_valid(const struct oauth2_token *t, time_t now)
{
	time_t	 end = t->expires_at;

	if (t->access_token == NULL)
		return 0;
	if (end == 0)
		end = (t->refreshed ? t->refreshed : t->signed_in) +
		    UNKNOWN_LIFE;
	return end - REFRESH_MARGIN > now;
}

static int
same(const char *x, const char *y)
{
	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* Save t, which the caller has read and changed under the lock. */
static int
save(const char *path, const struct oauth2_token *t, struct pm_err *err)
{
	return oauth2_store_write(path, t, err);
}

/*
 * The refresh (under the lock): t, read from path, gets new tokens, saved
 * before they are used. invalid_grant is recorded as the sign-in's end.
 */
static int
refresh(const struct account *a, const char *path, struct oauth2_token *t,
    struct pm_err *err)
{
	struct oauth2_token	 n;
	struct http_reply	 r;
	const char		*kv[] = { "grant_type", "refresh_token",
	    "refresh_token", t->refresh_token, "scope", a->oauth2_scope,
	    CLIENT(a), NULL };
	char			*form;
	int			 rv = -1;

	memset(&n, 0, sizeof(n));
	form = oauth2_form(kv);
	if (http_post(a, "token endpoint", a->oauth2_token_url, form,
	    grant_names(a, "refresh_token"), &r, err) == -1) {
		freezero_str(form);
		return -1;
	}
	freezero_str(form);
	if (!reply_ok(&r)) {
		endpoint_error(a, "token endpoint", a->oauth2_token_url, &r,
		    NULL, err);
		if (err->status == EX_NOPERM) {
			/* Said once here, then by every run at once. */
			t->dead = time(NULL);
			free(t->dead_why);
			t->dead_why = xstrdup(err->msg);
			(void)save(path, t, err);
		}
		goto out;
	}
	if (take_tokens(a, &r, &n, err) == -1)
		goto out;
	/* A provider that does not rotate sends no new refresh token. */
	if (n.refresh_token == NULL) {
		n.refresh_token = t->refresh_token;
		t->refresh_token = NULL;
	}
	if (n.scope == NULL && t->scope != NULL)
		n.scope = xstrdup(t->scope);
	n.signed_in = t->signed_in;
	n.refreshed = time(NULL);
	n.client_id = xstrdup(a->oauth2_client_id);
	n.token_url = xstrdup(a->oauth2_token_url);
	if (save(path, &n, err) == -1) {
		/*
		 * The new refresh token could not be kept: the old one may
		 * still work (providers that rotate keep it until the new
		 * one is used), and the new one is not used here either.
		 */
		oauth2_token_free(&n);
		goto out;
	}
	log_info("%s: OAuth2 access token refreshed", a->name);
	oauth2_token_free(t);
	*t = n;
	rv = 0;
out:
	http_reply_free(&r);
	return rv;
}

/*
 * Why this account's saved tokens cannot give an access token without a
 * new sign-in, as an error; 0 if they can.
 */
static int
unusable(const struct account *a, const char *path,
    const struct oauth2_token *t, int found, struct pm_err *err)
{
	if (!found) {
		err_set(err, EX_NOPERM, "not signed in with OAuth2: run "
		    "%s --authorize %s", cmd(), a->name);
		return -1;
	}
	if (t->dead != 0) {
		err_set(err, EX_NOPERM, "%s", t->dead_why != NULL ? t->dead_why :
		    "OAuth2 sign-in no longer valid");
		return -1;
	}
	if (!same(t->client_id, a->oauth2_client_id) ||
	    !same(t->token_url, a->oauth2_token_url)) {
		err_set(err, EX_NOPERM, "the OAuth2 tokens in %s were issued to "
		    "another client or by another endpoint than the "
		    "configuration names: run %s --authorize %s", path,
		    cmd(), a->name);
		return -1;
	}
	return 0;
}

/*
 * The access token for a login, allocated to its size (the caller wipes it
 * with freezero_str). Refreshed first when it expires within
 * REFRESH_MARGIN seconds, or when it is the one in refused (the server
 * refused the login with it); a token another pullmail refreshed meanwhile
 * is simply taken.
 */
char *
oauth2_access_token(const struct account *a, const char *statedir,
    const char *refused, struct pm_err *err)
{
	struct oauth2_token	 t;
	char			*path, *tok = NULL;
	int			 fd = -1, found;

	memset(&t, 0, sizeof(t));
	path = token_path(statedir, a->name, "");
	if ((found = oauth2_store_read(path, &t, err)) == -1)
		goto out;
	if (unusable(a, path, &t, found, err) == -1)
		goto out;
	if (access_valid(&t, time(NULL)) && !same(t.access_token, refused))
		goto have;
	/* Under the lock, the file again: another run may have refreshed. */
	oauth2_token_free(&t);
	if ((fd = token_lock(statedir, a->name, err)) == -1)
		goto out;
	if ((found = oauth2_store_read(path, &t, err)) == -1 ||
	    unusable(a, path, &t, found, err) == -1)
		goto out;
	if (access_valid(&t, time(NULL)) && !same(t.access_token, refused))
		goto have;
	if (t.refresh_token == NULL) {
		err_set(err, EX_NOPERM, "the OAuth2 access token has expired "
		    "and the provider gave no refresh token%s: run %s "
		    "--authorize %s", strcasecmp(a->oauth2, "microsoft") == 0 ?
		    " (is offline_access in oauth2_scope?)" : "", cmd(),
		    a->name);
		goto out;
	}
	if (refresh(a, path, &t, err) == -1)
		goto out;
have:
	tok = xstrdup(t.access_token);
out:
	if (fd != -1)
		close(fd);
	oauth2_token_free(&t);
	free(path);
	return tok;
}

/* Sleep up to secs seconds; -1 if stopped (SIGTERM, SIGINT). */
static int
nap(int secs)
{
	int	 i;

	for (i = 0; i < secs * 10; i++) {
		if (fetch_stop)
			return -1;
		poll(NULL, 0, 100);
	}
	return fetch_stop ? -1 : 0;
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What --authorize tells the person signing in: stdout, at once. */
static void
say(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* RFC 8628: the device code flow. */
static int
flow_device(const struct account *a, struct oauth2_token *t,
    struct pm_err *err)
{
	struct oauth2_device	 d;
	struct http_reply	 r;
	const char		*kv[] = { "scope", a->oauth2_scope, CLIENT(a),
	    NULL };
	char			*form, *why = NULL, *code, *u, *c;
	time_t			 end;
	int			 interval, rv = -1;

	memset(&d, 0, sizeof(d));
	form = oauth2_form(kv);
	if (http_post(a, "device authorization endpoint",
	    a->oauth2_device_url, form, "scope, client_id", &r, err) == -1) {
		freezero_str(form);
		return -1;
	}
	freezero_str(form);
	if (!reply_ok(&r)) {
		endpoint_error(a, "device authorization endpoint",
		    a->oauth2_device_url, &r, NULL, err);
		http_reply_free(&r);
		return -1;
	}
	if (oauth2_parse_device(r.body != NULL ? r.body : "", r.len, &d,
	    &why) == -1) {
		err_set(err, EX_PROTOCOL, "the device authorization "
		    "endpoint: %s", why);
		free(why);
		http_reply_free(&r);
		return -1;
	}
	http_reply_free(&r);
	u = log_vis(d.verification_uri, strlen(d.verification_uri));
	c = log_vis(d.user_code, strlen(d.user_code));
	say("To sign in %s, open %s\nand enter the code %s (it is valid for "
	    "%d minute%s).\n", a->name, u, c, (d.expires_in + 59) / 60,
	    d.expires_in > 60 ? "s" : "");
	free(u);
	free(c);
	if (d.verification_uri_complete != NULL) {
		u = log_vis(d.verification_uri_complete,
		    strlen(d.verification_uri_complete));
		say("Or open %s, which has the code in it.\n", u);
		free(u);
	}
	say("Waiting for the sign-in...\n");
	end = time(NULL) + d.expires_in;
	interval = d.interval;
	for (;;) {
		const char *pv[] = { "grant_type",
		    "urn:ietf:params:oauth:grant-type:device_code",
		    "device_code", d.device_code, CLIENT(a), NULL };

		if (nap(interval) == -1) {
			err_set(err, EX_TEMPFAIL, "stopped before the sign-in "
			    "was done");
			break;
		}
		if (time(NULL) >= end) {
			err_set(err, EX_TEMPFAIL, "the code expired before the "
			    "sign-in was done: run %s --authorize %s "
			    "again", cmd(), a->name);
			break;
		}
		form = oauth2_form(pv);
		if (http_post(a, "token endpoint", a->oauth2_token_url, form,
		    grant_names(a, "device_code"), &r, err) == -1) {
			freezero_str(form);
			break;
		}
		freezero_str(form);
		if (reply_ok(&r)) {
			rv = take_tokens(a, &r, t, err);
			http_reply_free(&r);
			break;
		}
		endpoint_error(a, "token endpoint", a->oauth2_token_url, &r,
		    &code, err);
		http_reply_free(&r);
		if (code != NULL && (strcmp(code, "authorization_pending") ==
		    0 || strcmp(code, "slow_down") == 0)) {
			/* RFC 8628 3.5: slow_down adds 5 seconds for good. */
			if (strcmp(code, "slow_down") == 0)
				interval += 5;
			free(code);
			err_clear(err);
			continue;
		}
		if (code != NULL && strcmp(code, "expired_token") == 0) {
			err_clear(err);
			err_set(err, EX_TEMPFAIL, "the code expired before the "
			    "sign-in was done: run %s --authorize %s "
			    "again", cmd(), a->name);
		}
		free(code);
		break;
	}
	oauth2_device_free(&d);
	return rv;
}

/* The loopback listener: 127.0.0.1, a port the kernel chooses. */
static int
listen_loopback(int *portp, struct pm_err *err)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		err_set(err, EX_OSERR, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		err_set(err, EX_OSERR, "listening on 127.0.0.1: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	*portp = ntohs(sin.sin_port);
	return fd;
}

/* The page the browser shows after the redirect. */
static void
answer(int fd, int status, const char *text)
{
	char	 buf[1024];
	int	 n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, status == 200 ? "OK" :
	    status == 404 ? "Not Found" : "Bad Request",
	    strlen(text), text);
	if (n > 0)
		(void)write_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

#define PAGE(s)	"<!DOCTYPE html><html><head><title>pullmail</title></head>" \
	"<body><p>" s "</p></body></html>\n"

/*
 * One connection to the listener: its request target, with *fdp the
 * connection to answer on, if it is a GET of the redirect path; else NULL
 * (after answering and closing).
 */
static char *
read_request(int lfd, int *fdp)
{
	char	 buf[REQUEST_MAX + 1], *sp, *end;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	*fdp = -1;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return NULL;
	while (len < REQUEST_MAX) {
		if (conn_poll(fd, POLLIN, 10000) != CW_READY)
			break;
		if ((n = read(fd, buf + len, REQUEST_MAX - len)) <= 0)
			break;
		len += n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			break;
	}
	buf[len] = '\0';
	if (strncmp(buf, "GET /?", 6) == 0 && (sp = strchr(buf + 4, ' ')) !=
	    NULL && (end = strchr(buf, '\n')) != NULL && sp < end &&
	    strncmp(sp, " HTTP/1.", 8) == 0) {
		*fdp = fd;
		return xstrndup(buf + 4, sp - (buf + 4));
	}
	answer(fd, 404, PAGE("Not here."));
	close(fd);
	return NULL;
}

/*
 * What came back (a redirect's target or a pasted line): 1 with *code
 * set, 0 to wait on (reason said), -1 with err set (the user declined).
 */
static int
consider(const struct account *a, const char *input, const char *state,
    char **codep, int *fdp, struct pm_err *err)
{
	char	*code, *st, *e, *ed;
	int	 rv = 0;

	if (oauth2_parse_redirect(input, &code, &st, &e, &ed) == -1) {
		say("That is not an address with a code in it (nor a code): "
		    "try again.\n");
		if (fdp != NULL && *fdp != -1)
			answer(*fdp, 400, PAGE("pullmail: no code in this "
			    "address."));
		return 0;
	}
	if (e != NULL) {
		err_set(err, EX_NOPERM, "the sign-in was declined (%s%s%s)", e,
		    ed != NULL ? ": " : "", ed != NULL ? ed : "");
		if (fdp != NULL && *fdp != -1)
			answer(*fdp, 200, PAGE("pullmail: the sign-in was "
			    "declined. You may close this window."));
		rv = -1;
	} else if ((st != NULL || fdp != NULL) &&
	    (st == NULL || strcmp(st, state) != 0)) {
		/* A bare pasted code has no state to check; all else must. */
		say("Ignored an answer whose state does not match this "
		    "sign-in (an old browser tab?); waiting on.\n");
		if (fdp != NULL && *fdp != -1)
			answer(*fdp, 400, PAGE("pullmail: this answer does not "
			    "belong to the sign-in in progress."));
	} else {
		*codep = code;
		code = NULL;
		if (fdp != NULL && *fdp != -1)
			answer(*fdp, 200, PAGE("pullmail: signed in. You may "
			    "close this window."));
		rv = 1;
	}
	if (code != NULL)
		freezero_str(code);
	free(st);
	free(e);
	free(ed);
	return rv;
}

/*
 * The authorization code with PKCE: browser (a loopback listener, and
 * stdin) or paste (stdin only; the redirect then fails to load, and the
 * user copies the address).
 */
static int
flow_browser(const struct account *a, struct oauth2_token *t, int listen,
    struct pm_err *err)
{
	char		 verifier[OAUTH2_VERIFIER_LEN + 1];
	char		 challenge[OAUTH2_CHALLENGE_LEN + 1];
	char		 redirect[64], line[8192];
	char		*state, *url, *code = NULL, *form;
	struct http_reply r;
	struct pollfd	 pfd[2];
	time_t		 end;
	int		 lfd, port, stdin_open = 1, rv = -1, got = 0;
	int		 google = strcasecmp(a->oauth2, "google") == 0;
	size_t		 ll = 0;

	if (a->oauth2_auth_url == NULL) {
		err_set(err, EX_CONFIG, "oauth2_auth_url: not set, which the "
		    "%s flow needs (or use --flow device)", listen ?
		    "browser" : "paste");
		return -1;
	}
	if ((lfd = listen_loopback(&port, err)) == -1)
		return -1;
	if (!listen) {
		/* A browser here gets "connection refused" at once. */
		close(lfd);
		lfd = -1;
	}
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/", port);
	oauth2_pkce(verifier, challenge);
	state = oauth2_random(16);
	{
		const char *kv[] = { "response_type", "code",
		    "client_id", a->oauth2_client_id, "redirect_uri", redirect,
		    "scope", a->oauth2_scope, "state", state,
		    "code_challenge", challenge,
		    "code_challenge_method", "S256",
		    /* Google: a refresh token, every time. */
		    "access_type", google ? "offline" : NULL,
		    "prompt", google ? "consent" : NULL, NULL };

		url = oauth2_url(a->oauth2_auth_url, kv);
	}
	say("To sign in %s, open this address in a browser:\n\n%s\n\n", a->name,
	    url);
	if (listen)
		say("Waiting for the browser to come back to %s.\nIf the "
		    "browser is on another machine, its last page will not "
		    "load: paste its address here and press Enter.\n",
		    redirect);
	else
		say("After signing in, the browser's last page will not load: "
		    "paste its address (or the code) here and press Enter.\n");
	free(url);
	end = time(NULL) + WAIT_BROWSER;
	while (!got) {
		int n, nfds = 0, fd = -1;

		if (fetch_stop || time(NULL) >= end) {
			err_set(err, EX_TEMPFAIL, fetch_stop ? "stopped before "
			    "the sign-in was done" : "no sign-in came back in "
			    "%d minutes: run %s --authorize %s again",
			    WAIT_BROWSER / 60, cmd(), a->name);
			goto out;
		}
		if (lfd != -1) {
			pfd[nfds].fd = lfd;
			pfd[nfds++].events = POLLIN;
		}
		if (stdin_open) {
			pfd[nfds].fd = STDIN_FILENO;
			pfd[nfds++].events = POLLIN;
		}
		if (nfds == 0) {
			err_set(err, EX_USAGE, "nothing to read the answer "
			    "from: standard input is closed");
			goto out;
		}
		if ((n = poll(pfd, nfds, 1000)) <= 0)
			continue;
		if (lfd != -1 && (pfd[0].revents & POLLIN)) {
			char *req = read_request(lfd, &fd);

			if (req == NULL)
				continue;
			got = consider(a, req, state, &code, &fd, err);
			close(fd);
			freezero_str(req);
			if (got == -1)
				goto out;
			continue;
		}
		if (stdin_open && (pfd[nfds - 1].revents & (POLLIN | POLLHUP))) {
			ssize_t k = read(STDIN_FILENO, line + ll,
			    sizeof(line) - 1 - ll);
			char *nl;

			if (k <= 0) {
				stdin_open = 0;
				if (ll == 0)
					continue;
				k = 0;
				line[ll++] = '\n';
			}
			ll += k;
			line[ll] = '\0';
			while ((nl = memchr(line, '\n', ll)) != NULL && !got) {
				*nl = '\0';
				if (line[strspn(line, " \t\r")] != '\0')
					got = consider(a, line, state, &code,
					    NULL, err);
				ll -= nl + 1 - line;
				memmove(line, nl + 1, ll + 1);
			}
			if (got == -1)
				goto out;
			if (ll == sizeof(line) - 1)
				ll = 0;
		}
	}
	{
		const char *kv[] = { "grant_type", "authorization_code",
		    "code", code, "redirect_uri", redirect,
		    "code_verifier", verifier, CLIENT(a), NULL };

		form = oauth2_form(kv);
	}
	if (http_post(a, "token endpoint", a->oauth2_token_url, form,
	    grant_names(a, "authorization_code"), &r, err) == -1) {
		freezero_str(form);
		goto out;
	}
	freezero_str(form);
	if (reply_ok(&r))
		rv = take_tokens(a, &r, t, err);
	else {
		char *ec;

		endpoint_error(a, "token endpoint", a->oauth2_token_url, &r,
		    &ec, err);
		if (ec != NULL && strcmp(ec, "invalid_grant") == 0) {
			/* Here it is the code that was refused. */
			err_clear(err);
			err_set(err, EX_NOPERM, "the token endpoint refused the "
			    "code (invalid_grant): run %s --authorize %s "
			    "again", cmd(), a->name);
		}
		free(ec);
	}
	http_reply_free(&r);
out:
	explicit_bzero(line, sizeof(line));
	explicit_bzero(verifier, sizeof(verifier));
	if (code != NULL)
		freezero_str(code);
	free(state);
	if (lfd != -1)
		close(lfd);
	return rv < 0 ? -1 : 0;
}

/*
 * --authorize: sign in by the flow asked for (NULL: device where the
 * provider has it, else browser) and save the tokens. The exit status.
 */
int
oauth2_authorize(const struct account *a, const char *statedir,
    const char *flow)
{
	struct oauth2_token	 t;
	struct pm_err		 err = { 0, NULL };
	char			*path = NULL;
	int			 fd = -1, status = 0, rv;

	memset(&t, 0, sizeof(t));
	if (a->oauth2 == NULL) {
		err_set(&err, EX_USAGE, "not an OAuth2 account (set oauth2 = "
		    "google, microsoft or custom: see pullmail.conf(5))");
		goto out;
	}
	if (flow == NULL)
		flow = a->oauth2_device_url != NULL ? "device" : "browser";
	if (strcmp(flow, "device") == 0 && a->oauth2_device_url == NULL) {
		err_set(&err, EX_CONFIG, "oauth2_device_url: not set, which "
		    "the device flow needs%s", strcasecmp(a->oauth2,
		    "google") == 0 ? " (Google offers no device flow for "
		    "mail: use --flow browser or paste)" : "");
		goto out;
	}
	if (mkdir_p(statedir, 0700) == -1) {
		err_set(&err, EX_IOERR, "%s: %s", statedir, strerror(errno));
		goto out;
	}
	path = token_path(statedir, a->name, "");
	if (strcmp(flow, "device") == 0)
		rv = flow_device(a, &t, &err);
	else
		rv = flow_browser(a, &t, strcmp(flow, "browser") == 0, &err);
	if (rv == -1)
		goto out;
	t.signed_in = time(NULL);
	t.client_id = xstrdup(a->oauth2_client_id);
	t.token_url = xstrdup(a->oauth2_token_url);
	/*
	 * The lock only for saving: a fetch from cron while the user signs
	 * in (minutes) is not kept waiting; it finds the old tokens, or the
	 * new ones once saved.
	 */
	if ((fd = token_lock(statedir, a->name, &err)) == -1 ||
	    save(path, &t, &err) == -1)
		goto out;
	say("%s: signed in; tokens saved to %s\n", a->name, path);
	if (t.refresh_token == NULL)
		log_warnx("%s: the provider gave no refresh token: the sign-in "
		    "lasts until the access token expires%s", a->name,
		    strcasecmp(a->oauth2, "microsoft") == 0 ? " (put "
		    "offline_access in oauth2_scope)" : "");
out:
	if (err.status != 0) {
		log_warnx("%s: %s", a->name, err.msg);
		status = err.status;
		err_clear(&err);
	}
	if (fd != -1)
		close(fd);
	oauth2_token_free(&t);
	free(path);
	return status;
}

/* "5 min", "3 h", "2 days": a span for people. */
static void
span(time_t s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%lld s", (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%lld min", (long long)s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lld h", (long long)s / 3600);
	else
		snprintf(buf, len, "%lld days", (long long)s / 86400);
}

/*
 * The state of the account's sign-in, for -c and --serverinfo: one line
 * into buf (empty for an account without oauth2).
 */
void
oauth2_describe(const struct account *a, const char *statedir, char *buf,
    size_t len)
{
	struct oauth2_token	 t;
	struct pm_err		 err = { 0, NULL };
	char			*path, when[64], left[32];
	time_t			 now = time(NULL);
	int			 found;

	buf[0] = '\0';
	if (a->oauth2 == NULL)
		return;
	memset(&t, 0, sizeof(t));
	path = token_path(statedir, a->name, "");
	found = oauth2_store_read(path, &t, &err);
	if (found == -1)
		snprintf(buf, len, "%s", err.msg);
	else if (found == 0)
		snprintf(buf, len, "not signed in: run %s --authorize %s",
		    cmd(), a->name);
	else if (t.dead != 0) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M",
		    localtime(&t.dead));
		snprintf(buf, len, "sign-in no longer valid since %s: run "
		    "%s --authorize %s", when, cmd(), a->name);
	} else {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M",
		    localtime(&t.signed_in));
		if (t.expires_at > now)
			span(t.expires_at - now, left, sizeof(left));
		snprintf(buf, len, "signed in %s; access token %s%s%s; %s",
		    when, t.expires_at == 0 ? "of unknown life" :
		    t.expires_at > now ? "valid for " : "expired",
		    t.expires_at > now ? left : "",
		    t.expires_at > now || t.expires_at == 0 ? "" :
		    " (refreshed at the next login)",
		    t.refresh_token != NULL ? "refresh token saved" :
		    "no refresh token");
	}
	err_clear(&err);
	oauth2_token_free(&t);
	free(path);
}
