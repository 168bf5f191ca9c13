/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * --serverinfo: what a server offers, for setting up an account: its TLS
 * version and cipher, its certificate (subject, issuer, validity, whether
 * it verifies, and the SHA-256 fingerprint to paste into "fingerprint"),
 * its greeting and capabilities. It does not log in. Everything the
 * server chose is escaped before it is printed.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pullmail.h"

static void
show(const char *label, const char *value)
{
	char	*v = log_vis(value, strlen(value));

	printf("  %-13s %s\n", label, v);
	free(v);
}

/* Text that OpenSSL prints into a memory BIO. */
static char *
bio_text(BIO *b)
{
	char	*data, *s;
	long	 n = BIO_get_mem_data(b, &data);

	s = xstrndup(data, n > 0 ? (size_t)n : 0);
	BIO_free(b);
	return s;
}

static char *
name_text(const X509_NAME *n)
{
	BIO	*b = BIO_new(BIO_s_mem());

	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
	return bio_text(b);
}

static char *
time_text(const ASN1_TIME *t)
{
	BIO	*b = BIO_new(BIO_s_mem());

	ASN1_TIME_print(b, t);
	return bio_text(b);
}

static void
certificate(struct conn *c)
{
	X509	*peer;
	char	*s, *nb, *na, fpr[128], valid[256];

	if ((peer = SSL_get1_peer_certificate(c->ssl)) == NULL)
		return;
	show("TLS", SSL_get_version(c->ssl));
	show("cipher", SSL_get_cipher_name(c->ssl));
	s = name_text(X509_get_subject_name(peer));
	show("subject", s);
	free(s);
	s = name_text(X509_get_issuer_name(peer));
	show("issuer", s);
	free(s);
	nb = time_text(X509_get0_notBefore(peer));
	na = time_text(X509_get0_notAfter(peer));
	snprintf(valid, sizeof(valid), "%s to %s", nb, na);
	show("valid", valid);
	free(nb);
	free(na);
	show("verified", c->verify_result == X509_V_OK ? "yes" :
	    X509_verify_cert_error_string(c->verify_result));
	tls_fingerprint(peer, fpr, sizeof(fpr));
	printf("  %-13s %s\n", "fingerprint", fpr);
	X509_free(peer);
}

int
fetch_serverinfo(const struct account *a, struct pm_err *err)
{
	struct pop3	 p;
	const char	*cap;
	char		*line, *save, *copy, *lp;
	int		 rv = -1;

	if (pop3_connect(&p, a, 1, err) == -1)
		goto out;
	printf("%s: %s port %s, %s\n", a->name, a->host, a->port,
	    a->tls == TLSM_IMPLICIT ? "TLS" : a->tls == TLSM_STARTTLS ?
	    "STLS" : "no TLS");
	if (p.conn.ssl != NULL)
		certificate(&p.conn);
	show("greeting", p.greeting[0] != '\0' ? p.greeting : "(+OK alone)");
	if (!p.has_capa)
		show("capabilities", "(CAPA not supported)");
	copy = xstrdup(p.capa_raw);
	for (lp = copy; (line = strtok_r(lp, "\n", &save)) != NULL; lp = NULL) {
		cap = lp == copy ? "capabilities" : "";
		show(cap, line);
	}
	free(copy);
	show("SASL", p.sasl[0] != '\0' ? p.sasl : "(none)");
	show("pipelining", p.pipelining ? "yes" : "no");
	show("APOP", p.apop_ts[0] != '\0' ? "offered" : "not offered");
	show("UTF8", p.utf8 > 0 ? "enabled (RFC 6856: messages as they are)" :
	    p.utf8 < 0 ? "offered, but refused when asked" : "not offered");
	if (a->oauth2 != NULL) {
		char	 tok[256], *dir = conf_state_dir();

		oauth2_describe(a, dir, tok, sizeof(tok));
		free(dir);
		show("OAuth2", tok);
	}
	fflush(stdout);
	/* Leave politely; nothing was done. */
	pop3_quit(&p);
	rv = 0;
out:
	pop3_close(&p);
	return rv;
}
