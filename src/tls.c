/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * TLS on an open connection: TLS 1.2 or later, the system trust store plus
 * the account's ca_file, SNI, and the certificate checked against the host
 * name (or IP address). A failed check names OpenSSL's reason and is an
 * EX_NOPERM failure: nothing is fetched.
 */

#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "pullmail.h"

static int
is_ip_literal(const char *host)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static int
tls_wait(struct conn *c, int e, struct pm_err *err)
{
	switch (conn_poll(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
	    c->timeout_ms)) {
	case CW_READY:
		return 0;
	case CW_TIMEOUT:
		err_set(err, EX_TEMPFAIL, "%s: TLS handshake timed out after "
		    "%d seconds", c->host, c->timeout_ms / 1000);
		break;
	case CW_STOPPED:
		err_set(err, EX_TEMPFAIL, "%s: stopped by a signal during the "
		    "TLS handshake", c->host);
		break;
	case CW_ERROR:
		err_set(err, EX_OSERR, "poll: %s", strerror(errno));
		break;
	}
	return -1;
}

/*
 * With a pinned fingerprint (or for --serverinfo), the chain is not judged
 * by OpenSSL: the pin is checked, by us, right after the handshake and
 * before anything is sent. The verification result is still recorded.
 */
static int
accept_for_pin(int preverify, X509_STORE_CTX *x)
{
	return 1;
}

/*
 * The system trust store is OpenSSL's default: the hashed directory
 * (SSL_CERT_DIR, else X509_get_default_cert_dir(): /usr/lib/ssl/certs ->
 * /etc/ssl/certs on Debian), looked up by subject hash when needed, and
 * the bundle file (SSL_CERT_FILE, else X509_get_default_cert_file():
 * ca-certificates.crt), which SSL_CTX_set_default_verify_paths parses
 * whole, some 140 certificates, several ms of CPU per account, though a
 * distribution's bundle holds what its directory holds. So the directory
 * comes first and the file is loaded only when a verification fails
 * without it; the chain is then verified again, with everything, and
 * that verdict stands: what fails now failed before, with the same
 * reason, and what passes chains up to a CA of the same store.
 */
static void
system_store(X509_STORE *st)
{
	X509_LOOKUP	*lu;

	if ((lu = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir())) != NULL)
		X509_LOOKUP_add_dir(lu, NULL, X509_FILETYPE_DEFAULT);
	/* As X509_STORE_set_default_paths does: the directory as a store. */
	if ((lu = X509_STORE_add_lookup(st, X509_LOOKUP_store())) != NULL)
		X509_LOOKUP_add_store(lu, NULL);
	ERR_clear_error();
}

/*
 * The certificate verification of the handshake (SSL_CTX_set_cert_verify_
 * callback), in place of X509_verify_cert: on a failure, load the system
 * CA file and verify again. The second verification runs in a context of
 * its own, set up as libssl sets up x, and its outcome (error, depth,
 * chain, matched peer name) is copied back into x: libssl keeps pointers
 * into x (its X509_VERIFY_PARAM among them) across this callback, so x
 * must not be cleaned up and reinitialised here.
 */
static int
verify_lazy(X509_STORE_CTX *x, void *arg)
{
	struct conn	*c = arg;
	X509_STORE	*st = X509_STORE_CTX_get0_store(x);
	X509_STORE_CTX	*y;
	X509_LOOKUP	*lu;
	STACK_OF(X509)	*chain;
	SSL		*ssl;
	int		 r, idx;

	r = X509_verify_cert(x);
	if (r < 0 || X509_STORE_CTX_get_error(x) == X509_V_OK || !c->ca_lazy)
		return r;
	c->ca_lazy = 0;
	if ((lu = X509_STORE_add_lookup(st, X509_LOOKUP_file())) == NULL ||
	    X509_LOOKUP_load_file(lu, NULL, X509_FILETYPE_DEFAULT) != 1) {
		/* No file (or nothing in it): the verdict stands. */
		ERR_clear_error();
		return r;
	}

	idx = SSL_get_ex_data_X509_STORE_CTX_idx();
	ssl = X509_STORE_CTX_get_ex_data(x, idx);
	if (ssl == NULL || (y = X509_STORE_CTX_new()) == NULL)
		fatalx("cannot set up a certificate verification");
	if (X509_STORE_CTX_init(y, st, X509_STORE_CTX_get0_cert(x),
	    X509_STORE_CTX_get0_untrusted(x)) != 1 ||
	    X509_STORE_CTX_set_ex_data(y, idx, ssl) != 1 ||
	    X509_STORE_CTX_set_default(y, "ssl_server") != 1 ||
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(y),
	    SSL_get0_param(ssl)) != 1)
		fatalx("cannot set up a certificate verification");
	/*
	 * What libssl adds to x besides the SSL's parameters: the security
	 * level's limits on key sizes and signature digests (without them
	 * an RSA-768 or SHA-1 certificate would pass the second time).
	 */
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(y),
	    SSL_get_security_level(ssl));
	X509_STORE_CTX_set_verify_cb(y, X509_STORE_CTX_get_verify_cb(x));
	r = X509_verify_cert(y);

	X509_STORE_CTX_set_error(x, X509_STORE_CTX_get_error(y));
	X509_STORE_CTX_set_error_depth(x, X509_STORE_CTX_get_error_depth(y));
	/* The current certificate lives on in the chain's references. */
	chain = X509_STORE_CTX_get1_chain(y);
	X509_STORE_CTX_set_current_cert(x, chain != NULL ?
	    X509_STORE_CTX_get_current_cert(y) : NULL);
	X509_STORE_CTX_set0_verified_chain(x, chain);
	X509_VERIFY_PARAM_move_peername(X509_STORE_CTX_get0_param(x),
	    X509_STORE_CTX_get0_param(y));
	X509_STORE_CTX_free(y);
	return r;
}

/* A certificate that failed verification; a name mismatch names the name. */
static void
not_accepted(struct pm_err *err, const char *host, const char *name, long vr)
{
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		err_set(err, EX_NOPERM, "%s: server certificate not accepted: "
		    "%s (it is not valid for %s)", host,
		    X509_verify_cert_error_string(vr), name);
	else
		err_set(err, EX_NOPERM, "%s: server certificate not accepted: "
		    "%s", host, X509_verify_cert_error_string(vr));
}

static int
load_error(struct pm_err *err, const char *what, const char *path)
{
	unsigned long	 l = ERR_get_error();
	char		 buf[256];

	ERR_error_string_n(l, buf, sizeof(buf));
	err_set(err, EX_CONFIG, "%s %s: cannot load: %s", what, path, buf);
	ERR_clear_error();
	return -1;
}

/* "sha256:AB:CD:..." of a certificate, into buf (at least 104 bytes). */
void
tls_fingerprint(X509 *cert, char *buf, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n, i;
	size_t		 o;

	if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
		fatalx("X509_digest failed");
	o = strlcpy(buf, "sha256:", len);
	for (i = 0; i < n && o + 3 < len; i++)
		o += snprintf(buf + o, len - o, "%s%02X", i ? ":" : "", md[i]);
}

/*
 * Keep the first bytes read from the socket during the handshake: if the
 * port speaks plain POP3, they are its greeting, and the error can say so
 * instead of OpenSSL's "wrong version number".
 */
static long
first_bytes(BIO *b, int oper, const char *argp, size_t len, int argi,
    long argl, int ret, size_t *processed)
{
	struct conn	*c = (struct conn *)BIO_get_callback_arg(b);
	size_t		 n;

	(void)len;
	(void)argi;
	(void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 &&
	    processed != NULL && c->firstlen < sizeof(c->first)) {
		n = *processed;
		if (n > sizeof(c->first) - c->firstlen)
			n = sizeof(c->first) - c->firstlen;
		memcpy(c->first + c->firstlen, argp, n);
		c->firstlen += n;
	}
	return ret;
}

/*
 * The handshake failed: if what came first was a line of text, the port
 * is not a TLS port. The usual mistake, tls = implicit on port 110, is a
 * configuration error (78), not worth retrying.
 */
static int
plain_text_port(struct conn *c, const struct account *a, struct pm_err *err)
{
	size_t	 n, i;
	char	*v;

	n = c->firstlen;
	if (n < 3 || memchr(c->first, '\n', n) == NULL)
		return 0;
	n = (char *)memchr(c->first, '\n', n) - c->first;
	for (i = 0; i < n; i++)
		if ((c->first[i] < ' ' || c->first[i] > '~') &&
		    !(c->first[i] == '\r' && i == n - 1))
			return 0;
	if (n > 0 && c->first[n - 1] == '\r')
		n--;
	v = log_vis(c->first, n);
	if (strncmp(c->first, "+OK", 3) == 0)
		err_set(err, EX_CONFIG, "%s: port %s speaks plain POP3, not TLS "
		    "(it greeted \"%s\"): for STLS on this port set tls = "
		    "starttls; for implicit TLS use the server's TLS port "
		    "(usually 995)", c->host, a->port, v);
	else
		err_set(err, EX_CONFIG, "%s: port %s answered in plain text, "
		    "not TLS (\"%s\"): is it the right port?", c->host,
		    a->port, v);
	free(v);
	return 1;
}

/*
 * TLS sessions to resume, in this process: pullmail -d fetching one account
 * after the other (no -j) saves a round trip and the certificate exchange
 * at every round after the first. One per account, keyed by what the
 * session was made for; only sessions of handshakes that passed every check
 * are kept (the callback fires after them), and --serverinfo neither uses
 * nor keeps one.
 */
struct resume {
	char		*key;
	SSL_SESSION	*sess;
};
static struct resume	*resumes;
static size_t		 nresumes;

static char *
resume_key(const struct account *a)
{
	char	*k;

	xasprintf(&k, "%s\n%s\n%s\n%s\n%d", a->name, a->host, a->port,
	    a->tls_server_name != NULL ? a->tls_server_name : "", a->tls);
	return k;
}

static struct resume *
resume_find(const char *key)
{
	size_t	 i;

	for (i = 0; i < nresumes; i++)
		if (strcmp(resumes[i].key, key) == 0)
			return &resumes[i];
	return NULL;
}

/* A session (TLS 1.3: a ticket, after the handshake) to keep. */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	const char	*key = SSL_get_app_data(ssl);
	struct resume	*r;

	if (key == NULL)
		return 0;
	if ((r = resume_find(key)) == NULL) {
		resumes = xreallocarray(resumes, nresumes + 1,
		    sizeof(*resumes));
		r = &resumes[nresumes++];
		r->key = xstrdup(key);
		r->sess = NULL;
	}
	if (r->sess != NULL)
		SSL_SESSION_free(r->sess);
	r->sess = sess;		/* the reference OpenSSL gave us */
	return 1;
}

int
conn_tls(struct conn *c, const struct account *a, struct pm_err *err)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	BIO		*rbio, *sbio, *wbio;
	X509		*peer;
	X509_VERIFY_PARAM *vp;
	const char	*name = a->tls_server_name != NULL ? a->tls_server_name :
			    a->host;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	unsigned long	 l;
	long		 vr;
	char		 buf[256];
	int		 r, e, pinned = a->fingerprint != NULL;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatalx("SSL_CTX_new failed");
	c->ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, a->tls_min == 13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, pinned || c->inspect ?
	    accept_for_pin : NULL);
	system_store(SSL_CTX_get_cert_store(ctx));
	/* A pin without --serverinfo needs no verdict on the chain. */
	c->ca_lazy = !pinned || c->inspect;
	SSL_CTX_set_cert_verify_callback(ctx, verify_lazy, c);
	if ((a->ca_file != NULL || a->ca_path != NULL) &&
	    SSL_CTX_load_verify_locations(ctx, a->ca_file, a->ca_path) != 1)
		return load_error(err, a->ca_file ? "ca_file" : "ca_path",
		    a->ca_file ? a->ca_file : a->ca_path);
	if (a->client_cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, a->client_cert) != 1)
			return load_error(err, "client_cert", a->client_cert);
		if (SSL_CTX_use_PrivateKey_file(ctx, a->client_key,
		    SSL_FILETYPE_PEM) != 1)
			return load_error(err, "client_key", a->client_key);
		if (SSL_CTX_check_private_key(ctx) != 1)
			return load_error(err, "client_key (does not match "
			    "client_cert)", a->client_key);
	}

	if ((ssl = SSL_new(ctx)) == NULL)
		fatalx("SSL_new failed");
	c->ssl = ssl;
	/*
	 * Records are read through a buffer of PM_IOBUF bytes: one read(2)
	 * takes in many records (Dovecot sends 4 KiB ones) instead of two
	 * reads, header and body, per record. OpenSSL's own read-ahead would
	 * do the same, but it moves what is left in its buffer to the front
	 * before every record, which costs more CPU than the system calls it
	 * saves. Writes go straight to the socket.
	 *
	 * Data may now wait in the buffer while the socket is not readable:
	 * conn.c polls the socket only after OpenSSL asked for more
	 * (SSL_ERROR_WANT_READ), which the buffer passes on only when it is
	 * empty and the socket had nothing more.
	 */
	if ((rbio = BIO_new(BIO_f_buffer())) == NULL ||
	    (sbio = BIO_new_socket(c->fd, BIO_NOCLOSE)) == NULL ||
	    (wbio = BIO_new_socket(c->fd, BIO_NOCLOSE)) == NULL ||
	    BIO_set_read_buffer_size(rbio, PM_IOBUF) != 1)
		fatalx("cannot set up the TLS BIOs");
	BIO_push(rbio, sbio);
	c->firstlen = 0;
	BIO_set_callback_ex(sbio, first_bytes);
	BIO_set_callback_arg(sbio, (char *)c);
	SSL_set_bio(ssl, rbio, wbio);
	if (!c->inspect) {
		struct resume *rs;

		free(c->resume_key);
		c->resume_key = resume_key(a);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, new_session);
		SSL_set_app_data(ssl, c->resume_key);
		if ((rs = resume_find(c->resume_key)) != NULL &&
		    rs->sess != NULL && SSL_SESSION_is_resumable(rs->sess))
			SSL_set_session(ssl, rs->sess);
	}
	if (is_ip_literal(name)) {
		vp = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1)
			fatalx("X509_VERIFY_PARAM_set1_ip_asc failed");
	} else {
		if (SSL_set_tlsext_host_name(ssl, name) != 1 ||
		    SSL_set1_host(ssl, name) != 1)
			fatalx("cannot set the TLS host name");
	}

	for (;;) {
		ERR_clear_error();
		if ((r = SSL_connect(ssl)) == 1)
			break;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (tls_wait(c, e, err) == -1)
				return -1;
			continue;
		}
		if (plain_text_port(c, a, err)) {
			ERR_clear_error();
			return -1;
		}
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK) {
			not_accepted(err, c->host, name, vr);
			ERR_clear_error();
			return -1;
		}
		if ((l = ERR_get_error()) != 0 &&
		    ERR_GET_LIB(l) == ERR_LIB_SSL &&
		    (ERR_GET_REASON(l) == SSL_R_UNSUPPORTED_PROTOCOL ||
		    ERR_GET_REASON(l) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)) {
			/* No version in common: retrying will not help. */
			ERR_error_string_n(l, buf, sizeof(buf));
			err_set(err, EX_NOPERM, "%s: TLS handshake failed: the "
			    "server does not offer TLS %s or later "
			    "(tls_min_version): %s", c->host, a->tls_min == 13 ?
			    "1.3" : "1.2", buf);
		} else if (l != 0) {
			ERR_error_string_n(l, buf, sizeof(buf));
			err_set(err, EX_TEMPFAIL, "%s: TLS handshake failed: "
			    "%s", c->host, buf);
		} else
			err_set(err, EX_TEMPFAIL, "%s: TLS handshake failed: "
			    "%s", c->host, e == SSL_ERROR_SYSCALL && errno ?
			    strerror(errno) : "connection closed");
		ERR_clear_error();
		return -1;
	}

	/* Verification passed; make sure there was a certificate at all. */
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL) {
		err_set(err, EX_NOPERM, "%s: server sent no certificate",
		    c->host);
		return -1;
	}
	c->verify_result = SSL_get_verify_result(ssl);
	if (pinned) {
		if (X509_digest(peer, EVP_sha256(), md, &mdlen) != 1)
			fatalx("X509_digest failed");
		if (mdlen != sizeof(a->pin) ||
		    CRYPTO_memcmp(md, a->pin, mdlen) != 0) {
			tls_fingerprint(peer, buf, sizeof(buf));
			err_set(err, EX_NOPERM, "%s: server certificate does "
			    "not match the pinned fingerprint (it is %s)",
			    c->host, buf);
			X509_free(peer);
			return -1;
		}
	} else if (!c->inspect && c->verify_result != X509_V_OK) {
		not_accepted(err, c->host, name, c->verify_result);
		X509_free(peer);
		return -1;
	}
	X509_free(peer);
	BIO_set_callback_ex(sbio, NULL);
	log_info("%s: %s, %s%s%s", a->name, SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl), pinned ? ", certificate pinned" : "",
	    SSL_session_reused(ssl) ? ", session resumed" : "");
	return 0;
}
