/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * "pullmail import fetchmail|mpop|getmail [FILE...]": switch from another
 * downloader without losing or doubling a message.
 *
 * A parser (import-*.c) reads the old tool's configuration into one
 * imp_acct per account, and its seen-state (the UIDs it recorded as
 * delivered) into that account's list of cache keys, formed exactly as
 * pop3.c forms them from a listing. Then, unless -n only prints:
 *
 *	1. the converted configuration is written to a temporary file (mode
 *	   0600) and loaded back with conf_load, so nothing is written that
 *	   pullmail cannot run;
 *	2. each account's UIDL cache is written through uidl.c, under the
 *	   account's lock, as --mark-seen writes it (uidl_add, uidl_commit);
 *	3. the configuration is linked into place, which fails rather than
 *	   replace a file that exists.
 *
 * An existing configuration, or an existing cache for one of the accounts,
 * stops the import before anything is written. Nothing the old files name
 * is run (not passwordeval, not fetchmail's plugins): commands are carried
 * over as commands.
 */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>


#include "pullmail.h"

#define IMP_UIDS_MAX	PM_MSGS_MAX	/* UIDs recorded for one account */

void
imp_src_init(struct imp_src *src, const char *tool, const char *path)
{
	memset(src, 0, sizeof(*src));
	src->tool = tool;
	src->path = xstrdup(path);
	TAILQ_INIT(&src->accts);
}

static void
acct_free(struct imp_acct *a)
{
	size_t	 i;

	free(a->name);
	free(a->from);
	free(a->host);
	free(a->port);
	free(a->ca_file);
	free(a->ca_path);
	free(a->fingerprint);
	free(a->tls_server_name);
	free(a->client_cert);
	free(a->client_key);
	free(a->user);
	if (a->password != NULL)
		freezero_str(a->password);
	free(a->password_command);
	free(a->auth);
	free(a->maildir);
	free(a->mbox);
	free(a->mda);
	free(a->notes);
	free(a->state);
	free(a->state_key);
	for (i = 0; i < a->nuids; i++)
		free(a->uids[i].key);
	free(a->uids);
	free(a);
}

void
imp_src_free(struct imp_src *src)
{
	struct imp_acct	*a;

	while ((a = TAILQ_FIRST(&src->accts)) != NULL) {
		TAILQ_REMOVE(&src->accts, a, entry);
		acct_free(a);
	}
	free(src->path);
	src->path = NULL;
}

/*
 * A pullmail section name from the old tool's name for the account:
 * lowercased (pullmail's sections are), characters pullmail does not take
 * in a name replaced by '-', made unique with "-2", "-3"...
 */
static char *
section_name(struct imp_src *src, const char *want)
{
	struct imp_acct	*a;
	char		*base, *name, *p;
	size_t		 n;
	int		 i;

	n = strlen(want);
	if (n > 48)
		n = 48;
	base = xmalloc(n + 2);
	for (i = 0; i < (int)n; i++) {
		unsigned char c = want[i];

		base[i] = isalnum(c) && c < 0x80 ? tolower(c) :
		    strchr("._-", c) != NULL && i > 0 ? c : '-';
	}
	base[n] = '\0';
	if (n == 0 || !isalnum((unsigned char)base[0])) {
		p = base;
		xasprintf(&base, "a%s", p);
		free(p);
	}
	if (strcmp(base, "defaults") == 0) {
		free(base);
		base = xstrdup("defaults-1");
	}
	name = xstrdup(base);
	for (i = 2; ; i++) {
		TAILQ_FOREACH(a, &src->accts, entry)
			if (strcmp(a->name, name) == 0)
				break;
		if (a == NULL)
			break;
		free(name);
		xasprintf(&name, "%s-%d", base, i);
	}
	free(base);
	return name;
}

struct imp_acct *
imp_acct_new(struct imp_src *src, const char *want, const char *file,
    int line)
{
	struct imp_acct	*a;

	a = xcalloc(1, sizeof(*a));
	a->name = section_name(src, want);
	xasprintf(&a->from, "%s line %d", file, line);
	a->tls = TLSM_IMPLICIT;
	a->received_header = -1;
	a->pipelining = -1;
	TAILQ_INSERT_TAIL(&src->accts, a, entry);
	return a;
}

void
imp_note(struct imp_acct *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*line, *all, *p;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	/* A comment stays one comment line, whatever the old file held. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	xasprintf(&all, "%s%s\n", a->notes != NULL ? a->notes : "", line);
	free(a->notes);
	free(line);
	a->notes = all;
}

/* The cache key pop3.c gives a message with this UID (pop3_uid_key). */
char *
imp_key(const char *uid, size_t len)
{
	int	 odd;

	return pop3_uid_key(uid, len, &odd);
}

/*
 * One UID the old tool recorded as delivered, first seen at first (0 if
 * the tool does not say). -1: too many.
 */
int
imp_add_uid(struct imp_acct *a, const char *uid, size_t len, time_t first)
{
	if (a->nuids >= IMP_UIDS_MAX)
		return -1;
	if (a->nuids % 256 == 0)
		a->uids = xreallocarray(a->uids, a->nuids + 256,
		    sizeof(*a->uids));
	a->uids[a->nuids].key = imp_key(uid, len);
	a->uids[a->nuids++].first = first;
	return 0;
}

static int
cmp_key(const void *x, const void *y)
{
	const struct imp_uid	*a = x, *b = y;
	int			 c = strcmp(a->key, b->key);

	/* The earliest time first, 0 (unknown) last. */
	if (c != 0)
		return c;
	if (a->first == 0 || b->first == 0)
		return (a->first == 0) - (b->first == 0);
	return a->first < b->first ? -1 : a->first > b->first;
}

/*
 * Each UID once, sorted. None of the three tools can tell which of several
 * messages sharing a UID it delivered (each treats the UID as seen for all
 * of them), so only the first copy, keyed with the UID alone as pop3.c
 * keys it, is taken as delivered: the others ("UID 2", ...) are fetched,
 * at worst a second time, never lost.
 */
void
imp_dedup(struct imp_acct *a)
{
	size_t	 i, n = 0;

	if (a->nuids < 2)
		return;
	qsort(a->uids, a->nuids, sizeof(*a->uids), cmp_key);
	for (i = 0; i < a->nuids; i++) {
		if (n > 0 && strcmp(a->uids[n - 1].key, a->uids[i].key) == 0)
			free(a->uids[i].key);
		else
			a->uids[n++] = a->uids[i];
	}
	a->nuids = n;
}

/*
 * Two accounts reading one mailbox (mpop's "account default : work" is
 * the usual way to get them) would each deliver every message: the later
 * ones are left out, with a comment.
 */
void
imp_same_mailbox(struct imp_src *src)
{
	struct imp_acct	*a, *b;

	TAILQ_FOREACH(b, &src->accts, entry) {
		if (b->disabled)
			continue;
		TAILQ_FOREACH(a, &src->accts, entry) {
			if (a == b)
				break;
			if (a->disabled || strcasecmp(a->host, b->host) != 0 ||
			    strcmp(a->port, b->port) != 0 ||
			    strcmp(a->user != NULL ? a->user : "",
			    b->user != NULL ? b->user : "") != 0)
				continue;
			b->disabled = 1;
			imp_note(b, "the same mailbox as [%s] (host, port and "
			    "user): fetching it twice would deliver every "
			    "message twice: account left out", a->name);
			break;
		}
	}
}

/*
 * A SHA-256 fingerprint, "01:23:..." (any case) or 64 hex digits, as
 * pullmail's "sha256:01:23:..."; NULL if it is not one (SHA-1 and MD5
 * ones, which mpop and fetchmail also take, are not).
 */
char *
imp_fingerprint(const char *v)
{
	char	*r, *q;
	size_t	 n = strlen(v), i, step;

	if (n == 95)
		step = 3;
	else if (n == 64)
		step = 2;
	else
		return NULL;
	for (i = 0; i < n; i++)
		if (step == 3 && i % 3 == 2 ? v[i] != ':' :
		    !isxdigit((unsigned char)v[i]))
			return NULL;
	r = q = xmalloc(7 + 95 + 1);
	q += sprintf(q, "sha256:");
	for (i = 0; i < n; i += step)
		q += sprintf(q, "%s%c%c", i > 0 ? ":" : "",
		    toupper((unsigned char)v[i]), toupper((unsigned char)v[i + 1]));
	return r;
}

/*
 * A network timeout in seconds as pullmail takes it (1 to 86400), from
 * what the old tool said; a value it cannot take is noted.
 */
void
imp_timeout(struct imp_acct *a, const char *v)
{
	const char	*errstr;
	int		 n;

	n = strtonum(v, 1, 86400, &errstr);
	if (errstr == NULL)
		a->timeout = n;
	else
		imp_note(a, "timeout %s: pullmail takes 1 to 86400 seconds: "
		    "its default (60) is used", v);
}

/* ------------------------------------------------------------ lines */

int
imp_lines_open(struct imp_lines *l, const char *path, char **cause)
{
	struct stat	 st;

	memset(l, 0, sizeof(*l));
	l->path = path;
	if ((l->f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Not /dev/zero, not a FIFO that never ends or never speaks. */
	if (fstat(fileno(l->f), &st) == -1 || !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		fclose(l->f);
		l->f = NULL;
		return -1;
	}
	l->size = IMP_LINE_MAX + 2;
	l->buf = xmalloc(l->size);
	return 0;
}

/*
 * The next line, without its line end (LF or CRLF): 1, or 0 at the end,
 * or -1 with *cause naming file and line: too long (never read further
 * than the limit), a NUL byte, a read error.
 */
int
imp_getline(struct imp_lines *l, char **linep, size_t *lenp, char **cause)
{
	size_t	 n = 0;
	int	 c = EOF, nul = 0;

	while (n <= IMP_LINE_MAX && (c = getc(l->f)) != EOF && c != '\n') {
		if (c == '\0')
			nul = 1;
		l->buf[n++] = c;
	}
	if (ferror(l->f)) {
		xasprintf(cause, "%s: line %d: %s", l->path, l->lineno + 1,
		    strerror(errno ? errno : EIO));
		return -1;
	}
	if (c == EOF && n == 0)
		return 0;
	l->lineno++;
	if (n > IMP_LINE_MAX) {
		xasprintf(cause, "%s: line %d: longer than %d bytes", l->path,
		    l->lineno, IMP_LINE_MAX);
		return -1;
	}
	if (n > 0 && l->buf[n - 1] == '\r')
		n--;
	l->buf[n] = '\0';
	if (nul && !l->nul_ok) {
		xasprintf(cause, "%s: line %d: contains a NUL byte", l->path,
		    l->lineno);
		return -1;
	}
	*linep = l->buf;
	*lenp = n;
	return 1;
}

void
imp_lines_close(struct imp_lines *l)
{
	if (l->f != NULL)
		fclose(l->f);
	if (l->buf != NULL)
		freezero(l->buf, l->size);
	memset(l, 0, sizeof(*l));
}

/* ---------------------------------------------------------- commands */

/*
 * An MDA command of the old tool as a pullmail mda template: each of the
 * old tool's placeholders (map: pairs of its placeholder and pullmail's,
 * NULL-ended) replaced, every other '%' doubled, so that pullmail expands
 * nothing the old tool did not.
 */
char *
imp_mda_template(const char *cmd, const char *const *map)
{
	char	*out = xmalloc(strlen(cmd) * 2 + 1), *q = out;
	size_t	 i, n;

	while (*cmd != '\0') {
		for (i = 0; map[i] != NULL; i += 2) {
			n = strlen(map[i]);
			if (strncmp(cmd, map[i], n) == 0)
				break;
		}
		if (map[i] != NULL) {
			/* pullmail's placeholders are never longer */
			memcpy(q, map[i + 1], strlen(map[i + 1]));
			q += strlen(map[i + 1]);
			cmd += n;
		} else if (*cmd == '%') {
			*q++ = '%';
			*q++ = *cmd++;
		} else
			*q++ = *cmd++;
	}
	*q = '\0';
	return out;
}

/*
 * A command the old tool ran through the shell, as a pullmail command
 * (split into words, no shell). Without shell syntax it stays as it is;
 * otherwise it becomes "sh -c 'SCRIPT' sh ARGS". With mda, cmd is a
 * pullmail mda template: each of its %F, %u and %a becomes a positional
 * parameter of the script, never pasted into it (a sender address must not
 * become shell code), and %% stays for pullmail to make '%'.
 */
char *
imp_command(const char *cmd, int mda)
{
	char		**w, *script, *out, *p, *q, *args, *t;
	const char	*why, *s;
	size_t		 n = 0, len;
	int		 shell = 0, quote = 0;

	for (s = cmd; *s != '\0'; s++)
		if (strchr("|&;<>()$`*?[]{}~!#=\n", *s) != NULL)
			shell = 1;
	if (!shell && split_words(cmd, &w, &why) == 0) {
		free_words(w);
		return xstrdup(cmd);
	}
	/*
	 * The script: each placeholder becomes "$N" as the shell reads it
	 * where it stands (inside single quotes: '"$N"'; inside double
	 * quotes: $N). Then the script, single-quoted for split_words.
	 */
	len = strlen(cmd);
	p = xmalloc(len * 12 + 1);
	q = p;
	t = args = xmalloc(len * 2 + 1);
	*t = '\0';
	for (s = cmd; *s != '\0'; s++) {
		if (mda && s[0] == '%' && s[1] == '%') {
			*q++ = *s++;
			*q++ = *s;
			continue;
		}
		if (mda && s[0] == '%' && s[1] != '\0' &&
		    strchr("Fua", s[1]) != NULL) {
			/* "${N}": three bytes in, at most twelve out */
			n++;
			q += sprintf(q, quote == '\'' ? "'\"${%zu}\"'" :
			    quote == '"' ? "${%zu}" : "\"${%zu}\"", n);
			t += sprintf(t, " %%%c", s[1]);
			s++;
			continue;
		}
		if (quote != '\'' && *s == '\\' && s[1] != '\0') {
			*q++ = *s++;
			*q++ = *s;
			continue;
		}
		if (quote == 0 && (*s == '\'' || *s == '"'))
			quote = *s;
		else if (quote != 0 && *s == quote)
			quote = 0;
		*q++ = *s;
	}
	*q = '\0';
	script = xmalloc(strlen(p) * 4 + 3);
	q = script;
	*q++ = '\'';
	for (s = p; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else
			*q++ = *s;
	}
	*q++ = '\'';
	*q = '\0';
	free(p);
	xasprintf(&out, "sh -c %s sh%s", script, args);
	free(script);
	free(args);
	return out;
}

/* ------------------------------------------------------------ writing */

/*
 * key = value as conf_load reads it back: plain, or in double quotes (a
 * value with '#', ';' or blanks at an end), or in single quotes (it holds
 * a double quote). A value that none of these can hold is a comment.
 */
static void
put_kv(FILE *f, const char *pre, const char *k, const char *v)
{
	size_t	 n = strlen(v), i;
	int	 plain;

	/* A line end would end the value and start whatever follows. */
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			fprintf(f, "# %s: its value holds a control character, "
			    "which pullmail's config cannot: set it by hand\n",
			    k);
			return;
		}
	plain = n > 0 && strpbrk(v, "#;\"'") == NULL && !isspace((unsigned
	    char)v[0]) && !isspace((unsigned char)v[n - 1]);
	if (plain)
		fprintf(f, "%s%s = %s\n", pre, k, v);
	else if (strchr(v, '"') == NULL)
		fprintf(f, "%s%s = \"%s\"\n", pre, k, v);
	else if (strchr(v, '\'') == NULL)
		fprintf(f, "%s%s = '%s'\n", pre, k, v);
	else
		fprintf(f, "# %s: its value holds both quote characters, "
		    "which pullmail's config cannot: set it by hand\n", k);
}

static void
put_size(FILE *f, const char *pre, const char *k, uint64_t v)
{
	if (v > 0)
		fprintf(f, "%s%s = %llu\n", pre, k, (unsigned long long)v);
}

static void
put_notes(FILE *f, const char *notes)
{
	const char	*s, *e;

	for (s = notes; s != NULL && *s != '\0'; s = e + 1) {
		e = strchr(s, '\n');
		fprintf(f, "# %.*s\n", (int)(e - s), s);
	}
}

/*
 * The configuration, one section per account, each after its comments.
 * With hide, a password is not printed (-n shows the file on a terminal).
 */
int
imp_write_config(FILE *f, const struct imp_src *src, int hide)
{
	static const char	*tls[] = { "implicit", "starttls", "none" };
	const struct imp_acct	*a;
	const char		*pre;

	fprintf(f, "# pullmail configuration converted by \"pullmail import "
	    "%s\" from\n# %s. See pullmail.conf(5).\n", src->tool, src->path);
	TAILQ_FOREACH(a, &src->accts, entry) {
		pre = a->disabled ? "#" : "";
		fprintf(f, "\n# From %s.\n", a->from);
		put_notes(f, a->notes);
		fprintf(f, "%s[%s]\n", pre, a->name);
		if (a->host != NULL)
			put_kv(f, pre, "host", a->host);
		if (a->port != NULL)
			put_kv(f, pre, "port", a->port);
		fprintf(f, "%stls = %s\n", pre, tls[a->tls]);
		if (a->ca_file != NULL)
			put_kv(f, pre, "ca_file", a->ca_file);
		if (a->ca_path != NULL)
			put_kv(f, pre, "ca_path", a->ca_path);
		if (a->fingerprint != NULL)
			put_kv(f, pre, "fingerprint", a->fingerprint);
		if (a->tls_server_name != NULL)
			put_kv(f, pre, "tls_server_name", a->tls_server_name);
		if (a->client_cert != NULL)
			put_kv(f, pre, "client_cert", a->client_cert);
		if (a->client_key != NULL)
			put_kv(f, pre, "client_key", a->client_key);
		if (a->user != NULL)
			put_kv(f, pre, "user", a->user);
		if (a->auth != NULL)
			put_kv(f, pre, "auth", a->auth);
		if (a->password != NULL && hide)
			fprintf(f, "# password = (as in %s; written only into "
			    "the file, mode 0600)\n", src->path);
		else if (a->password != NULL)
			put_kv(f, pre, "password", a->password);
		if (a->password_command != NULL)
			put_kv(f, pre, "password_command", a->password_command);
		if (a->allow_plaintext)
			fprintf(f, "%sallow_plaintext = yes\n", pre);
		if (a->keep)
			fprintf(f, "%skeep = yes\n", pre);
		if (a->keep_days > 0)
			fprintf(f, "%skeep_days = %d\n", pre, a->keep_days);
		if (a->fetchall)
			fprintf(f, "%sfetch_all = yes\n", pre);
		put_size(f, pre, "skip_larger_than", a->skip_larger);
		put_size(f, pre, "delete_larger_than", a->delete_larger);
		if (a->max_messages > 0)
			fprintf(f, "%smax_messages = %d\n", pre,
			    a->max_messages);
		if (a->maildir != NULL)
			put_kv(f, pre, "maildir", a->maildir);
		if (a->mbox != NULL)
			put_kv(f, pre, "mbox", a->mbox);
		if (a->mda != NULL)
			put_kv(f, pre, "mda", a->mda);
		if (a->received_header >= 0)
			fprintf(f, "%sreceived_header = %s\n", pre,
			    a->received_header ? "yes" : "no");
		if (a->timeout > 0)
			fprintf(f, "%stimeout = %d\n", pre, a->timeout);
		if (a->pipelining >= 0)
			fprintf(f, "%spipelining = %s\n", pre,
			    a->pipelining ? "yes" : "no");
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------- state */

/* The account's lock, as a fetch takes it (lock_account), not waited for. */
static int
lock_acct(const char *statedir, const char *name, int *fdp, char **cause)
{
	struct pm_err	 e = { 0, NULL };

	if (lock_account(statedir, name, 0, 0, fdp, &e) == -1) {
		*cause = xstrdup(e.msg != NULL ? e.msg : "cannot take the lock");
		err_clear(&e);
		return -1;
	}
	return 0;
}

/* The account's cache must not exist yet, or hold nothing. */
static int
cache_unused(const char *statedir, const struct imp_acct *a, char **cause)
{
	struct uidl	 u;
	struct pm_err	 err = { 0, NULL };
	char		*path;
	int		 rv = 0;

	xasprintf(&path, "%s/%s.uidl", statedir, a->name);
	u.fd = -1;
	if (uidl_open_ro(&u, path, &err) == -1) {
		*cause = err.msg;
		rv = -1;
	} else if (u.nents > 0) {
		xasprintf(cause, "%s: the account [%s] already has a UIDL "
		    "cache: import only into a fresh state directory", path,
		    a->name);
		rv = -1;
	}
	uidl_close(&u);		/* safe after a failed open too */
	free(path);
	return rv;
}

/* Record the account's imported keys as --mark-seen records a message. */
static int
cache_write(const char *statedir, const struct imp_acct *a, char **cause)
{
	struct uidl	 u;
	struct pm_err	 err = { 0, NULL };
	char		*path;
	size_t		 i;
	int		 fd = -1, rv = -1;
	time_t		 now = time(NULL);

	u.fd = -1;
	xasprintf(&path, "%s/%s.uidl", statedir, a->name);
	if (lock_acct(statedir, a->name, &fd, cause) == -1)
		goto out;
	if (uidl_open(&u, path, &err) == -1)
		goto out;
	for (i = 0; i < a->nuids; i++)
		uidl_add(&u, a->uids[i].key, a->uids[i].first > 0 &&
		    a->uids[i].first <= now ? a->uids[i].first : now);
	if (uidl_commit(&u, &err) == -1)
		goto out;
	rv = 0;
out:
	if (err.msg != NULL)
		*cause = err.msg;
	uidl_close(&u);
	if (fd != -1)
		close(fd);
	free(path);
	return rv;
}

/* ---------------------------------------------------------- the tools */

static char *
default_file(const char *tool)
{
	const char	*x;
	char		*p, *d;

	if (strcmp(tool, "mpop") == 0) {
		p = path_expand("~/.mpoprc");
		if (access(p, F_OK) == 0)
			return p;
		free(p);
		if ((x = getenv("XDG_CONFIG_HOME")) != NULL && *x == '/')
			xasprintf(&p, "%s/mpop/config", x);
		else
			p = path_expand("~/.config/mpop/config");
		return p;
	}
	if (strcmp(tool, "fetchmail") == 0) {
		if ((x = getenv("FETCHMAILHOME")) != NULL && *x != '\0') {
			xasprintf(&p, "%s/fetchmailrc", x);
			return p;
		}
		return path_expand("~/.fetchmailrc");
	}
	/* getmail: its getmaildir's getmailrc, or every rc file there. */
	if ((x = getenv("XDG_CONFIG_HOME")) != NULL && *x == '/')
		xasprintf(&d, "%s/getmail", x);
	else
		d = path_expand("~/.config/getmail");
	if (access(d, F_OK) == -1) {
		free(d);
		d = path_expand("~/.getmail");
	}
	xasprintf(&p, "%s/getmailrc", d);
	if (access(p, F_OK) == 0) {
		free(d);
		return p;
	}
	free(p);
	return d;
}

static int
parse(const char *tool, const char *file, struct imp_src *src, char **cause)
{
	if (strcmp(tool, "mpop") == 0)
		return imp_mpop(file, src, cause);
	if (strcmp(tool, "fetchmail") == 0)
		return imp_fetchmail(file, NULL, src, cause);
	return imp_getmail(file, NULL, src, cause);
}

/* What the first run will do with this account, in a sentence. */
static void
summary(FILE *f, const struct imp_acct *a, int dry)
{
	char	*st = a->state != NULL ? path_tilde(a->state) : NULL;

	if (a->disabled) {
		fprintf(f, "%s: not imported (see the comments in the "
		    "configuration)\n", a->name);
		free(st);
		return;
	}
	if (a->nuids > 0)
		fprintf(f, "%s: %zu UID%s %s from %s", a->name, a->nuids,
		    a->nuids == 1 ? "" : "s", dry ? "to import" : "imported",
		    st);
	else if (st != NULL && a->state_found)
		fprintf(f, "%s: no UIDs recorded in %s", a->name, st);
	else
		fprintf(f, "%s: no seen-state found%s%s", a->name,
		    st != NULL ? " at " : "", st != NULL ? st : "");
	fprintf(f, "; the first run fetches every message on the server "
	    "whose UID is not among them%s\n", a->nuids == 0 ? "" :
	    a->keep || a->keep_days ? ", and leaves these on the server" :
	    ", and deletes these from the server");
	free(st);
}

static void __attribute__((noreturn))
import_usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: pullmail import [-n] [-C CONFIG] fetchmail|mpop|getmail [FILE]\n"
"Convert another downloader's configuration into pullmail's and record the\n"
"messages it has delivered as seen, so that pullmail fetches only the rest.\n"
"\n"
"  -n          print the configuration and what would be imported; write\n"
"              nothing\n"
"  -C CONFIG   write this configuration file (default\n"
"              ~/.config/pullmail/config); an existing one is never replaced\n"
"\n"
"FILE defaults to ~/.fetchmailrc, ~/.mpoprc (or ~/.config/mpop/config), and\n"
"for getmail ~/.getmail/getmailrc, or every rc file in ~/.getmail (a FILE\n"
"that is a directory too). See pullmail(1), IMPORTING.\n");
	exit(status);
}

int
import_main(int argc, char **argv, const char *confpath)
{
	struct imp_src	 src;
	struct imp_acct	*a;
	struct config	 conf;
	struct pm_err	 err = { 0, NULL };
	char		*cause = NULL, *file = NULL, *path = NULL, *tmp = NULL;
	char		*statedir = NULL, *dir;
	const char	*tool;
	FILE		*f = NULL;
	int		 ch, dry = 0, fd = -1, status = 0, loaded = 0;

	imp_src_init(&src, "", "");
	optind = 1;
	while ((ch = getopt(argc, argv, "nC:h")) != -1) {
		switch (ch) {
		case 'n':
			dry = 1;
			break;
		case 'C':
			confpath = optarg;
			break;
		case 'h':
			import_usage(0);
		default:
			import_usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		import_usage(EX_USAGE);
	tool = argv[0];
	if (strcmp(tool, "mpop") != 0 && strcmp(tool, "fetchmail") != 0 &&
	    strcmp(tool, "getmail") != 0) {
		fprintf(stderr, "pullmail: import: \"%s\" is not one of "
		    "fetchmail, mpop, getmail\n", tool);
		return EX_USAGE;
	}
	file = argc == 2 ? xstrdup(argv[1]) : default_file(tool);
	imp_src_free(&src);
	if (parse(tool, file, &src, &cause) == -1) {
		log_warnx("%s", cause);
		status = EX_CONFIG;
		goto out;
	}
	imp_same_mailbox(&src);
	TAILQ_FOREACH(a, &src.accts, entry)
		imp_dedup(a);
	TAILQ_FOREACH(a, &src.accts, entry)
		if (!a->disabled)
			break;
	if (a == NULL && !dry) {
		log_warnx("%s: no account %s", file, TAILQ_EMPTY(&src.accts) ?
		    "in it" : "that pullmail can fetch (see why with -n)");
		status = EX_CONFIG;
		goto out;
	}
	if (dry) {
		imp_write_config(stdout, &src, 1);
		printf("\n");
		TAILQ_FOREACH(a, &src.accts, entry) {
			printf("# ");
			summary(stdout, a, 1);
		}
		goto out;
	}

	path = confpath != NULL ? xstrdup(confpath) : conf_default_path();
	statedir = conf_state_dir();
	if (access(path, F_OK) == 0 || errno != ENOENT) {
		log_warnx("%s: exists, and import never replaces a "
		    "configuration: use -n to see the converted accounts, or "
		    "-C to write another file", path);
		status = EX_CONFIG;
		goto out;
	}
	TAILQ_FOREACH(a, &src.accts, entry)
		if (!a->disabled && cache_unused(statedir, a, &cause) == -1) {
			log_warnx("%s", cause);
			status = EX_CONFIG;
			goto out;
		}

	/* 1. the configuration, in a temporary file, loaded back */
	dir = xstrdup(path);
	if (strrchr(dir, '/') != NULL) {
		*strrchr(dir, '/') = '\0';
		if (*dir != '\0' && mkdir_p(dir, 0700) == -1) {
			log_warnx("%s: %s", dir, strerror(errno));
			free(dir);
			status = EX_IOERR;
			goto out;
		}
	}
	free(dir);
	xasprintf(&tmp, "%s.import-%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warnx("%s: %s", tmp, strerror(errno));
		status = EX_IOERR;
		goto out;
	}
	fd = -1;
	if (imp_write_config(f, &src, 0) == -1 || fflush(f) == EOF ||
	    fsync(fileno(f)) == -1) {
		log_warnx("%s: %s", tmp, strerror(errno));
		status = EX_IOERR;
		goto out;
	}
	fclose(f);
	f = NULL;
	if (conf_load(tmp, &conf, &err) == -1) {
		log_warnx("the converted configuration does not load, so "
		    "nothing was written (see it with -n): %s", err.msg);
		err_clear(&err);
		status = EX_CONFIG;
		goto out;
	}
	loaded = 1;

	/* 2. the seen-state, into each account's cache */
	if (mkdir_p(statedir, 0700) == -1) {
		log_warnx("%s: %s", statedir, strerror(errno));
		status = EX_IOERR;
		goto out;
	}
	TAILQ_FOREACH(a, &src.accts, entry) {
		if (a->disabled)
			continue;
		if (cache_write(statedir, a, &cause) == -1) {
			log_warnx("%s: %s", a->name, cause);
			status = EX_IOERR;
			goto undo;
		}
		a->written = 1;
	}

	/* 3. the configuration, into place, replacing nothing */
	if (link(tmp, path) == -1) {
		log_warnx("%s: %s", path, strerror(errno));
		status = EX_IOERR;
		goto undo;
	}
	fsync_parent(path);
	printf("%s: written from %s\n", path, file);
	TAILQ_FOREACH(a, &src.accts, entry)
		summary(stdout, a, 0);
	printf("Run \"pullmail -c\" to see what the first run will fetch.\n");
	goto out;
undo:
	/*
	 * Nothing half done: the caches this import wrote (none of them
	 * held anything before) go, so that it can simply be run again.
	 */
	TAILQ_FOREACH(a, &src.accts, entry)
		if (a->written) {
			char	*c;

			xasprintf(&c, "%s/%s.uidl", statedir, a->name);
			if (unlink(c) == -1 && errno != ENOENT)
				log_warnx("%s: %s", c, strerror(errno));
			free(c);
		}
	log_warnx("nothing was imported");
out:
	if (loaded)
		conf_free(&conf);
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(cause);
	free(file);
	free(path);
	free(statedir);
	imp_src_free(&src);
	return status;
}
