/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * All of pullmail's output goes through here. Errors always reach stderr;
 * -v adds progress, -vv a protocol trace in which secrets are replaced by
 * "***". Server text is escaped with stravis before it is shown, and any
 * registered secret in it (the password or token of the account in hand,
 * a server may echo it in an error) is replaced by "***" first.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>
#include <vis.h>

#include "pullmail.h"

static int	 verbosity;
static int	 use_syslog;

/*
 * The secrets of the session in hand, copies of them, wiped when cleared.
 * A trailing piece of a secret at least SECRET_PIECE_MIN bytes long also
 * goes: server text is often cut short before it is escaped. A secret
 * shorter than SECRET_MIN is not worth hiding (and hiding it would leave
 * no message readable); our own lines, which hold a secret only by
 * mistake, are checked for those of SECRET_LINE_MIN bytes or more (a
 * shorter one may be a word: "mail" in every path).
 */
#define SECRET_MIN		4
#define SECRET_PIECE_MIN	4
#define SECRET_LINE_MIN		8
struct secret {
	char	*s;
	size_t	 len;
};
static struct secret	*secrets;
static size_t		 nsecrets;

void
log_init(int v, int sl)
{
	verbosity = v;
	use_syslog = sl;
	if (use_syslog)
		openlog("pullmail", LOG_PID, LOG_MAIL);
}

int
log_verbosity(void)
{
	return verbosity;
}

/*
 * Remember s as a secret: from now on it never shows in what log_vis
 * returns, nor (SECRET_LINE_MIN bytes or more) in any line logged. One
 * shorter than SECRET_MIN is ignored.
 */
void
log_secret_add(const char *s)
{
	size_t	 len = strlen(s), i;

	if (len < SECRET_MIN)
		return;
	for (i = 0; i < nsecrets; i++)
		if (secrets[i].len == len && memcmp(secrets[i].s, s, len) == 0)
			return;
	secrets = xreallocarray(secrets, nsecrets + 1, sizeof(*secrets));
	secrets[nsecrets].s = xstrndup(s, len);
	secrets[nsecrets].len = len;
	nsecrets++;
}

/* Forget (and wipe) every secret. */
void
log_secret_clear(void)
{
	size_t	 i;

	for (i = 0; i < nsecrets; i++)
		freezero(secrets[i].s, secrets[i].len + 1);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

/*
 * The length of the secret that starts at s (len bytes left), the longest
 * if several do, or 0; only secrets of at least min bytes count. With
 * pieces set, a secret cut short by the end of s counts too, if at least
 * SECRET_PIECE_MIN bytes of it are there.
 */
static size_t
secret_at(const char *s, size_t len, size_t min, int pieces)
{
	size_t	 i, n, best = 0;

	for (i = 0; i < nsecrets; i++) {
		if ((n = secrets[i].len) < min)
			continue;
		if (n > len) {
			if (!pieces || len < SECRET_PIECE_MIN)
				continue;
			n = len;
		}
		if (n > best && memcmp(s, secrets[i].s, n) == 0)
			best = n;
	}
	return best;
}

/*
 * s (len bytes) with every registered secret of at least min bytes
 * replaced by "***"; *outlen is the new length, *size what was allocated
 * (for freezero). NULL if there is nothing to replace.
 */
static char *
redact(const char *s, size_t len, size_t min, int pieces, size_t *outlen,
    size_t *size)
{
	char	*out = NULL;
	size_t	 i, j = 0, n;

	for (i = 0; i < len; ) {
		if ((n = secret_at(s + i, len - i, min, pieces)) == 0) {
			if (out != NULL)
				out[j++] = s[i];
			i++;
			continue;
		}
		if (out == NULL) {
			/* "***" never makes it longer than s plus 3. */
			*size = len + 4;
			out = xmalloc(*size);
			memcpy(out, s, i);
			j = i;
		}
		memcpy(out + j, "***", 3);
		j += 3;
		i += n;
	}
	if (out != NULL) {
		out[j] = '\0';
		*outlen = j;
	}
	return out;
}

/*
 * One write(2) per line, so that lines from accounts fetched in parallel
 * (-j) never interleave. A registered secret never gets through, whatever
 * the line is made of.
 */
static void __attribute__((format(printf, 2, 0)))
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[4096], *r;
	size_t	 rlen, rsize;
	int	 n, cut;

	n = snprintf(buf, sizeof(buf), "pullmail: ");
	cut = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap) >=
	    (int)sizeof(buf) - n - 1;
	/* A line cut short may end with a piece of a secret. */
	if (nsecrets > 0 && (r = redact(buf + n, strlen(buf + n),
	    SECRET_LINE_MIN, cut, &rlen, &rsize)) != NULL) {
		strlcpy(buf + n, r, sizeof(buf) - n - 1);
		freezero(r, rsize);
	}
	if (use_syslog) {
		syslog(pri, "%s", buf + n);
		return;
	}
	n = strlen(buf);
	buf[n++] = '\n';
	fflush(stderr);
	if (write(STDERR_FILENO, buf, n) == -1)
		return;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

/* Worth a line even from cron, unless -q: a message left on the server. */
void
log_notice(const char *fmt, ...)
{
	va_list	 ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (verbosity < 2)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(70);
}

/*
 * Escape untrusted bytes: control characters, 8-bit bytes, backslash.
 * Secrets go first, on the raw bytes (escaping would change how one that
 * holds such bytes looks), and so does a piece of one that ends s: the
 * callers often pass a reply cut short.
 */
char *
log_vis(const char *s, size_t len)
{
	char	*out, *r = NULL;
	size_t	 rsize = 0;

	if (nsecrets > 0 && (r = redact(s, len, SECRET_MIN, 1, &len,
	    &rsize)) != NULL)
		s = r;
	out = xreallocarray(NULL, len + 1, 4);
	strnvisx(out, len * 4 + 1, s, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB |
	    VIS_NL);
	if (r != NULL)
		freezero(r, rsize);
	return out;
}

static const char *trace_account;

/*
 * Protocol trace. dir is '<' for what the server sent, '>' for what we
 * sent. The arguments of PASS and APOP are secrets, and so is everything
 * of a SASL exchange after "AUTH MECH": from the AUTH line on, every line
 * we send is hidden (but for "*", the cancel) until the server answers
 * with something other than a continuation ("+" alone or "+ ..."), which
 * ends the exchange (+OK or -ERR, or garbage that ends the session).
 */
void
log_trace(int dir, const char *line, size_t len)
{
	static int	 in_sasl;
	char		*v;
	size_t		 keep = len;

	if (verbosity < 2)
		return;
	if (dir == '<') {
		if (in_sasl && !(len == 1 && line[0] == '+') &&
		    !(len >= 2 && line[0] == '+' && line[1] == ' '))
			in_sasl = 0;
	} else if (in_sasl) {
		if (len != 1 || line[0] != '*')
			keep = 0;
	} else if (len >= 5 && (strncasecmp(line, "PASS ", 5) == 0 ||
	    strncasecmp(line, "APOP ", 5) == 0))
		keep = 5;
	else if (len >= 5 && strncasecmp(line, "AUTH ", 5) == 0) {
		const char *sp = memchr(line + 5, ' ', len - 5);

		keep = sp == NULL ? len : (size_t)(sp - line) + 1;
		in_sasl = 1;
	}
	v = log_vis(line, keep);
	if (trace_account != NULL)
		log_debug("%s: %c %s%s", trace_account, dir, v,
		    keep < len ? "***" : "");
	else
		log_debug("%c %s%s", dir, v, keep < len ? "***" : "");
	free(v);
}

/*
 * The account the trace lines are about (NULL: none), so that the traces
 * of "-j 3 -vv" can be told apart. NAME must outlive the session.
 */
void
log_trace_account(const char *name)
{
	trace_account = name;
}
