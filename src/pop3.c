/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * The POP3 protocol (RFC 1939, 2449, 2595): greeting, CAPA, STLS, USER and
 * PASS, UIDL and LIST, and a queue of pipelined commands whose replies are
 * read back in order. Everything the server says is parsed strictly:
 * replies start with +OK or -ERR, numbers are bounded, UIDs are checked.
 *
 * Message bodies are not read as lines: they stream through a small state
 * machine (body_dec) that removes dot-stuffing and turns CRLF into LF, so a
 * message of any size, with lines of any length, passes in constant memory.
 */

#include "config.h"

#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <openssl/evp.h>

#include "pullmail.h"

/*
 * Parse a status line. Returns 0 with *ok and *text (what follows the
 * status word) or -1 if it is neither +OK nor -ERR.
 */
int
pop3_parse_status(const char *line, size_t len, int *ok, const char **text)
{
	size_t	 n;

	if (len >= 3 && strncmp(line, "+OK", 3) == 0) {
		*ok = 1;
		n = 3;
	} else if (len >= 4 && strncmp(line, "-ERR", 4) == 0) {
		*ok = 0;
		n = 4;
	} else
		return -1;
	if (len > n && line[n] != ' ')
		return -1;
	while (n < len && line[n] == ' ')
		n++;
	*text = line + n;
	return 0;
}

/*
 * RFC 2449 and 3206 response codes at the start of an -ERR text decide
 * whether a failure is temporary or permanent; dflt when there is none.
 */
int
pop3_resp_status(const char *text, int dflt)
{
	static const struct {
		const char	*code;
		int		 status;
	} codes[] = {
		{ "[IN-USE]",		EX_TEMPFAIL },
		{ "[LOGIN-DELAY]",	EX_TEMPFAIL },
		{ "[SYS/TEMP]",		EX_TEMPFAIL },
		{ "[AUTH]",		EX_NOPERM },
		{ "[SYS/PERM]",		EX_NOPERM },
	};
	size_t	 i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncasecmp(text, codes[i].code, strlen(codes[i].code)) == 0)
			return codes[i].status;
	return dflt;
}

/* Keep the reply text (escaped later, when shown). */
static void
save_text(struct pop3 *p, const char *text)
{
	strlcpy(p->resp, text, sizeof(p->resp));
}

/*
 * Describe the last -ERR for a message: escaped, never raw; a bare -ERR
 * (popa3d's way) says so in words rather than leaving a dangling colon.
 */
static char *
resp_vis(struct pop3 *p)
{
	if (p->resp[strspn(p->resp, " \t")] == '\0')
		return xstrdup("the server gave no reason");
	return log_vis(p->resp, strlen(p->resp));
}

/* A TLS port taken for a plain one: say what to change (78). */
static void
tls_port_error(struct pop3 *p)
{
	err_set(p->err, EX_CONFIG, "%s: port %s speaks TLS from the first "
	    "byte (implicit TLS), not plain POP3: set tls = implicit for this "
	    "port, or use the server's plain port (usually 110) for %s",
	    p->conn.host, p->acct->port, p->acct->tls == TLSM_STARTTLS ?
	    "STLS" : "tls = none");
}

/* Read one status line. Returns -1 on I/O error or a malformed reply. */
static int
read_status(struct pop3 *p, int *ok)
{
	char		*line;
	const char	*text;
	size_t		 len;
	char		*v;

	if (conn_flush(&p->conn, p->err) == -1)
		return -1;
	if (conn_getline(&p->conn, &line, &len, p->err) == -1)
		return -1;
	if (pop3_parse_status(line, len, ok, &text) == -1) {
		if (len >= 2 && (line[0] == 0x15 || line[0] == 0x16) &&
		    line[1] == 0x03 && p->conn.ssl == NULL) {
			tls_port_error(p);
			return -1;
		}
		v = log_vis(line, len > 80 ? 80 : len);
		err_set(p->err, EX_PROTOCOL, "%s: protocol error: expected +OK "
		    "or -ERR, got \"%s\"", p->conn.host, v);
		free(v);
		return -1;
	}
	save_text(p, text);
	return 0;
}

/*
 * Nothing may come from the server that no command asked for: a reply to
 * a command never sent would be taken for the reply to the next one. What
 * is already buffered when no command is in flight is such a reply.
 */
int
pop3_unsolicited(struct pop3 *p)
{
	struct conn	*c = &p->conn;
	size_t		 n = c->rlen - c->roff;
	char		*v;

	if (n == 0)
		return 0;
	v = log_vis(c->rbuf + c->roff, n > 60 ? 60 : n);
	err_set(p->err, EX_PROTOCOL, "%s: protocol error: a reply to no "
	    "command: \"%s\"", c->host, v);
	free(v);
	return -1;
}

/* Send one command and wait for its reply; for the unpipelined steps. */
static int	 simple_cmd(struct pop3 *, int *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
simple_cmd(struct pop3 *p, int *ok, const char *fmt, ...)
{
	char	 buf[PM_LINE_MAX + 3];
	va_list	 ap;
	int	 n;

	if (pop3_unsolicited(p) == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		fatalx("command too long");
	log_trace('>', buf, n);
	memcpy(buf + n, "\r\n", 2);
	conn_queue(&p->conn, buf, n + 2);
	explicit_bzero(buf, sizeof(buf));
	return read_status(p, ok);
}

/*
 * Read one line of a multi-line reply. Returns 1 for a data line (dot-
 * stuffing removed), 0 at the terminating ".", -1 on error.
 */
static int
read_multi(struct pop3 *p, char **line, size_t *len)
{
	if (conn_getline(&p->conn, line, len, p->err) == -1)
		return -1;
	if ((*line)[0] == '.') {
		if (*len == 1)
			return 0;
		(*line)++;
		(*len)--;
	}
	return 1;
}

/* The number a capability such as LOGIN-DELAY gives; -1 if none. */
static long
capa_number(const char *s)
{
	char	*end;
	long	 n;

	if (*s < '0' || *s > '9')
		return -1;
	n = strtol(s, &end, 10);
	if ((*end != '\0' && *end != ' ') || n < 0 || n > 86400L * 366)
		return -1;
	return n;
}

static int
read_capa(struct pop3 *p)
{
	char	*line, *word;
	size_t	 len, n = 0;
	int	 ok, r;

	p->has_capa = p->has_stls = p->has_uidl = p->has_user = 0;
	p->has_resp_codes = p->pipelining = p->has_utf8 = 0;
	p->login_delay = -1;
	p->sasl[0] = '\0';
	p->capa_raw[0] = '\0';
	if (simple_cmd(p, &ok, "CAPA") == -1)
		return -1;
	if (!ok)
		return 0;	/* an RFC 1939 server: no capabilities known */
	p->has_capa = 1;
	while ((r = read_multi(p, &line, &len)) == 1) {
		if (++n > PM_CAPA_MAX) {
			err_set(p->err, EX_PROTOCOL, "%s: protocol error: CAPA "
			    "reply longer than %d lines", p->conn.host,
			    PM_CAPA_MAX);
			return -1;
		}
		if (p->capa_raw[0] != '\0')
			strlcat(p->capa_raw, "\n", sizeof(p->capa_raw));
		strlcat(p->capa_raw, line, sizeof(p->capa_raw));
		word = line;
		line[strcspn(line, " ")] = '\0';
		if (strcasecmp(word, "STLS") == 0)
			p->has_stls = 1;
		else if (strcasecmp(word, "UIDL") == 0)
			p->has_uidl = 1;
		else if (strcasecmp(word, "USER") == 0)
			p->has_user = 1;
		else if (strcasecmp(word, "PIPELINING") == 0)
			p->pipelining = 1;
		else if (strcasecmp(word, "RESP-CODES") == 0)
			p->has_resp_codes = 1;
		else if (strcasecmp(word, "UTF8") == 0)
			p->has_utf8 = 1;
		else if (strcasecmp(word, "LOGIN-DELAY") == 0 &&
		    line + len > word + 12)
			p->login_delay = capa_number(word + 12);
		else if (strcasecmp(word, "SASL") == 0 && line + len > word + 4)
			strlcpy(p->sasl, word + 5, sizeof(p->sasl));
	}
	return r;
}

static int
starttls(struct pop3 *p)
{
	int	 ok;

	if (p->has_capa && !p->has_stls) {
		err_set(p->err, EX_NOPERM, "%s: server does not offer STLS: "
		    "refusing to continue without TLS", p->conn.host);
		return -1;
	}
	if (simple_cmd(p, &ok, "STLS") == -1)
		return -1;
	if (!ok) {
		char *v = resp_vis(p);
		err_set(p->err, EX_NOPERM, "%s: STLS refused (%s): refusing to "
		    "continue without TLS", p->conn.host, v);
		free(v);
		return -1;
	}
	/*
	 * Anything the server sent after its +OK arrived before the handshake
	 * and could have been injected by an attacker (RFC 2595 section 3.1).
	 */
	if (p->conn.roff != p->conn.rlen) {
		err_set(p->err, EX_PROTOCOL, "%s: protocol error: data after "
		    "the reply to STLS (possible command injection)",
		    p->conn.host);
		return -1;
	}
	if (conn_tls(&p->conn, p->acct, p->err) == -1)
		return -1;
	/* RFC 2595: forget what we learned before TLS and ask again. */
	return read_capa(p);
}

/*
 * RFC 6856: a server that says UTF8 may otherwise rewrite a message whose
 * header has raw UTF-8 (Courier wraps it in a "your mail reader does not
 * support Unicode" notice); after UTF8 it sends the message as it is. Sent
 * after STLS and before the login, as the RFC asks. Refused is no error:
 * the server then sends what it sends to any client.
 */
static int
utf8(struct pop3 *p)
{
	int	 ok;

	if (simple_cmd(p, &ok, "UTF8") == -1)
		return -1;
	p->utf8 = ok ? 1 : -1;
	if (!ok) {
		char *v = resp_vis(p);

		log_debug("%s: UTF8 refused: %s", p->conn.host, v);
		free(v);
	}
	return 0;
}

/*
 * Capabilities may change with the login (RFC 2449 section 5): some
 * servers show UIDL, PIPELINING or user-specific values only afterwards.
 * Ask again; if CAPA is refused now, what was learned before stands.
 */
static int
recapa(struct pop3 *p)
{
	int	 has_capa = p->has_capa, has_stls = p->has_stls;
	int	 has_uidl = p->has_uidl, has_user = p->has_user;
	int	 has_rc = p->has_resp_codes, pipe = p->pipelining;
	int	 has_utf8 = p->has_utf8;
	long	 delay = p->login_delay;
	char	 sasl[sizeof(p->sasl)], raw[sizeof(p->capa_raw)];

	p->recapa = 1;
	memcpy(sasl, p->sasl, sizeof(sasl));
	memcpy(raw, p->capa_raw, sizeof(raw));
	if (read_capa(p) == -1)
		return -1;
	if (!p->has_capa && has_capa) {
		p->has_capa = has_capa;
		p->has_stls = has_stls;
		p->has_uidl = has_uidl;
		p->has_user = has_user;
		p->has_resp_codes = has_rc;
		p->pipelining = pipe;
		p->has_utf8 = has_utf8;
		p->login_delay = delay;
		memcpy(p->sasl, sasl, sizeof(sasl));
		memcpy(p->capa_raw, raw, sizeof(raw));
	}
	if (p->acct->pipelining >= 0)
		p->pipelining = p->acct->pipelining;
	return 0;
}

/*
 * After the login: ask for the capabilities again if the first answer
 * lacked what a session needs (UIDL), or there was none.
 */
int
pop3_after_login(struct pop3 *p)
{
	if (p->has_capa && p->has_uidl)
		return 0;
	return recapa(p);
}

/*
 * Before fetching NFETCH messages lock-step: a server that did not say
 * PIPELINING before the login may say it now. One round trip, spent only
 * when there are enough messages to gain from it.
 */
int
pop3_before_fetch(struct pop3 *p, size_t nfetch)
{
	if (p->recapa || p->pipelining || p->acct->pipelining >= 0 ||
	    nfetch < 4)
		return 0;
	return recapa(p);
}

/*
 * A POP3 server greets at once; a TLS port says nothing until the client
 * speaks. If no greeting has come after GREETING_PROBE_MS, try a TLS
 * handshake on a second connection: if it succeeds, the account's port is
 * a TLS port and waiting out the timeout would only end in "timed out"
 * (75) for what is a configuration error (78). If it fails, go on waiting
 * for the greeting as usual (a slow server got one stray connection, and
 * the wait is up to a quarter of the timeout, at most 10 s, longer).
 */
#define GREETING_PROBE_MS	3000

static int
greeting_probe(struct pop3 *p)
{
	struct conn	 probe;
	struct pm_err	 perr;
	int		 r, secs;

	/* A short timeout is its own answer: no probe. */
	if (p->conn.timeout_ms <= 2 * GREETING_PROBE_MS)
		return 0;
	switch (conn_poll(p->conn.fd, POLLIN, GREETING_PROBE_MS)) {
	case CW_READY:
	case CW_STOPPED:	/* the read that follows says so */
	case CW_ERROR:
		return 0;
	case CW_TIMEOUT:
		break;
	}
	memset(&perr, 0, sizeof(perr));
	secs = p->acct->timeout / 4 < 10 ? p->acct->timeout / 4 : 10;
	if (secs < 1)
		secs = 1;
	if (conn_open(&probe, p->acct->host, p->acct->port, secs, &perr) == -1) {
		conn_close(&probe);
		return 0;
	}
	probe.inspect = 1;
	r = conn_tls(&probe, p->acct, &perr);
	conn_close(&probe);
	if (r == 0) {
		log_debug("%s: no greeting, but a TLS handshake on port %s "
		    "succeeded", p->conn.host, p->acct->port);
		tls_port_error(p);
		return -1;
	}
	return 0;
}

/* Connect, take the greeting, negotiate TLS and capabilities. */
int
pop3_connect(struct pop3 *p, const struct account *a, int inspect,
    struct pm_err *err)
{
	int	 ok;
	char	*v;

	memset(p, 0, sizeof(*p));
	p->acct = a;
	p->err = err;
	log_trace_account(a->name);
	p->conn.fd = -1;
	if (conn_open(&p->conn, a->host, a->port, a->timeout, err) == -1)
		return -1;
	p->conn.inspect = inspect;
	if (a->tls == TLSM_IMPLICIT && conn_tls(&p->conn, a, err) == -1)
		return -1;
	if (a->tls != TLSM_IMPLICIT && greeting_probe(p) == -1)
		return -1;
	if (read_status(p, &ok) == -1)
		return -1;
	strlcpy(p->greeting, p->resp, sizeof(p->greeting));
	if (!ok) {
		v = resp_vis(p);
		err_set(err, pop3_resp_status(p->resp, EX_TEMPFAIL), "%s: "
		    "server refused the connection: %s", a->host, v);
		free(v);
		return -1;
	}
	/* An APOP timestamp: <...@...> in the greeting (RFC 1939). */
	{
		const char *lt = strchr(p->resp, '<'), *gt;

		if (lt != NULL && (gt = strchr(lt, '>')) != NULL &&
		    memchr(lt, '@', gt - lt) != NULL &&
		    (size_t)(gt - lt + 1) < sizeof(p->apop_ts))
			strlcpy(p->apop_ts, lt, gt - lt + 2);
	}
	if (read_capa(p) == -1)
		return -1;
	if (a->tls == TLSM_STARTTLS && starttls(p) == -1)
		return -1;
	if (p->has_utf8 && utf8(p) == -1)
		return -1;
	/* pipelining = yes for servers that pipeline without saying so. */
	if (a->pipelining >= 0)
		p->pipelining = a->pipelining;
	return 0;
}

/*
 * One step of a login: send a line (a command or a SASL response; it is
 * wiped from memory after sending) and read the reply. Returns 1 for a
 * "+ " continuation (*challenge points at its text), 0 for +OK, 2 for
 * -ERR (text kept for pop3_last_text), -1 on I/O or protocol error.
 */
int
pop3_auth_step(struct pop3 *p, const char *line, const char **challenge)
{
	const char	*text;
	char		*l, *v;
	size_t		 len;
	int		 ok;

	if (pop3_unsolicited(p) == -1)
		return -1;
	log_trace('>', line, strlen(line));
	conn_queue(&p->conn, line, strlen(line));
	conn_queue(&p->conn, "\r\n", 2);
	if (conn_flush(&p->conn, p->err) == -1)
		return -1;
	if (conn_getline(&p->conn, &l, &len, p->err) == -1)
		return -1;
	if (len >= 1 && l[0] == '+' && (len == 1 || l[1] == ' ')) {
		*challenge = len == 1 ? "" : l + 2;
		return 1;
	}
	if (pop3_parse_status(l, len, &ok, &text) == -1) {
		v = log_vis(l, len > 80 ? 80 : len);
		err_set(p->err, EX_PROTOCOL, "%s: protocol error: expected +OK, "
		    "-ERR or +, got \"%s\"", p->conn.host, v);
		free(v);
		return -1;
	}
	save_text(p, text);
	return ok ? 0 : 2;
}

/*
 * Record a refused login, with the server's (escaped) reason, and for the
 * RFC 2449 codes that mean "not now", what happens and what to do.
 */
void
pop3_auth_refused(struct pop3 *p, const char *mech, const char *extra)
{
	char	*v = resp_vis(p), hint[200];

	hint[0] = '\0';
	if (strncasecmp(p->resp, "[LOGIN-DELAY]", 13) == 0) {
		if (p->login_delay > 0)
			snprintf(hint, sizeof(hint), " (the server allows one "
			    "login every %ld seconds: nothing was fetched; "
			    "run pullmail less often)", p->login_delay);
		else
			strlcpy(hint, " (the server wants more time between "
			    "logins: nothing was fetched; run pullmail less "
			    "often)", sizeof(hint));
	} else if (strncasecmp(p->resp, "[IN-USE]", 8) == 0)
		strlcpy(hint, " (another POP3 session has the mailbox open, "
		    "another client or one not yet ended: nothing was "
		    "fetched; try again later)", sizeof(hint));
	err_set(p->err, pop3_resp_status(p->resp, EX_NOPERM), "%s: login "
	    "refused (%s): %s%s%s%s", p->conn.host, mech, v, extra ? " " : "",
	    extra ? extra : "", hint);
	free(v);
}

static int
msg_cmp_num(const void *a, const void *b)
{
	const struct msg	*x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static struct msg *
find_num(struct msg *m, size_t n, unsigned int num)
{
	struct msg	 key;

	/* An empty LIST: m may be NULL, which bsearch must not be given. */
	if (n == 0)
		return NULL;
	/* Numbers are 1..n at the start of a session; fast path first. */
	if (num >= 1 && num <= n && m[num - 1].num == num)
		return &m[num - 1];
	key.num = num;
	return bsearch(&key, m, n, sizeof(*m), msg_cmp_num);
}

static int
valid_uid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > PM_UID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* Parse "NUM REST"; NUM is 1 to PM_MSGS_MAX. Returns REST or NULL. */
static const char *
parse_num(const char *line, unsigned int *num)
{
	char		 buf[16];
	const char	*sp, *errstr;
	size_t		 n;

	if ((sp = strchr(line, ' ')) == NULL || (n = sp - line) == 0 ||
	    n >= sizeof(buf))
		return NULL;
	memcpy(buf, line, n);
	buf[n] = '\0';
	*num = strtonum(buf, 1, PM_MSGS_MAX, &errstr);
	if (errstr != NULL || !isdigit((unsigned char)buf[0]))
		return NULL;
	return sp + 1;
}

static void
listing_error(struct pop3 *p, const char *cmd, const char *what,
    const char *line)
{
	char	*v = log_vis(line, strlen(line) > 80 ? 80 : strlen(line));

	err_set(p->err, EX_PROTOCOL, "%s: protocol error in %s reply: %s: "
	    "\"%s\"", p->conn.host, cmd, what, v);
	free(v);
}

static int
read_list(struct pop3 *p, struct msg **msgsp, size_t *nmsgs)
{
	struct msg	*m = NULL;
	size_t		 n = 0, alloc = 0, len, i;
	const char	*rest, *errstr;
	char		*line;
	unsigned int	 num;
	long long	 size;
	int		 r, sorted = 1;

	while ((r = read_multi(p, &line, &len)) == 1) {
		if ((rest = parse_num(line, &num)) == NULL) {
			listing_error(p, "LIST", "bad message number", line);
			goto fail;
		}
		size = strtonum(rest, 0, INT64_MAX, &errstr);
		if (errstr != NULL || !isdigit((unsigned char)*rest)) {
			listing_error(p, "LIST", "bad size", line);
			goto fail;
		}
		if (n == alloc) {
			alloc = alloc == 0 ? 256 : alloc * 2;
			m = xreallocarray(m, alloc, sizeof(*m));
		}
		memset(&m[n], 0, sizeof(m[n]));
		m[n].num = num;
		m[n].size = size;
		if (n > 0 && m[n - 1].num >= num)
			sorted = 0;
		n++;
		if (n > PM_MSGS_MAX) {
			listing_error(p, "LIST", "too many messages", line);
			goto fail;
		}
	}
	if (r == -1)
		goto fail;
	if (!sorted) {
		qsort(m, n, sizeof(*m), msg_cmp_num);
		for (i = 1; i < n; i++)
			if (m[i].num == m[i - 1].num) {
				err_set(p->err, EX_PROTOCOL, "%s: protocol "
				    "error in LIST reply: message %u listed "
				    "twice", p->conn.host, m[i].num);
				goto fail;
			}
	}
	*msgsp = m;
	*nmsgs = n;
	return 0;
fail:
	free(m);
	return -1;
}

static int
msg_cmp_uidnum(const void *a, const void *b)
{
	const struct msg	*x = *(struct msg * const *)a;
	const struct msg	*y = *(struct msg * const *)b;
	int			 c = strcmp(x->uid, y->uid);

	if (c != 0)
		return c;
	return x->num < y->num ? -1 : x->num > y->num;
}

/*
 * The cache key of a UID. An RFC 1939 UID (1 to 70 characters 0x21-0x7e)
 * is its own key. Anything else a server sends as a UID (blanks, control
 * bytes, 8-bit, longer) is still a stable name for the message: its key
 * is "~ " and the SHA-256 of its bytes in hex, which no real UID can be
 * (it has a blank) and no two UIDs share.
 */
char *
pop3_uid_key(const char *uid, size_t len, int *odd)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	char		*key;

	*odd = !valid_uid(uid, len);
	if (!*odd)
		return xstrndup(uid, len);
	if (EVP_Digest(uid, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		fatalx("SHA-256 failed");
	key = xmalloc(2 + 2 * mdlen + 1);
	key[0] = '~';
	key[1] = ' ';
	for (i = 0; i < mdlen; i++)
		snprintf(key + 2 + 2 * i, 3, "%02x", md[i]);
	return key;
}

/*
 * Several messages with one UID (popa3d gives identical copies the same
 * one): the first, in message order, keeps the UID as its key, the n-th
 * gets "UID n". Numbers keep their order across sessions, so each copy
 * keeps its key (or, when another client deletes one, the later copies
 * take the keys of the earlier ones, already delivered: none is fetched
 * twice). *ndupp is the number of UIDs shared.
 */
static void
number_copies(struct msg *m, size_t n, size_t *ndupp)
{
	struct msg	**byuid;
	char		*key;
	size_t		 i, j, k;

	*ndupp = 0;
	if (n < 2)
		return;
	byuid = xreallocarray(NULL, n, sizeof(*byuid));
	for (i = 0; i < n; i++)
		byuid[i] = &m[i];
	qsort(byuid, n, sizeof(*byuid), msg_cmp_uidnum);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(byuid[j]->uid,
		    byuid[i]->uid) == 0; j++)
			;
		if (j - i == 1)
			continue;
		(*ndupp)++;
		for (k = i; k < j; k++) {
			byuid[k]->copy = k - i + 1;
			byuid[k]->copies = j - i;
		}
		for (k = i + 1; k < j; k++) {
			xasprintf(&key, "%s %zu", byuid[k]->uid, k - i + 1);
			free(byuid[k]->uid);
			byuid[k]->uid = key;
		}
	}
	free(byuid);
}

static int
read_uidl(struct pop3 *p, struct msg *m, size_t n)
{
	struct msg	*t;
	const char	*uid;
	char		*line;
	size_t		 len, got = 0, ndup;
	unsigned int	 num;
	int		 r;

	while ((r = read_multi(p, &line, &len)) == 1) {
		if ((uid = parse_num(line, &num)) == NULL) {
			listing_error(p, "UIDL", "bad message number", line);
			return -1;
		}
		if ((t = find_num(m, n, num)) == NULL) {
			listing_error(p, "UIDL", "message number not in LIST",
			    line);
			return -1;
		}
		if (t->uid != NULL) {
			listing_error(p, "UIDL", "message listed twice", line);
			return -1;
		}
		t->uid = pop3_uid_key(uid, len - (uid - line), &t->odd_uid);
		got++;
	}
	if (r == -1)
		return -1;
	if (got != n) {
		err_set(p->err, EX_PROTOCOL, "%s: protocol error: UIDL lists "
		    "%zu messages, LIST %zu", p->conn.host, got, n);
		return -1;
	}
	number_copies(m, n, &ndup);
	return 0;
}

/*
 * One LIST and one UIDL for the whole mailbox (sent together when the
 * server pipelines). Without UIDL support the messages have no UID.
 */
int
pop3_listing(struct pop3 *p, struct msg **msgsp, size_t *nmsgs)
{
	struct msg	*m = NULL;
	size_t		 n = 0, i;
	int		 ok, want_uidl;
	char		*v;

	want_uidl = !p->has_capa || p->has_uidl;
	conn_queue(&p->conn, "LIST\r\n", 6);
	log_trace('>', "LIST", 4);
	if (want_uidl && p->pipelining) {
		conn_queue(&p->conn, "UIDL\r\n", 6);
		log_trace('>', "UIDL", 4);
	}
	if (read_status(p, &ok) == -1)
		return -1;
	if (!ok) {
		v = resp_vis(p);
		err_set(p->err, pop3_resp_status(p->resp, EX_PROTOCOL), "%s: "
		    "LIST refused: %s", p->conn.host, v);
		free(v);
		return -1;
	}
	if (read_list(p, &m, &n) == -1)
		return -1;
	if (want_uidl) {
		if (!p->pipelining) {
			conn_queue(&p->conn, "UIDL\r\n", 6);
			log_trace('>', "UIDL", 4);
		}
		if (read_status(p, &ok) == -1)
			goto fail;
		if (ok && read_uidl(p, m, n) == -1)
			goto fail;
		if (!ok && p->has_uidl) {
			v = resp_vis(p);
			err_set(p->err, EX_PROTOCOL, "%s: UIDL refused: %s",
			    p->conn.host, v);
			free(v);
			goto fail;
		}
	}
	*msgsp = m;
	*nmsgs = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(m[i].uid);
	free(m);
	return -1;
}

/* How many commands may be in flight at once. */
int
pop3_window(struct pop3 *p)
{
	return p->pipelining ? PM_WINDOW : 1;
}

/* Queue a command; its reply is read later by pop3_reply, in order. */
int
pop3_send(struct pop3 *p, enum pop3_cmd cmd, size_t idx, const char *fmt,
    ...)
{
	char	 buf[128];
	va_list	 ap;
	int	 n;

	if (p->pcount == PM_WINDOW)
		fatalx("pop3_send: window full");
	if (p->pcount == 0 && pop3_unsolicited(p) == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		fatalx("pop3_send: command too long");
	log_trace('>', buf, n);
	memcpy(buf + n, "\r\n", 2);
	conn_queue(&p->conn, buf, n + 2);
	p->pend[(p->phead + p->pcount) % PM_WINDOW].cmd = cmd;
	p->pend[(p->phead + p->pcount) % PM_WINDOW].idx = idx;
	p->pcount++;
	return 0;
}

/*
 * Read the reply to the oldest command in flight (sending what is queued
 * first). After +OK to RETR the caller must read the body with pop3_body.
 */
int
pop3_reply(struct pop3 *p, enum pop3_cmd *cmd, size_t *idx, int *ok)
{
	if (p->pcount == 0)
		fatalx("pop3_reply: nothing in flight");
	*cmd = p->pend[p->phead].cmd;
	*idx = p->pend[p->phead].idx;
	p->phead = (p->phead + 1) % PM_WINDOW;
	p->pcount--;
	return read_status(p, ok);
}

/* The last reply's text, escaped; the caller frees it. */
char *
pop3_last_text(struct pop3 *p)
{
	return resp_vis(p);
}

enum {
	BD_BOL,		/* at the start of a line */
	BD_MID,		/* inside a line */
	BD_CR,		/* a CR seen inside a line, not yet written */
	BD_DOT,		/* a '.' seen at the start of a line */
	BD_DOTCR	/* ".\r" seen at the start of a line */
};

void
body_dec_init(struct body_dec *d)
{
	memset(d, 0, sizeof(*d));
	d->state = BD_BOL;
}

/*
 * Decode len bytes of a multi-line body, passing the decoded bytes to
 * sink. Stops after the terminating ".\r\n" (d->done set). Returns how many
 * bytes were consumed; *failed is set if the sink failed.
 */
size_t
body_dec_run(struct body_dec *d, const char *buf, size_t len, body_sink sink,
    void *arg, int *failed)
{
	const char	*p, *end = buf + len, *s, *nl;

	*failed = 0;
	for (p = buf; p < end && !d->done; ) {
		switch (d->state) {
		case BD_BOL:
			if (*p == '.') {
				d->state = BD_DOT;
				p++;
				break;
			}
			d->state = BD_MID;
			break;
		case BD_DOT:
			if (*p == '\r') {
				d->state = BD_DOTCR;
				p++;
			} else if (*p == '\n') {
				d->done = 1;	/* ".\n": lenient terminator */
				d->lenient = 1;
				p++;
			} else
				d->state = BD_MID;	/* stuffed dot dropped */
			break;
		case BD_DOTCR:
			if (*p == '\n') {
				d->done = 1;
				p++;
				break;
			}
			/* ".\rX": the line, unstuffed, starts with a CR. */
			d->state = BD_CR;
			break;
		case BD_CR:
			if (*p == '\n') {
				if (sink(arg, "\n", 1) == -1)
					goto fail;
				d->lines++;
				d->state = BD_BOL;
				p++;
				break;
			}
			if (sink(arg, "\r", 1) == -1)	/* a bare CR is data */
				goto fail;
			d->state = BD_MID;
			break;
		case BD_MID:
			s = p;
			nl = memchr(p, '\n', end - p);
			if (nl == NULL) {
				/* Hold back a final CR: it may start CRLF. */
				if (end[-1] == '\r') {
					if (end - 1 > s &&
					    sink(arg, s, end - 1 - s) == -1)
						goto fail;
					d->state = BD_CR;
				} else if (sink(arg, s, end - s) == -1)
					goto fail;
				p = end;
				break;
			}
			if (nl > s && nl[-1] == '\r') {
				if ((nl - 1 > s && sink(arg, s, nl - 1 - s) == -1) ||
				    sink(arg, "\n", 1) == -1)
					goto fail;
			} else if (sink(arg, s, nl + 1 - s) == -1)
				goto fail;
			d->lines++;
			p = nl + 1;
			d->state = BD_BOL;
			break;
		}
	}
	d->in += p - buf;
	return p - buf;
fail:
	*failed = 1;
	d->in += p - buf;
	return p - buf;
}

/*
 * Stream a multi-line body through the decoder into sink; *d tells how
 * many bytes were received (d->in) and how many lines decoded (d->lines).
 * A connection that ends before the terminator is an error: a message is
 * never complete without it.
 */
int
pop3_body(struct pop3 *p, body_sink sink, void *arg, struct body_dec *d)
{
	struct conn	*c = &p->conn;
	size_t		 used;
	int		 failed;

	body_dec_init(d);
	for (;;) {
		if (c->roff == c->rlen && conn_fill(c, p->err) == -1)
			return -1;
		used = body_dec_run(d, c->rbuf + c->roff, c->rlen - c->roff,
		    sink, arg, &failed);
		c->roff += used;
		if (failed)
			return -1;
		if (d->done)
			break;
	}
	log_debug("%s: < (%llu bytes of message data)", p->acct->name,
	    (unsigned long long)d->in);
	return 0;
}

/*
 * QUIT: the server now commits the deletions. Only called at the end of a
 * clean session; an error anywhere before means no QUIT, so the server
 * rolls every DELE back.
 */
int
pop3_quit(struct pop3 *p)
{
	int	 ok;
	char	*v;

	if (simple_cmd(p, &ok, "QUIT") == -1)
		return -1;
	if (!ok) {
		v = resp_vis(p);
		err_set(p->err, EX_TEMPFAIL, "%s: QUIT failed, deletions may "
		    "not be done: %s", p->conn.host, v);
		free(v);
		return -1;
	}
	p->conn.clean = 1;
	return 0;
}

void
pop3_close(struct pop3 *p)
{
	/* The session is over: its secrets (auth_login) are wiped. */
	log_secret_clear();
	conn_close(&p->conn);
	log_trace_account(NULL);
}
