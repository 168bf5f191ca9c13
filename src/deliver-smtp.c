/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Delivery to a mail server: LMTP (RFC 2033; Dovecot, Cyrus, Postfix's
 * virtual delivery) over a unix socket or TCP, and SMTP (RFC 5321) to an
 * MTA, with one connection per account run: the greeting and LHLO or EHLO
 * once, then MAIL, RCPT and DATA per message (pipelined where PIPELINING
 * is offered; BDAT, one LAST chunk, instead of DATA where CHUNKING is),
 * RSET after a failed one.
 *
 * The message is spooled whole first, as for an MDA: nothing reaches the
 * server before it has arrived whole. It is sent as it is in the spool,
 * the very bytes the Maildir backend would write (Received: header
 * included), with CRLF line ends (and, for DATA, dot-stuffing) on the wire
 * only.
 *
 * The no-loss rule: a message is delivered (commit returns 0, and only
 * then is its UID recorded and its DELE sent) once the server has accepted
 * it for every recipient: with LMTP the 250 that comes for each recipient
 * after the final dot, with SMTP the one 250 after it. Anything else keeps
 * it on the server:
 *
 *	4xx (a reply)		temporary (EX_TEMPFAIL): this message stays on
 *				the server; the session goes on with the next
 *	5xx (a reply)		permanent for this message (EX_IOERR): it is
 *				reported and stays on the server (fetched and
 *				offered again by every run until the server
 *				takes it or the user removes it); the session
 *				goes on with the next
 *	421, a dropped or timed-out connection, a protocol error
 *				the session ends (EX_TEMPFAIL, EX_PROTOCOL):
 *				nothing more is fetched; a message whose final
 *				dot was not answered for every recipient is
 *				not delivered
 *	8-bit data to a server without 8BITMIME, raw UTF-8 in the header
 *	to one without SMTPUTF8
 *				refused by us before MAIL, as a 5xx would be:
 *				a message is never sent mangled
 *
 * With several recipients, LMTP can accept a message for some and refuse
 * it for others: it is then not delivered (it stays on the server), and
 * the next run sends it to all of them again, so those that accepted it
 * get it twice (reported). A refused RCPT ends the transaction before
 * DATA (RSET), so that no one gets it; if the server still answered 354
 * to a pipelined DATA, the connection is dropped rather than the message
 * sent to only some.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "pullmail.h"

#define SPOOL_CHUNK	65536
#define RCPT_MAX	32

struct smtp {
	struct conn	 c;
	int		 lmtp;		/* LMTP, else SMTP */
	int		 up;		/* connected and greeted */
	char		*sock;		/* unix socket path, or NULL */
	char		*host;
	char		*port;
	char		*label;		/* "lmtp /run/dovecot/lmtp" */
	char		**rcpt;		/* deliver_to, split */
	size_t		 nrcpt;
	int		 pipelining;
	int		 eightbit;
	int		 smtputf8;
	int		 starttls;
	int		 chunking;	/* BDAT (RFC 3030) */
	int		 code;		/* of the last reply */
	char		*text;		/* its first line, made safe */
};
#define SM(d)	((struct smtp *)(d)->priv)

/*
 * Split "host:port", "[v6]:port" or, for SMTP, a bare host (port 25).
 * Returns NULL on success, or why the value is wrong.
 */
static const char *
split_hostport(const char *v, int need_port, char **host, char **port)
{
	const char	*colon, *errstr, *p, *hend;

	*host = *port = NULL;
	if (*v == '[') {
		if ((hend = strchr(v, ']')) == NULL)
			return "an IPv6 address in [ ] lacks its ]";
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] != '\0' && colon == NULL)
			return "expected [ADDRESS]:PORT";
		*host = xstrndup(v + 1, hend - v - 1);
	} else {
		colon = strrchr(v, ':');
		if (colon != NULL && strchr(v, ':') != colon)
			return "an IPv6 address goes in [ ]";
		*host = colon ? xstrndup(v, colon - v) : xstrdup(v);
	}
	if (colon == NULL && need_port) {
		free(*host);
		*host = NULL;
		return "expected a unix socket (an absolute path) or HOST:PORT";
	}
	if (**host == '\0')
		goto bad;
	for (p = *host; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_:", *p) == NULL)
			goto bad;
	if (colon == NULL) {
		*port = xstrdup("25");
		return NULL;
	}
	strtonum(colon + 1, 1, 65535, &errstr);
	if (errstr != NULL) {
		free(*host);
		*host = NULL;
		return "not a port number after the ':'";
	}
	*port = xstrdup(colon + 1);
	return NULL;
bad:
	free(*host);
	*host = NULL;
	return "not a host name or address";
}

static const char *
lmtp_check(const char *v)
{
	char		*h, *p;
	const char	*why;

	if (*v == '/')
		return strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path) ?
		    "unix socket path too long" : NULL;
	why = split_hostport(v, 1, &h, &p);
	free(h);
	free(p);
	return why;
}

static const char *
smtp_check(const char *v)
{
	char		*h, *p;
	const char	*why;

	why = split_hostport(v, 0, &h, &p);
	free(h);
	free(p);
	return why;
}

static char *
lmtp_label(const char *v)
{
	char	*s;

	xasprintf(&s, "LMTP %s", v);
	return s;
}

static char *
smtp_label(const char *v)
{
	char	*s;

	xasprintf(&s, "SMTP %s", v);
	return s;
}

/* A host that is this machine: no STARTTLS needed (smtp_tls = auto). */
static int
local_host(const char *h)
{
	return strcasecmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	    strcmp(h, "::1") == 0;
}

/* The connection is unusable: close it; the next message reconnects. */
static void
smtp_drop(struct smtp *s)
{
	conn_close(&s->c);
	s->up = 0;
}

static void
smtp_send(struct smtp *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
smtp_send(struct smtp *s, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[1024];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		fatalx("smtp command too long");
	log_trace('>', buf, n);
	memcpy(buf + n, "\r\n", 2);
	conn_queue(&s->c, buf, n + 2);
	explicit_bzero(buf, sizeof(buf));
}

/*
 * Read one reply (its continuation lines too); returns its code, or -1
 * (err set: the connection is then dropped). With ehlo, the extensions it
 * lists are noted.
 */
static int
smtp_reply(struct smtp *s, int ehlo, struct pm_err *err)
{
	char	*line, kw[32];
	size_t	 len, k;
	int	 code = -1, c, first = 1;

	for (;;) {
		if (conn_getline(&s->c, &line, &len, err) == -1)
			goto fail;
		if (len < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    line[0] < '2' || line[0] > '5' ||
		    (len > 3 && line[3] != ' ' && line[3] != '-')) {
			char *v = log_vis(line, len);

			err_set(err, EX_PROTOCOL, "%s: protocol error: not a "
			    "reply: \"%s\"", s->label, v);
			free(v);
			goto fail;
		}
		c = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (!first && c != code) {
			err_set(err, EX_PROTOCOL, "%s: protocol error: a reply "
			    "whose lines have different codes", s->label);
			goto fail;
		}
		if (first) {
			free(s->text);
			s->text = log_vis(line, len);
		} else if (ehlo && len > 4) {
			for (k = 0; k + 1 < sizeof(kw) && 4 + k < len &&
			    line[4 + k] != ' '; k++)
				kw[k] = toupper((unsigned char)line[4 + k]);
			kw[k] = '\0';
			if (strcmp(kw, "PIPELINING") == 0)
				s->pipelining = 1;
			else if (strcmp(kw, "8BITMIME") == 0)
				s->eightbit = 1;
			else if (strcmp(kw, "SMTPUTF8") == 0)
				s->smtputf8 = 1;
			else if (strcmp(kw, "STARTTLS") == 0)
				s->starttls = 1;
			else if (strcmp(kw, "CHUNKING") == 0)
				s->chunking = 1;
		}
		code = c;
		first = 0;
		if (len == 3 || line[3] == ' ')
			break;
	}
	s->code = code;
	return code;
fail:
	smtp_drop(s);
	return -1;
}

static int
smtp_flush(struct smtp *s, struct pm_err *err)
{
	if (conn_flush(&s->c, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	return 0;
}

/* Connect to the unix socket s->sock. */
static int
connect_unix(struct smtp *s, int timeout, struct pm_err *err)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&s->c, 0, sizeof(s->c));
	s->c.fd = -1;
	s->c.timeout_ms = timeout * 1000;
	s->c.host = xstrdup(s->sock);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, s->sock, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		err_set(err, EX_TEMPFAIL, "%s: cannot connect: %s", s->label,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	s->c.fd = fd;
	return 0;
}

/* Says hello: LHLO, or EHLO (HELO if EHLO is refused). */
static int
smtp_hello(struct smtp *s, struct pm_err *err)
{
	char	 host[256];
	int	 code;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	s->pipelining = s->eightbit = s->smtputf8 = s->starttls = 0;
	s->chunking = 0;
	smtp_send(s, "%s %s", s->lmtp ? "LHLO" : "EHLO", host);
	if (smtp_flush(s, err) == -1 || (code = smtp_reply(s, 1, err)) == -1)
		return -1;
	if (code != 250 && !s->lmtp && code >= 500) {
		smtp_send(s, "HELO %s", host);
		if (smtp_flush(s, err) == -1 ||
		    (code = smtp_reply(s, 0, err)) == -1)
			return -1;
	}
	if (code != 250) {
		err_set(err, code >= 500 && code != 421 ? EX_PROTOCOL :
		    EX_TEMPFAIL, "%s: %s refused: %s", s->label,
		    s->lmtp ? "LHLO" : "EHLO", s->text);
		smtp_drop(s);
		return -1;
	}
	return 0;
}

/* STARTTLS, verified as for the POP3 server (conn_tls), then EHLO again. */
static int
smtp_starttls(struct smtp *s, const struct account *a, struct pm_err *err)
{
	struct account	 ta;
	int		 code;

	smtp_send(s, "STARTTLS");
	if (smtp_flush(s, err) == -1 || (code = smtp_reply(s, 0, err)) == -1)
		return -1;
	if (code != 220) {
		err_set(err, EX_TEMPFAIL, "%s: STARTTLS refused: %s", s->label,
		    s->text);
		smtp_drop(s);
		return -1;
	}
	if (s->c.rlen > s->c.roff) {
		err_set(err, EX_PROTOCOL, "%s: protocol error: data after the "
		    "reply to STARTTLS, before TLS began", s->label);
		smtp_drop(s);
		return -1;
	}
	/* The server's own name, our CAs; nothing of the POP3 server's. */
	memset(&ta, 0, sizeof(ta));
	ta.name = a->name;
	ta.host = s->host;
	ta.port = s->port;
	ta.tls = TLSM_STARTTLS;
	ta.tls_min = 12;
	ta.ca_file = a->smtp_ca_file;
	if (conn_tls(&s->c, &ta, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	return smtp_hello(s, err);
}

/*
 * AUTH PLAIN (RFC 4616) as smtp_user, with the password from
 * smtp_password_command, else ~/.netrc for the SMTP host, else the
 * terminal (auth_password). Only over TLS or to this machine; the
 * password is registered as a secret (never logged) and wiped.
 */
static int
smtp_auth(struct smtp *s, const struct account *a, struct pm_err *err)
{
	struct account	 ta;
	unsigned char	*raw;
	char		*pw, *b64;
	size_t		 ul, pl;
	int		 code;

	if (s->c.ssl == NULL && s->sock == NULL && !local_host(s->host)) {
		err_set(err, EX_CONFIG, "%s: smtp_user: AUTH only over TLS "
		    "(smtp_tls)", s->label);
		smtp_drop(s);
		return -1;
	}
	memset(&ta, 0, sizeof(ta));
	ta.name = a->name;
	ta.host = s->host != NULL ? s->host : s->sock;
	ta.user = a->smtp_user;
	ta.password_command = a->smtp_password_command;
	ta.password_command_timeout = a->password_command_timeout;
	if ((pw = auth_password(&ta, err)) == NULL) {
		smtp_drop(s);
		return -1;
	}
	ul = strlen(a->smtp_user);
	pl = strlen(pw);
	raw = xmalloc(ul + pl + 2);
	raw[0] = '\0';
	memcpy(raw + 1, a->smtp_user, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, pw, pl);
	b64 = b64_encode(raw, ul + pl + 2);
	freezero(raw, ul + pl + 2);
	log_secret_add(pw);
	log_secret_add(b64);
	freezero_str(pw);
	smtp_send(s, "AUTH PLAIN %s", b64);
	freezero_str(b64);
	if (smtp_flush(s, err) == -1 || (code = smtp_reply(s, 0, err)) == -1)
		return -1;
	if (code != 235) {
		err_set(err, code >= 500 ? EX_NOPERM : EX_TEMPFAIL, "%s: AUTH "
		    "PLAIN as %s refused: %s", s->label, a->smtp_user, s->text);
		smtp_drop(s);
		return -1;
	}
	return 0;
}

/* Connect, read the greeting, say hello (STARTTLS where it is due). */
static int
smtp_connect(struct deliver *d, struct pm_err *err)
{
	struct smtp	*s = SM(d);
	const struct account *a = d->acct;
	int		 code, tls;

	if (s->sock != NULL) {
		if (connect_unix(s, a->timeout, err) == -1) {
			smtp_drop(s);
			return -1;
		}
	} else if (conn_open(&s->c, s->host, s->port, a->timeout, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	if ((code = smtp_reply(s, 0, err)) == -1)
		return -1;
	if (code != 220) {
		err_set(err, EX_TEMPFAIL, "%s: the server greeted: %s",
		    s->label, s->text);
		smtp_drop(s);
		return -1;
	}
	if (smtp_hello(s, err) == -1)
		return -1;
	tls = a->smtp_tls;
	if (tls == -1)
		tls = !s->lmtp && s->sock == NULL && !local_host(s->host);
	if (tls && !s->lmtp) {
		if (!s->starttls) {
			err_set(err, EX_NOPERM, "%s: the server does not offer "
			    "STARTTLS (smtp_tls = no sends mail to it in plain "
			    "text)", s->label);
			smtp_drop(s);
			return -1;
		}
		if (smtp_starttls(s, a, err) == -1)
			return -1;
	}
	if (!s->lmtp && a->smtp_user != NULL && smtp_auth(s, a, err) == -1)
		return -1;
	s->up = 1;
	return 0;
}

/*
 * What the message in the spool needs: 8BITMIME for any byte over 127 (or
 * a NUL), SMTPUTF8 for one in the header; and its size on the wire with
 * CRLF line ends (for BDAT). Returns -1 on a read error.
 */
static int
spool_scan(int fd, int *body8, int *head8, off_t *wire)
{
	unsigned char	 buf[SPOOL_CHUNK];
	off_t		 off = 0;
	ssize_t		 n, i;
	int		 inhead = 1, bol = 1;

	*body8 = *head8 = 0;
	*wire = 0;
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] >= 0x80 || buf[i] == 0) {
				*body8 = 1;
				if (inhead)
					*head8 = 1;
			}
			if (buf[i] == '\n') {
				if (bol)
					inhead = 0;
				bol = 1;
				(*wire)++;
			} else
				bol = 0;
		}
		off += n;
	}
	*wire += off + (off > 0 && !bol ? 2 : 0);
	return 0;
}

/*
 * The spool as DATA (stuff): CRLF line ends, a '.' doubled at the start of
 * a line, a line end added if the message lacks a final one, then "."; or
 * as the one chunk of BDAT LAST: the same but for the dots (spool_scan
 * counted its size).
 */
static int
send_body(struct smtp *s, int fd, int stuff, struct pm_err *err)
{
	char		 in[SPOOL_CHUNK], *out;
	off_t		 off = 0;
	ssize_t		 n, i;
	size_t		 o;
	int		 bol = 1;

	out = xmalloc(2 * sizeof(in) + 8);
	while ((n = pread(fd, in, sizeof(in), off)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err_set(err, EX_IOERR, "spool file: %s",
			    strerror(errno));
			free(out);
			smtp_drop(s);	/* never a message cut short */
			return -1;
		}
		for (i = 0, o = 0; i < n; i++) {
			if (stuff && bol && in[i] == '.')
				out[o++] = '.';
			if (in[i] == '\n')
				out[o++] = '\r';
			out[o++] = in[i];
			bol = in[i] == '\n';
		}
		off += n;
		conn_queue(&s->c, out, o);
		if (smtp_flush(s, err) == -1) {
			free(out);
			return -1;
		}
	}
	free(out);
	if (!bol && off > 0)
		conn_queue(&s->c, "\r\n", 2);
	if (stuff)
		conn_queue(&s->c, ".\r\n", 3);
	return smtp_flush(s, err);
}

/* After a failed transaction: RSET, or drop the connection. */
static void
smtp_rset(struct smtp *s)
{
	struct pm_err	 e = { 0, NULL };

	if (!s->up)
		return;
	smtp_send(s, "RSET");
	if (smtp_flush(s, &e) == -1 || smtp_reply(s, 0, &e) != 250)
		smtp_drop(s);
	err_clear(&e);
}

/*
 * A refusal by reply code: 421 ends the session (the server is closing),
 * another 4xx is temporary and a 5xx permanent for this message alone
 * (d->rejected: the session goes on).
 */
static void
refused(struct deliver *d, const char *what, struct pm_err *err)
{
	struct smtp	*s = SM(d);

	if (s->code == 421) {
		err_set(err, EX_TEMPFAIL, "%s: %s: %s; the message stays on "
		    "the server", s->label, what, s->text);
		smtp_drop(s);
		return;
	}
	err_set(err, s->code >= 500 ? EX_IOERR : EX_TEMPFAIL, "%s: %s: %s; "
	    "the message stays on the server%s", s->label, what, s->text,
	    s->code >= 500 ? " (refused for good: every run offers it "
	    "again)" : " (a temporary failure)");
	d->rejected = 1;
}

static int
smtp_commit(struct deliver *d, struct pm_err *err)
{
	struct smtp	*s = SM(d);
	char		*sender = NULL, what[64];
	const char	*after;
	off_t		 wire;
	size_t		 i, ok = 0, n;
	int		 body8, head8, code, rv = -1, retried = 0;
	int		 rcpt_ok[RCPT_MAX], data354 = 0;

	d->rejected = 0;
	if (spool_scan(d->fd, &body8, &head8, &wire) == -1) {
		err_set(err, EX_IOERR, "spool file: %s", strerror(errno));
		return -1;
	}
	sender = deliver_envelope_sender(d->fd);
again:
	if (!s->up && smtp_connect(d, err) == -1)
		goto out;
	if (head8 && !s->smtputf8 && !d->acct->allow_8bit_headers) {
		err_set(err, EX_IOERR, "%s: the message has 8-bit bytes in its "
		    "header, and the server does not offer SMTPUTF8: not sent, "
		    "the message stays on the server (allow_8bit_headers = yes "
		    "sends it all the same)", s->label);
		d->rejected = 1;
		goto out;
	}
	if (body8 && !s->eightbit) {
		err_set(err, EX_IOERR, "%s: the message has 8-bit bytes, and "
		    "the server does not offer 8BITMIME: not sent, the message "
		    "stays on the server", s->label);
		d->rejected = 1;
		goto out;
	}
	smtp_send(s, "MAIL FROM:<%s>%s%s", sender, body8 ? " BODY=8BITMIME" :
	    "", head8 && s->smtputf8 ? " SMTPUTF8" : "");
	if (!s->pipelining) {
		if (smtp_flush(s, err) == -1 ||
		    (code = smtp_reply(s, 0, err)) == -1)
			goto lost;
		if (code != 250) {
			refused(d, "MAIL FROM refused", err);
			goto fail;
		}
	}
	for (i = 0; i < s->nrcpt; i++) {
		smtp_send(s, "RCPT TO:<%s>", s->rcpt[i]);
		rcpt_ok[i] = 0;
		if (s->pipelining)
			continue;
		if (smtp_flush(s, err) == -1 ||
		    (code = smtp_reply(s, 0, err)) == -1)
			goto out;
		if (code != 250 && code != 251) {
			snprintf(what, sizeof(what), "RCPT TO refused for %s",
			    i == 0 ? "the recipient" : "a recipient");
			refused(d, what, err);
			goto fail;
		}
		rcpt_ok[i] = 1;
	}
	if (s->chunking) {
		/*
		 * BDAT: the replies to MAIL and RCPT first, so that a message
		 * refused for one recipient is never sent to the others.
		 */
		after = "refused after BDAT";
		if (s->pipelining) {
			if (smtp_flush(s, err) == -1 ||
			    (code = smtp_reply(s, 0, err)) == -1)
				goto lost;
			if (code != 250)
				refused(d, "MAIL FROM refused", err);
			for (i = 0; i < s->nrcpt && s->up; i++) {
				if ((code = smtp_reply(s, 0, err)) == -1)
					goto out;
				if (code != 250 && code != 251 &&
				    err->status == 0)
					refused(d, "RCPT TO refused", err);
			}
			if (!s->up)
				goto out;
			if (err->status != 0)
				goto fail;
		}
		smtp_send(s, "BDAT %lld LAST", (long long)wire);
		if (send_body(s, d->fd, 0, err) == -1)
			goto out;
		goto replies;
	}
	after = s->lmtp ? "refused after DATA" : "refused after the final dot";
	smtp_send(s, "DATA");
	if (smtp_flush(s, err) == -1) {
		if (s->pipelining)
			goto lost;
		goto out;
	}
	if (s->pipelining) {
		/* The replies in order: MAIL, each RCPT, DATA. */
		if ((code = smtp_reply(s, 0, err)) == -1)
			goto lost;
		if (code != 250)
			refused(d, "MAIL FROM refused", err);
		for (i = 0; i < s->nrcpt && s->up; i++) {
			if ((code = smtp_reply(s, 0, err)) == -1)
				goto out;
			rcpt_ok[i] = code == 250 || code == 251;
			if (!rcpt_ok[i] && err->status == 0)
				refused(d, "RCPT TO refused", err);
		}
		if (!s->up)
			goto out;
		if ((code = smtp_reply(s, 0, err)) == -1)
			goto out;
		data354 = code == 354;
		if (err->status != 0) {
			if (data354) {
				/* Sending it now would reach only some. */
				smtp_drop(s);
				d->rejected = s->code != 421;
			}
			goto fail;
		}
	} else {
		if ((code = smtp_reply(s, 0, err)) == -1)
			goto out;
		data354 = code == 354;
	}
	if (!data354) {
		refused(d, "DATA refused", err);
		goto fail;
	}
	if (send_body(s, d->fd, 1, err) == -1)
		goto out;
replies:
	/* LMTP: a reply for each accepted recipient; SMTP: one. */
	n = s->lmtp ? s->nrcpt : 1;
	for (i = 0; i < n; i++) {
		if ((code = smtp_reply(s, 0, err)) == -1) {
			if (ok > 0)
				log_warnx("%s: %s: the connection failed after "
				    "%zu of %zu recipients accepted the "
				    "message: they will get it again",
				    d->acct->name, s->label, ok, n);
			goto out;
		}
		if (code == 250)
			ok++;
		else if (err->status == 0)
			refused(d, after, err);
		if (!s->up)
			break;
	}
	if (ok != n) {
		if (ok > 0)
			log_warnx("%s: %s: %zu of %zu recipients accepted the "
			    "message, the rest refused it: it stays on the "
			    "server, and those that accepted it will get it "
			    "again", d->acct->name, s->label, ok, n);
		goto out;	/* no RSET needed: the transaction is over */
	}
	rv = 0;
	goto out;
lost:
	/*
	 * The connection failed before the server answered MAIL: it went
	 * away while we were idle (an idle timeout during a long download),
	 * and nothing of this message was accepted: once more, on a new
	 * connection.
	 */
	if (!retried++ && err->status == EX_TEMPFAIL) {
		log_info("%s: %s: %s; connecting again", d->acct->name,
		    s->label, err->msg);
		err_clear(err);
		smtp_drop(s);
		goto again;
	}
	goto out;
fail:
	smtp_rset(s);
out:
	free(sender);
	return rv;
}

static int
smtp_open_common(struct deliver *d, const char *statedir, int lmtp,
    const char *value, struct pm_err *err)
{
	struct smtp	*s = SM(d);
	const char	*why, *to;

	s->c.fd = -1;
	s->lmtp = lmtp;
	if (lmtp && *value == '/')
		s->sock = xstrdup(value);
	else if (split_hostport(value, lmtp, &s->host, &s->port) != NULL) {
		err_set(err, EX_CONFIG, "%s: %s", lmtp ? "lmtp" : "smtp",
		    value);
		return -1;
	}
	xasprintf(&s->label, "%s %s", lmtp ? "LMTP" : "SMTP", value);
	d->shown = xstrdup(s->label);
	d->path = xstrdup(value);
	to = d->acct->deliver_to != NULL ? d->acct->deliver_to :
	    deliver_local_user();
	if (split_words(to, &s->rcpt, &why) == -1) {
		err_set(err, EX_CONFIG, "deliver_to: %s", why);
		return -1;
	}
	for (s->nrcpt = 0; s->rcpt[s->nrcpt] != NULL; s->nrcpt++)
		;
	if (s->nrcpt == 0 || s->nrcpt > RCPT_MAX) {
		err_set(err, EX_CONFIG, "deliver_to: from 1 to %d addresses",
		    RCPT_MAX);
		return -1;
	}
	if (deliver_spool_open(d, statedir, err) == -1)
		return -1;
	/* Connect now: a server that is down costs no POP3 login. */
	return smtp_connect(d, err);
}

static int
lmtp_open(struct deliver *d, const char *statedir, struct pm_err *err)
{
	return smtp_open_common(d, statedir, 1, d->acct->lmtp, err);
}

static int
smtp_open(struct deliver *d, const char *statedir, struct pm_err *err)
{
	return smtp_open_common(d, statedir, 0, d->acct->smtp, err);
}

/* The server's 250 was its promise of durability. */
static int
smtp_sync(struct deliver *d, struct pm_err *err)
{
	return 0;
}

static void
smtp_abort(struct deliver *d)
{
}

static void
smtp_close(struct deliver *d)
{
	struct smtp	*s = SM(d);
	struct pm_err	 e = { 0, NULL };

	if (s->up) {
		smtp_send(s, "QUIT");
		if (smtp_flush(s, &e) == 0)
			(void)smtp_reply(s, 0, &e);
		err_clear(&e);
	}
	smtp_drop(s);
	free(s->sock);
	free(s->host);
	free(s->port);
	free(s->label);
	free(s->text);
	free_words(s->rcpt);
	s->rcpt = NULL;
}

const struct deliver_backend lmtp_backend = {
	.name = "lmtp",
	.arg = DARG_ADDR,
	.acct_off = offsetof(struct account, lmtp),
	.flags = DB_SPOOL,
	.psize = sizeof(struct smtp),
	.check = lmtp_check,
	.label = lmtp_label,
	.open = lmtp_open,
	.begin = deliver_spool_begin,
	.commit = smtp_commit,
	.sync = smtp_sync,
	.abort = smtp_abort,
	.close = smtp_close
};

const struct deliver_backend smtp_backend = {
	.name = "smtp",
	.arg = DARG_ADDR,
	.acct_off = offsetof(struct account, smtp),
	.flags = DB_SPOOL,
	.psize = sizeof(struct smtp),
	.check = smtp_check,
	.label = smtp_label,
	.open = smtp_open,
	.begin = deliver_spool_begin,
	.commit = smtp_commit,
	.sync = smtp_sync,
	.abort = smtp_abort,
	.close = smtp_close
};
