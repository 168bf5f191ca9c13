/*
 * All of pullmail's output goes through here. Errors always reach stderr;
 * -v adds progress, -vv a protocol trace in which secrets are replaced by
 * "***". Server text is escaped with stravis before it is shown.
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
 * One write(2) per line, so that lines from accounts fetched in parallel
 * (-j) never interleave.
 */
static void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[4096];
	int	 n;

	n = snprintf(buf, sizeof(buf), "pullmail: ");
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
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

/* Escape untrusted bytes: control characters, 8-bit bytes, backslash. */
char *
log_vis(const char *s, size_t len)
{
	char	*out;

	out = xreallocarray(NULL, len + 1, 4);
	strnvisx(out, len * 4 + 1, s, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB |
	    VIS_NL);
	return out;
}

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
	log_debug("%c %s%s", dir, v, keep < len ? "***" : "");
	free(v);
}
