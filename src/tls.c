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
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = c->fd;
	pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
	do
		n = poll(&pfd, 1, c->timeout_ms);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		err_set(err, EX_TEMPFAIL, "%s: TLS handshake timed out after "
		    "%d seconds", c->host, c->timeout_ms / 1000);
		return -1;
	}
	if (n == -1) {
		err_set(err, EX_OSERR, "poll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
conn_tls(struct conn *c, const struct account *a, struct pm_err *err)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	X509		*peer;
	X509_VERIFY_PARAM *vp;
	unsigned long	 l;
	long		 vr;
	char		 buf[256];
	int		 r, e;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatalx("SSL_CTX_new failed");
	c->ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		ERR_clear_error();
	if (a->ca_file != NULL &&
	    SSL_CTX_load_verify_locations(ctx, a->ca_file, NULL) != 1) {
		l = ERR_get_error();
		ERR_error_string_n(l, buf, sizeof(buf));
		err_set(err, EX_CONFIG, "ca_file %s: cannot load: %s",
		    a->ca_file, buf);
		ERR_clear_error();
		return -1;
	}

	if ((ssl = SSL_new(ctx)) == NULL)
		fatalx("SSL_new failed");
	c->ssl = ssl;
	if (SSL_set_fd(ssl, c->fd) != 1)
		fatalx("SSL_set_fd failed");
	if (is_ip_literal(a->host)) {
		vp = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, a->host) != 1)
			fatalx("X509_VERIFY_PARAM_set1_ip_asc failed");
	} else {
		if (SSL_set_tlsext_host_name(ssl, a->host) != 1 ||
		    SSL_set1_host(ssl, a->host) != 1)
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
		vr = SSL_get_verify_result(ssl);
		if (vr != X509_V_OK) {
			err_set(err, EX_NOPERM, "%s: server certificate not "
			    "accepted: %s", c->host,
			    X509_verify_cert_error_string(vr));
			ERR_clear_error();
			return -1;
		}
		if ((l = ERR_get_error()) != 0) {
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
	X509_free(peer);
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		err_set(err, EX_NOPERM, "%s: server certificate not accepted: "
		    "%s", c->host, X509_verify_cert_error_string(vr));
		return -1;
	}
	log_info("%s: %s, %s", a->name, SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
	return 0;
}
