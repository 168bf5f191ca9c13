/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * The configuration file: INI, read with iniparser, validated strictly.
 * Only this file knows iniparser; the rest of pullmail sees struct config.
 *
 * iniparser silently accepts several mistakes (an unquoted '#' cutting a
 * password short, a key given twice, a key before any section), so the
 * file is also scanned line by line here to report those with a line
 * number. Both readers read the same open file, whose owner and mode are
 * checked on the descriptor, not by path.
 */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#ifdef HAVE_INIPARSER_INIPARSER_H
#include <iniparser/iniparser.h>
#else
#include <iniparser.h>
#endif

#include "pullmail.h"

enum ktype {
	K_STR,		/* any non-empty string */
	K_PATH,		/* a path, "~" expanded */
	K_FILE,		/* a path to an existing regular file, "~" expanded */
	K_DIR,		/* a path to an existing directory, "~" expanded */
	K_PORT,
	K_TLS,
	K_BOOL,
	K_SECS,
	K_DAYS,
	K_COUNT,
	K_SIZE,		/* bytes, with an optional K, M or G */
	K_AUTH,
	K_FPR,		/* sha256:AB:CD:... */
	K_AUTOBOOL,	/* auto, yes or no: -1, 1, 0 */
	K_TLSVER,
	K_CMD		/* a command line: split to check its quoting */
};

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
};

#define OFF(f)	offsetof(struct account, f)
static const struct key keys[] = {
	{ "host",		K_STR,	OFF(host) },
	{ "port",		K_PORT,	OFF(port) },
	{ "tls",		K_TLS,	OFF(tls) },
	{ "ca_file",		K_FILE,	OFF(ca_file) },
	{ "ca_path",		K_DIR,	OFF(ca_path) },
	{ "fingerprint",	K_FPR,	OFF(fingerprint) },
	{ "tls_min_version",	K_TLSVER, OFF(tls_min) },
	{ "client_cert",	K_FILE,	OFF(client_cert) },
	{ "client_key",		K_FILE,	OFF(client_key) },
	{ "tls_server_name",	K_STR,	OFF(tls_server_name) },
	{ "user",		K_STR,	OFF(user) },
	{ "auth",		K_AUTH,	OFF(auth) },
	{ "password",		K_STR,	OFF(password) },
	{ "password_command",	K_CMD,	OFF(password_command) },
	{ "password_command_timeout", K_SECS, OFF(password_command_timeout) },
	{ "allow_plaintext",	K_BOOL,	OFF(allow_plaintext) },
	{ "oauth2",		K_STR,	OFF(oauth2) },
	{ "oauth2_client_id",	K_STR,	OFF(oauth2_client_id) },
	{ "oauth2_client_secret", K_STR, OFF(oauth2_client_secret) },
	{ "oauth2_tenant",	K_STR,	OFF(oauth2_tenant) },
	{ "oauth2_scope",	K_STR,	OFF(oauth2_scope) },
	{ "oauth2_auth_url",	K_STR,	OFF(oauth2_auth_url) },
	{ "oauth2_token_url",	K_STR,	OFF(oauth2_token_url) },
	{ "oauth2_device_url",	K_STR,	OFF(oauth2_device_url) },
	{ "oauth2_ca_file",	K_FILE,	OFF(oauth2_ca_file) },
	{ "keep",		K_BOOL,	OFF(keep) },
	{ "keep_days",		K_DAYS,	OFF(keep_days) },
	{ "fetch_all",		K_BOOL,	OFF(fetchall) },
	{ "skip_larger_than",	K_SIZE,	OFF(skip_larger_than) },
	{ "delete_larger_than",	K_SIZE,	OFF(delete_larger_than) },
	{ "max_messages",	K_COUNT, OFF(max_messages) },
	{ "max_bytes",		K_SIZE,	OFF(max_bytes) },
	{ "max_sessions",	K_COUNT, OFF(max_sessions) },
	{ NULL,			K_STR,	0 },	/* deliver_backends' keys */
	{ "deliver_to",		K_STR,	OFF(deliver_to) },
	{ "smtp_tls",		K_AUTOBOOL, OFF(smtp_tls) },
	{ "smtp_ca_file",	K_FILE,	OFF(smtp_ca_file) },
	{ "smtp_user",		K_STR,	OFF(smtp_user) },
	{ "smtp_password_command", K_CMD, OFF(smtp_password_command) },
	{ "allow_8bit_headers",	K_BOOL,	OFF(allow_8bit_headers) },
	{ "received_header",	K_BOOL,	OFF(received_header) },
	{ "mbox_lock_timeout",	K_SECS,	OFF(mbox_lock_timeout) },
	{ "mda_timeout",	K_SECS,	OFF(mda_timeout) },
	{ "mda_partial_read",	K_BOOL,	OFF(mda_partial_read) },
	{ "timeout",		K_SECS,	OFF(timeout) },
	{ "pipelining",		K_AUTOBOOL, OFF(pipelining) },
};
#undef OFF
#define NBASE	(sizeof(keys) / sizeof(keys[0]))
#define NBACKENDS_MAX	16

/*
 * Every key: the table above with the row that stands for the delivery
 * backends replaced by one key per backend (deliver_backends), in the
 * backends' order. Made once, on first use.
 */
static struct key	 allkeys[NBASE + NBACKENDS_MAX];
static size_t		 nallkeys;
#define NKEYS	(keys_init(), nallkeys)

static size_t
keys_init(void)
{
	static const enum ktype types[] = { K_PATH, K_CMD, K_STR };
	const struct deliver_backend *b;
	size_t	 i, j;

	if (nallkeys > 0)
		return nallkeys;
	for (i = 0; i < NBASE; i++) {
		if (keys[i].name != NULL) {
			allkeys[nallkeys++] = keys[i];
			continue;
		}
		for (j = 0; (b = deliver_backends[j]) != NULL; j++) {
			if (j == NBACKENDS_MAX)
				fatalx("too many delivery backends");
			allkeys[nallkeys].name = b->name;
			allkeys[nallkeys].type = types[b->arg];
			allkeys[nallkeys].off = b->acct_off;
			nallkeys++;
		}
	}
	return nallkeys;
}

#define SECTION_MAX	64

static char	 ini_error[512];

/*
 * iniparser reports syntax errors through a printf-like callback; keep the
 * first, flattened to one line, without the line it quotes. (conf_scan
 * refuses those lines first; this is the fallback.)
 */
static int	 ini_errback(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static int
ini_errback(const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[512], *p;

	if (ini_error[0] != '\0')
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Never the offending line itself: it may hold a password. */
	if ((p = strstr(buf, "\n->")) != NULL)
		*p = '\0';
	for (p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	while (p > buf && p[-1] == ' ')
		*--p = '\0';
	strlcpy(ini_error, buf, sizeof(ini_error));
	return 0;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

struct seen {
	char	*name;		/* "section" or "section:key" */
	int	 line;
};

static int
seen_add(struct seen **v, size_t *n, const char *name, int line)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].name, name) == 0)
			return (*v)[i].line;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].name = xstrdup(name);
	(*v)[*n].line = line;
	(*n)++;
	return 0;
}

/*
 * The next logical line of f, as iniparser 4.1 sees it: the newline and
 * trailing blanks removed, and a line ending in a backslash joined with the
 * next one (the backslash is dropped, the next line appended as it is).
 * *lineno counts physical lines; *first is set to the logical line's first.
 * Returns NULL at the end of the file (or on a read error: see ferror).
 */
static char *
conf_getline(FILE *f, char **buf, size_t *bufsz, int *lineno, int *first)
{
	char	*line = NULL;
	size_t	 linesz = 0, len = 0, n;
	ssize_t	 r;

	*first = *lineno + 1;
	while ((r = getline(&line, &linesz, f)) != -1) {
		(*lineno)++;
		n = (size_t)r;
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (len + n + 1 > *bufsz) {
			*bufsz = len + n + 1;
			*buf = xreallocarray(*buf, *bufsz, 1);
		}
		memcpy(*buf + len, line, n);
		len += n;
		(*buf)[len] = '\0';
		if (len > 0 && (*buf)[len - 1] == '\\') {
			(*buf)[--len] = '\0';
			continue;
		}
		freezero(line, linesz);
		return *buf;
	}
	if (line != NULL)
		freezero(line, linesz);
	if (len > 0 || *lineno >= *first)
		return *buf;	/* a last line ending in a backslash */
	return NULL;
}

/*
 * The line-by-line scan for what iniparser lets through or reports badly:
 * its own syntax error messages quote the offending line, which may hold a
 * password, so every line it would refuse is refused here first, naming
 * the line number only.
 */
static int
conf_scan(FILE *f, const char *path, struct pm_err *err)
{
	char		 sect[SECTION_MAX + 1] = "", *buf = NULL, *s, *eq, *k, *v;
	char		*name;
	struct seen	*seen = NULL;
	size_t		 nseen = 0, bufsz = 0, i;
	int		 lineno = 0, first, prev, rv = -1;

	while (conf_getline(f, &buf, &bufsz, &lineno, &first) != NULL) {
		s = trim(buf);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if ((eq = strchr(s, ']')) != NULL) {
				*eq = '\0';
				if (*trim(eq + 1) != '\0') {
					err_set(err, EX_CONFIG, "%s: line %d: "
					    "[%s]: nothing may follow the ] of a "
					    "section line, not even a comment "
					    "(put it on a line of its own)",
					    path, first, trim(s + 1));
					goto out;
				}
				s = trim(s + 1);
			}
			if (eq == NULL || *s == '\0') {
				err_set(err, EX_CONFIG, "%s: line %d: syntax "
				    "error: a section name goes between [ and ]",
				    path, first);
				goto out;
			}
			lower(s);
			if (strlen(s) > SECTION_MAX) {
				err_set(err, EX_CONFIG, "%s: line %d: section "
				    "name longer than %d characters", path,
				    first, SECTION_MAX);
				goto out;
			}
			strlcpy(sect, s, sizeof(sect));
			if ((prev = seen_add(&seen, &nseen, sect, first))) {
				err_set(err, EX_CONFIG, "%s: [%s]: section "
				    "appears twice (lines %d and %d)", path,
				    sect, prev, first);
				goto out;
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL || eq == s) {
			err_set(err, EX_CONFIG, "%s: line %d: syntax error: "
			    "expected [section] or key = value", path, first);
			goto out;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		lower(k);
		if (sect[0] == '\0') {
			err_set(err, EX_CONFIG, "%s: line %d: %s: key outside "
			    "any section (put it under [defaults] or an "
			    "account)", path, first, k);
			goto out;
		}
		xasprintf(&name, "%s:%s", sect, k);
		prev = seen_add(&seen, &nseen, name, first);
		free(name);
		if (prev) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: set twice (lines "
			    "%d and %d)", path, sect, k, prev, first);
			goto out;
		}
		/*
		 * iniparser ends an unquoted value at the first '#' or ';'.
		 * After a blank that is an intended comment; glued to the
		 * value ("pass#word") it silently truncates it.
		 */
		if ((*v == '"' || *v == '\'') && strchr(v + 1, *v) == NULL) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: the value's "
			    "opening %c quote is never closed", path, sect, k,
			    *v);
			goto out;
		}
		if (*v != '"' && *v != '\'') {
			for (s = v; *s != '\0'; s++) {
				if ((*s == '#' || *s == ';') && s > v &&
				    !isspace((unsigned char)s[-1])) {
					err_set(err, EX_CONFIG, "%s: [%s] %s: "
					    "value contains '%c', which starts "
					    "a comment: put the value in double "
					    "quotes", path, sect, k, *s);
					goto out;
				}
				if ((*s == '#' || *s == ';'))
					break;
			}
		}
	}
	if (ferror(f)) {
		err_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	for (i = 0; i < nseen; i++)
		free(seen[i].name);
	free(seen);
	if (buf != NULL)
		freezero(buf, bufsz);
	return rv;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
valid_account_name(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return 0;
	return 1;
}

/* "sha256:AB:CD:..." (colons optional, any case) into 32 bytes. */
static int
parse_fingerprint(const char *v, unsigned char *out)
{
	size_t	 n = 0;
	int	 hi, lo;

	if (strncasecmp(v, "sha256:", 7) != 0)
		return -1;
	for (v += 7; *v != '\0'; ) {
		if (*v == ':') {
			v++;
			continue;
		}
		if (!isxdigit((unsigned char)v[0]) ||
		    !isxdigit((unsigned char)v[1]) || n == 32)
			return -1;
		hi = isdigit((unsigned char)v[0]) ? v[0] - '0' :
		    tolower((unsigned char)v[0]) - 'a' + 10;
		lo = isdigit((unsigned char)v[1]) ? v[1] - '0' :
		    tolower((unsigned char)v[1]) - 'a' + 10;
		out[n++] = hi * 16 + lo;
		v += 2;
	}
	return n == 32 ? 0 : -1;
}

static int
set_key(struct account *a, const struct key *k, const char *v,
    const char *path, const char *sect, struct pm_err *err)
{
	void		*field = (char *)a + k->off;
	struct stat	 st;
	const char	*errstr, *why;
	char		**words;
	long long	 n;

	if (*v == '\0') {
		err_set(err, EX_CONFIG, "%s: [%s] %s: empty value", path, sect,
		    k->name);
		return -1;
	}
	switch (k->type) {
	case K_STR:
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		break;
	case K_PATH:
	case K_FILE:
	case K_DIR:
		free(*(char **)field);
		*(char **)field = path_expand(v);
		if (k->type == K_PATH)
			break;
		/*
		 * Read only when TLS starts, but wrong now: say so at load
		 * (also for --dump-config and -c), naming the expanded path.
		 */
		if (stat(*(char **)field, &st) == -1)
			why = strerror(errno);
		else if (k->type == K_FILE && S_ISDIR(st.st_mode))
			why = "is a directory, not a file";
		else if (k->type == K_FILE && !S_ISREG(st.st_mode))
			why = "not a regular file";
		else if (k->type == K_DIR && !S_ISDIR(st.st_mode))
			why = "not a directory";
		else
			break;
		err_set(err, EX_CONFIG, "%s: [%s] %s: %s: %s", path, sect,
		    k->name, *(char **)field, why);
		return -1;
	case K_CMD:
		if (split_words(v, &words, &why) == -1) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: %s", path, sect,
			    k->name, why);
			return -1;
		}
		free_words(words);
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		break;
	case K_PORT:
		n = strtonum(v, 1, 65535, &errstr);
		if (errstr != NULL) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not a "
			    "port number", path, sect, k->name, v);
			return -1;
		}
		free(*(char **)field);
		xasprintf((char **)field, "%lld", n);
		break;
	case K_FPR:
		if (parse_fingerprint(v, a->pin) == -1) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not a "
			    "SHA-256 fingerprint (sha256: and 32 bytes in hex, "
			    "as pullmail --serverinfo prints it)", path, sect,
			    k->name, v);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		break;
	case K_AUTOBOOL:
		if (strcasecmp(v, "auto") == 0)
			*(int *)field = -1;
		else if (parse_bool(v, (int *)field) == -1) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not "
			    "auto, yes or no", path, sect, k->name, v);
			return -1;
		}
		break;
	case K_TLSVER:
		if (strcmp(v, "1.2") == 0)
			*(int *)field = 12;
		else if (strcmp(v, "1.3") == 0)
			*(int *)field = 13;
		else {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not "
			    "1.2 or 1.3", path, sect, k->name, v);
			return -1;
		}
		break;
	case K_AUTH:
		if ((*(int *)field = auth_mech_parse(v)) == -1) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not "
			    "one of auto, user, apop, plain, login, cram-md5, "
			    "scram-sha-1, scram-sha-256, xoauth2, oauthbearer, "
			    "external", path, sect, k->name, v);
			return -1;
		}
		break;
	case K_TLS:
		if (strcasecmp(v, "implicit") == 0)
			*(enum tls_mode *)field = TLSM_IMPLICIT;
		else if (strcasecmp(v, "starttls") == 0)
			*(enum tls_mode *)field = TLSM_STARTTLS;
		else if (strcasecmp(v, "none") == 0)
			*(enum tls_mode *)field = TLSM_NONE;
		else {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not "
			    "one of implicit, starttls, none", path, sect,
			    k->name, v);
			return -1;
		}
		break;
	case K_BOOL:
		if (parse_bool(v, (int *)field) == -1) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not "
			    "yes or no", path, sect, k->name, v);
			return -1;
		}
		break;
	case K_DAYS:
		n = strtonum(v, 1, 36500, &errstr);
		if (errstr != NULL) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not a "
			    "number of days from 1 to 36500", path, sect,
			    k->name, v);
			return -1;
		}
		*(int *)field = n;
		break;
	case K_COUNT:
		n = strtonum(v, 1, PM_MSGS_MAX, &errstr);
		if (errstr != NULL) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not a "
			    "count from 1 to %d", path, sect, k->name, v,
			    PM_MSGS_MAX);
			return -1;
		}
		*(int *)field = n;
		break;
	case K_SIZE:
		if (conf_parse_size(v, (uint64_t *)field) == -1) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not a "
			    "size (such as 500K, 10M or 1G)", path, sect,
			    k->name, v);
			return -1;
		}
		break;
	case K_SECS:
		n = strtonum(v, 1, 86400, &errstr);
		if (errstr != NULL) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: \"%s\" is not a "
			    "number of seconds from 1 to 86400", path, sect,
			    k->name, v);
			return -1;
		}
		*(int *)field = n;
		break;
	}
	return 0;
}

/*
 * A size: a whole number of bytes, or with a suffix K, M or G (powers of
 * 1024, case-insensitive, an optional trailing B). At least 1, at most 1 TB.
 */
int
conf_parse_size(const char *v, uint64_t *out)
{
	char		 num[32];
	const char	*errstr, *s = v;
	uint64_t	 mult = 1;
	long long	 n;
	size_t		 len;

	while (*s >= '0' && *s <= '9')
		s++;
	len = s - v;
	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, v, len);
	num[len] = '\0';
	switch (*s) {
	case 'k': case 'K':
		mult = 1024;
		s++;
		break;
	case 'm': case 'M':
		mult = 1024 * 1024;
		s++;
		break;
	case 'g': case 'G':
		mult = 1024 * 1024 * 1024;
		s++;
		break;
	}
	if ((*s == 'b' || *s == 'B') && (mult > 1 || s[-1] >= '0'))
		s++;
	if (*s != '\0')
		return -1;
	n = strtonum(num, 1, (1LL << 40) / mult, &errstr);
	if (errstr != NULL)
		return -1;
	*out = (uint64_t)n * mult;
	return 0;
}

/*
 * Print each account's effective settings (after inheritance) as INI.
 * Secrets are never printed: a password shows as "***".
 */
void
conf_dump(FILE *f, const struct config *conf, char **names, int nnames)
{
	static const char *tls[] = { "implicit", "starttls", "none" };
	const struct account	*a;
	const struct key	*k;
	const void		*field;
	char			 buf[32];
	size_t			 i;
	uint64_t		 v;

	fprintf(f, "# effective configuration of %s\n", conf->path);
	fprintf(f, "\n[defaults]\njobs = %d\n", conf->jobs);
	TAILQ_FOREACH(a, &conf->accounts, entry) {
		int	 j;

		for (j = 0; j < nnames; j++)
			if (strcasecmp(names[j], a->name) == 0)
				break;
		if (nnames > 0 && j == nnames)
			continue;
		fprintf(f, "\n[%s]\n", a->name);
		for (i = 0; i < NKEYS; i++) {
			k = &allkeys[i];
			field = (const char *)a + k->off;
			switch (k->type) {
			case K_STR:
			case K_PATH:
			case K_FILE:
			case K_DIR:
			case K_CMD:
			case K_PORT:
				if (*(char * const *)field == NULL)
					continue;
				if (strcmp(k->name, "password") == 0 ||
				    strcmp(k->name, "oauth2_client_secret") == 0)
					/*
					 * A comment: this output fed back
					 * with -C must not log in with
					 * "***" as the password.
					 */
					fprintf(f, "# %s = *** (set, "
					    "not shown)\n", k->name);
				else
					fprintf(f, "%s = %s\n", k->name,
					    *(char * const *)field);
				break;
			case K_TLS:
				fprintf(f, "%s = %s\n", k->name,
				    tls[*(const enum tls_mode *)field]);
				break;
			case K_AUTH:
				fprintf(f, "%s = %s\n", k->name,
				    auth_mech_name(*(const int *)field));
				break;
			case K_FPR:
				if (*(char * const *)field != NULL)
					fprintf(f, "%s = %s\n", k->name,
					    *(char * const *)field);
				break;
			case K_AUTOBOOL:
				fprintf(f, "%s = %s\n", k->name,
				    *(const int *)field < 0 ? "auto" :
				    *(const int *)field ? "yes" : "no");
				break;
			case K_TLSVER:
				fprintf(f, "%s = %s\n", k->name,
				    *(const int *)field == 13 ? "1.3" : "1.2");
				break;
			case K_BOOL:
				fprintf(f, "%s = %s\n", k->name,
				    *(const int *)field ? "yes" : "no");
				break;
			case K_SECS:
			case K_DAYS:
			case K_COUNT:
				if (*(const int *)field == 0)
					continue;
				fprintf(f, "%s = %d\n", k->name,
				    *(const int *)field);
				break;
			case K_SIZE:
				if ((v = *(const uint64_t *)field) == 0)
					continue;
				if (v % (1024 * 1024 * 1024) == 0)
					snprintf(buf, sizeof(buf), "%lluG",
					    (unsigned long long)(v >> 30));
				else if (v % (1024 * 1024) == 0)
					snprintf(buf, sizeof(buf), "%lluM",
					    (unsigned long long)(v >> 20));
				else if (v % 1024 == 0)
					snprintf(buf, sizeof(buf), "%lluK",
					    (unsigned long long)(v >> 10));
				else
					snprintf(buf, sizeof(buf), "%llu",
					    (unsigned long long)v);
				fprintf(f, "%s = %s\n", k->name, buf);
				break;
			}
		}
	}
}

static const struct key *
key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(allkeys[i].name, name) == 0)
			return &allkeys[i];
	return NULL;
}

/* "SECT:host" in buf, the iniparser key of a section's host. */
static const char *
host_key(const char *sect, char *buf, size_t len)
{
	snprintf(buf, len, "%s:host", sect);
	return buf;
}

/* Edit distance of two short names (insert, delete, change, swap). */
static size_t
distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, d[33][33], c;

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* The known key NAME is most likely a misspelling of, or NULL. */
static const char *
key_guess(const char *name)
{
	const char	*best = NULL;
	size_t		 i, dist, bestd = strlen(name) <= 4 ? 2 : 3;

	for (i = 0; i < NKEYS; i++)
		if ((dist = distance(name, allkeys[i].name)) < bestd) {
			bestd = dist;
			best = allkeys[i].name;
		}
	return best;
}

/* Reject any key of a section that pullmail does not know. */
static int
check_keys(dictionary *d, const char *sect, const char *path,
    struct pm_err *err)
{
	const char	**names;
	const char	 *k;
	int		  n, i, rv = 0;

	if ((n = iniparser_getsecnkeys(d, sect)) <= 0)
		return 0;
	names = xcalloc(n, sizeof(*names));
	if (iniparser_getseckeys(d, sect, names) == NULL)
		fatalx("iniparser_getseckeys failed");
	for (i = 0; i < n; i++) {
		k = strchr(names[i], ':');
		k = k == NULL ? names[i] : k + 1;
		if (strcmp(k, "jobs") == 0 && strcmp(sect, "defaults") == 0)
			continue;
		if (key_find(k) == NULL) {
			const char *g = key_guess(k);

			err_set(err, EX_CONFIG, "%s: [%s] %s: unknown key%s%s%s",
			    path, sect, k, g ? " (did you mean \"" : "",
			    g ? g : "", g ? "\"?)" : "");
			rv = -1;
			break;
		}
	}
	free(names);
	return rv;
}

/* A key's value in the section, else in [defaults]; *from says which. */
static const char *
lookup(dictionary *d, const char *sect, const char *key, const char **from)
{
	char		 buf[SECTION_MAX + 64];
	const char	*v;

	snprintf(buf, sizeof(buf), "%s:%s", sect, key);
	*from = sect;
	if ((v = iniparser_getstring(d, buf, NULL)) != NULL)
		return v;
	snprintf(buf, sizeof(buf), "defaults:%s", key);
	*from = "defaults";
	return iniparser_getstring(d, buf, NULL);
}

/*
 * "maildir, mbox, mda, lmtp or smtp" (sep "or" or "and"): the keys of
 * deliver_backends, for error messages.
 */
static void
backend_names(char *buf, size_t len, const char *sep)
{
	size_t	 i, n;

	for (n = 0; deliver_backends[n] != NULL; n++)
		;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, i == n - 1 ? sep : ", ", len);
		strlcat(buf, deliver_backends[i]->name, len);
	}
}

/*
 * Exactly one way of delivery (one key of deliver_backends). An account's
 * own choice overrides the one it would inherit from [defaults]; two in
 * one section is an error naming both. The backend then checks its value.
 */
static int
delivery_keys(dictionary *d, struct account *a, const char *path,
    const char *sect, struct pm_err *err)
{
	const struct deliver_backend *b, *chosen = NULL;
	char		  buf[SECTION_MAX + 64], names[256];
	const char	 *set[2], *where = sect, *why;
	int		  pass, n = 0;
	size_t		  i;

	for (pass = 0; pass < 2 && n == 0; pass++) {
		where = pass == 0 ? sect : "defaults";
		for (i = 0; (b = deliver_backends[i]) != NULL; i++) {
			snprintf(buf, sizeof(buf), "%s:%s", where, b->name);
			if (iniparser_getstring(d, buf, NULL) != NULL) {
				if (n < 2)
					set[n] = b->name;
				n++;
				chosen = b;
			}
		}
	}
	if (n == 0) {
		backend_names(names, sizeof(names), " or ");
		err_set(err, EX_CONFIG, "%s: [%s] maildir: missing (where to "
		    "deliver: set one of %s)", path, sect, names);
		return -1;
	}
	if (n > 1) {
		backend_names(names, sizeof(names), " and ");
		err_set(err, EX_CONFIG, "%s: [%s] %s, %s: only one of %s may "
		    "be set", path, where, set[0], set[1], names);
		return -1;
	}
	for (i = 0; (b = deliver_backends[i]) != NULL; i++)
		if (b != chosen) {
			char **f = (char **)((char *)a + b->acct_off);

			free(*f);
			*f = NULL;
		}
	if (chosen->check != NULL &&
	    (why = chosen->check(deliver_value(a, chosen))) != NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] %s: %s", path, where,
		    chosen->name, why);
		return -1;
	}
	return 0;
}

static void
account_free(struct account *a)
{
	size_t	 i;

	free(a->name);
	free(a->host);
	free(a->port);
	free(a->ca_file);
	free(a->ca_path);
	free(a->fingerprint);
	free(a->client_cert);
	free(a->client_key);
	free(a->tls_server_name);
	free(a->user);
	freezero_str(a->password);
	free(a->password_command);
	free(a->oauth2);
	free(a->oauth2_client_id);
	freezero_str(a->oauth2_client_secret);
	free(a->oauth2_tenant);
	free(a->oauth2_scope);
	free(a->oauth2_auth_url);
	free(a->oauth2_token_url);
	free(a->oauth2_device_url);
	free(a->oauth2_ca_file);
	for (i = 0; deliver_backends[i] != NULL; i++)
		free(*(char **)((char *)a + deliver_backends[i]->acct_off));
	free(a->deliver_to);
	free(a->smtp_ca_file);
	free(a->smtp_user);
	free(a->smtp_password_command);
	free(a);
}

/*
 * The OAuth2 keys: a preset fills the endpoints and scope the account did
 * not set itself (they may be overridden, for a provider's other
 * endpoints or a test server); custom needs them all. Every endpoint is
 * HTTPS. The token comes from pullmail itself: no password, and a
 * mechanism that carries a bearer token.
 */
static int
oauth2_keys(struct account *a, const char *path, const char *sect,
    struct pm_err *err)
{
	const char	*auth = NULL, *token = NULL, *device = NULL;
	const char	*scope = NULL, *tenant, *bad = NULL, *badv = NULL;
	char		*ms = NULL;
	int		 rv = -1;

	if (a->oauth2 == NULL) {
		if (a->oauth2_client_id != NULL)
			bad = "oauth2_client_id";
		else if (a->oauth2_client_secret != NULL)
			bad = "oauth2_client_secret";
		else if (a->oauth2_tenant != NULL)
			bad = "oauth2_tenant";
		if (bad != NULL) {
			err_set(err, EX_CONFIG, "%s: [%s] %s: set only with "
			    "oauth2 = google, microsoft or custom", path, sect,
			    bad);
			return -1;
		}
		return 0;
	}
	tenant = a->oauth2_tenant != NULL ? a->oauth2_tenant : "common";
	if (strcasecmp(a->oauth2, "google") == 0) {
		auth = "https://accounts.google.com/o/oauth2/v2/auth";
		token = "https://oauth2.googleapis.com/token";
		/* Google's device flow does not grant the Gmail scope. */
		scope = "https://mail.google.com/";
	} else if (strcasecmp(a->oauth2, "microsoft") == 0) {
		if (strspn(tenant, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		    strlen(tenant)) {
			err_set(err, EX_CONFIG, "%s: [%s] oauth2_tenant: not "
			    "a tenant name, domain or ID: common, consumers, "
			    "organizations, a domain or a tenant ID", path,
			    sect);
			return -1;
		}
		xasprintf(&ms, "https://login.microsoftonline.com/%s/oauth2/"
		    "v2.0/", tenant);
		scope = "https://outlook.office.com/POP.AccessAsUser.All "
		    "offline_access";
	} else if (strcasecmp(a->oauth2, "custom") != 0) {
		err_set(err, EX_CONFIG, "%s: [%s] oauth2: must be google, "
		    "microsoft or custom", path, sect);
		return -1;
	}
	if (a->oauth2_tenant != NULL && ms == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] oauth2_tenant: only for "
		    "oauth2 = microsoft", path, sect);
		return -1;
	}
#define FILL(field, v)	do {						\
	if ((field) == NULL && (v) != NULL)				\
		(field) = xstrdup(v);					\
} while (0)
	if (ms != NULL) {
		if (a->oauth2_auth_url == NULL)
			xasprintf(&a->oauth2_auth_url, "%sauthorize", ms);
		if (a->oauth2_token_url == NULL)
			xasprintf(&a->oauth2_token_url, "%stoken", ms);
		if (a->oauth2_device_url == NULL)
			xasprintf(&a->oauth2_device_url, "%sdevicecode", ms);
	}
	FILL(a->oauth2_auth_url, auth);
	FILL(a->oauth2_token_url, token);
	FILL(a->oauth2_device_url, device);
	FILL(a->oauth2_scope, scope);
#undef FILL
	if (a->oauth2_client_id == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] oauth2_client_id: missing "
		    "(the client you registered at the provider: see "
		    "pullmail.conf(5), OAUTH2)", path, sect);
		goto out;
	}
	if (a->oauth2_token_url == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] oauth2_token_url: missing "
		    "(oauth2 = custom names every endpoint)", path, sect);
		goto out;
	}
	if (a->oauth2_scope == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] oauth2_scope: missing "
		    "(oauth2 = custom names the scope to ask for)", path,
		    sect);
		goto out;
	}
	if (a->oauth2_auth_url == NULL && a->oauth2_device_url == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] oauth2_auth_url: missing "
		    "(set it, or oauth2_device_url, to sign in)", path, sect);
		goto out;
	}
	if (strncasecmp(a->oauth2_token_url, "https://", 8) != 0)
		bad = "oauth2_token_url", badv = a->oauth2_token_url;
	else if (a->oauth2_auth_url != NULL &&
	    strncasecmp(a->oauth2_auth_url, "https://", 8) != 0)
		bad = "oauth2_auth_url", badv = a->oauth2_auth_url;
	else if (a->oauth2_device_url != NULL &&
	    strncasecmp(a->oauth2_device_url, "https://", 8) != 0)
		bad = "oauth2_device_url", badv = a->oauth2_device_url;
	if (bad != NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] %s: %s is not an https:// "
		    "URL (tokens travel only over verified TLS)", path, sect,
		    bad, badv);
		goto out;
	}
	if (a->password != NULL || a->password_command != NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] %s: not with oauth2 "
		    "(pullmail gets the token itself; remove %s)", path, sect,
		    a->password != NULL ? "password" : "password_command",
		    a->password != NULL ? "password" : "password_command");
		goto out;
	}
	if (a->auth != AUTH_AUTO && a->auth != AUTH_XOAUTH2 &&
	    a->auth != AUTH_OAUTHBEARER) {
		err_set(err, EX_CONFIG, "%s: [%s] auth: %s cannot carry an "
		    "OAuth2 token: use auto, xoauth2 or oauthbearer", path,
		    sect, auth_mech_name(a->auth));
		goto out;
	}
	rv = 0;
out:
	free(ms);
	return rv;
}

static struct account *
account_build(dictionary *d, const char *sect, const char *path,
    struct pm_err *err)
{
	struct account	*a;
	const char	*v, *from;
	size_t		 i;

	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(sect);
	a->tls = TLSM_IMPLICIT;
	a->tls_min = 12;
	a->pipelining = -1;
	a->smtp_tls = -1;
	a->timeout = 60;
	a->received_header = 1;
	a->mbox_lock_timeout = 30;
	a->mda_timeout = 300;
	a->password_command_timeout = 60;
	a->max_sessions = 10;
	for (i = 0; i < NKEYS; i++) {
		if ((v = lookup(d, sect, allkeys[i].name, &from)) == NULL)
			continue;
		if (set_key(a, &allkeys[i], v, path, from, err) == -1)
			goto fail;
	}
	if (a->host == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] host: missing (the POP3 "
		    "server's name)", path, sect);
		goto fail;
	}
	if (a->user == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] user: missing (the login "
		    "name)", path, sect);
		goto fail;
	}
	if (delivery_keys(d, a, path, sect, err) == -1)
		goto fail;
	if (a->password != NULL && a->password_command != NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] password, password_command: "
		    "only one of them may be set", path, sect);
		goto fail;
	}
	if (oauth2_keys(a, path, sect, err) == -1)
		goto fail;
	if ((a->client_cert == NULL) != (a->client_key == NULL)) {
		err_set(err, EX_CONFIG, "%s: [%s] client_cert, client_key: "
		    "set both or neither", path, sect);
		goto fail;
	}
	if (a->auth == AUTH_EXTERNAL && a->client_cert == NULL) {
		err_set(err, EX_CONFIG, "%s: [%s] auth: external logs in with "
		    "a TLS client certificate: set client_cert and client_key",
		    path, sect);
		goto fail;
	}
	if (a->port == NULL)
		a->port = xstrdup(a->tls == TLSM_IMPLICIT ? "995" : "110");
	return a;
fail:
	account_free(a);
	return NULL;
}

int
conf_load(const char *path, struct config *conf, struct pm_err *err)
{
	dictionary	*d = NULL;
	struct account	*a;
	struct stat	 st;
	FILE		*f = NULL;
	const char	*sect;
	char		 fdpath[64], hk[SECTION_MAX + 8];
	int		 fd, i, n, has_password, rv = -1;

	memset(conf, 0, sizeof(*conf));
	TAILQ_INIT(&conf->accounts);
	conf->path = xstrdup(path);

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			err_set(err, EX_CONFIG, "%s: no such file: to start one, "
			    "copy %s there (mode 0600) and edit it; "
			    "pullmail.conf(5) describes every key", path,
			    PM_EXAMPLE_CONFIG);
		else
			err_set(err, EX_CONFIG, "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(err, EX_CONFIG, "%s: not a regular file", path);
		close(fd);
		goto out;
	}
	if ((f = fdopen(fd, "r")) == NULL)
		fatalx("fdopen: %s", strerror(errno));
	if (conf_scan(f, path, err) == -1)
		goto out;

	/* Let iniparser read the very file we checked, not the path again. */
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fileno(f));
	ini_error[0] = '\0';
	iniparser_set_error_callback(ini_errback);
	d = iniparser_load(fdpath);
	if (ini_error[0] != '\0' || d == NULL) {
		const char *m = ini_error;
		char *p;

		/* Name the real file, not /dev/fd/N. */
		if ((p = strstr(ini_error, fdpath)) != NULL) {
			*p = '\0';
			err_set(err, EX_CONFIG, "%s: %s%s%s", path, m, "file",
			    p + strlen(fdpath));
		} else
			err_set(err, EX_CONFIG, "%s: %s", path,
			    *m != '\0' ? m : "cannot be parsed");
		goto out;
	}

	/*
	 * A password anywhere in what iniparser read (however it was spelt:
	 * a backslash continuation can build the key "password" from two
	 * lines) requires a private file.
	 */
	has_password = 0;
	n = iniparser_getnsec(d);
	for (i = 0; i < n && !has_password; i++) {
		char key[SECTION_MAX + 16];

		snprintf(key, sizeof(key), "%s:password",
		    iniparser_getsecname(d, i));
		has_password = iniparser_find_entry(d, key);
		snprintf(key, sizeof(key), "%s:oauth2_client_secret",
		    iniparser_getsecname(d, i));
		has_password |= iniparser_find_entry(d, key);
	}
	if (has_password && (st.st_mode & 077) != 0) {
		err_set(err, EX_CONFIG, "%s: contains a password but is mode "
		    "%04o: run chmod 600 %s", path,
		    (unsigned int)(st.st_mode & 07777), path);
		goto out;
	}
	if (has_password && st.st_uid != geteuid()) {
		err_set(err, EX_CONFIG, "%s: contains a password but is owned "
		    "by uid %u, not you", path, (unsigned int)st.st_uid);
		goto out;
	}

	conf->jobs = 1;
	if ((sect = iniparser_getstring(d, "defaults:jobs", NULL)) != NULL) {
		const char *errstr;

		conf->jobs = strtonum(sect, 1, 64, &errstr);
		if (errstr != NULL) {
			err_set(err, EX_CONFIG, "%s: [defaults] jobs: \"%s\" is "
			    "not a number from 1 to 64", path, sect);
			goto out;
		}
	}
	n = iniparser_getnsec(d);
	for (i = 0; i < n; i++) {
		sect = iniparser_getsecname(d, i);
		if (check_keys(d, sect, path, err) == -1)
			goto out;
		if (strcmp(sect, "defaults") == 0)
			continue;
		/* [default], [defualts]: a section of defaults misspelt. */
		if (distance(sect, "defaults") <= 2 &&
		    !iniparser_find_entry(d, host_key(sect, hk, sizeof(hk)))) {
			err_set(err, EX_CONFIG, "%s: [%s]: no host, so not an "
			    "account: did you mean [defaults]?", path, sect);
			goto out;
		}
		if (!valid_account_name(sect)) {
			err_set(err, EX_CONFIG, "%s: [%s]: an account name must "
			    "start with a letter or digit and contain only "
			    "letters, digits, '.', '_' and '-'",
			    path, sect);
			goto out;
		}
		if ((a = account_build(d, sect, path, err)) == NULL)
			goto out;
		TAILQ_INSERT_TAIL(&conf->accounts, a, entry);
	}
	if (TAILQ_EMPTY(&conf->accounts)) {
		err_set(err, EX_CONFIG, "%s: no account: add a section such "
		    "as [work] with host, user and maildir", path);
		goto out;
	}
	rv = 0;
out:
	if (d != NULL)
		iniparser_freedict(d);
	if (f != NULL)
		fclose(f);
	if (rv == -1)
		conf_free(conf);
	return rv;
}

void
conf_free(struct config *conf)
{
	struct account	*a;

	while ((a = TAILQ_FIRST(&conf->accounts)) != NULL) {
		TAILQ_REMOVE(&conf->accounts, a, entry);
		account_free(a);
	}
	free(conf->path);
	conf->path = NULL;
}

struct account *
conf_find(struct config *conf, const char *name)
{
	struct account	*a;

	TAILQ_FOREACH(a, &conf->accounts, entry)
		if (strcasecmp(a->name, name) == 0)
			return a;
	return NULL;
}

static char *
xdg_dir(const char *var, const char *fallback)
{
	const char	*v;
	char		*p, *home;

	if ((v = getenv(var)) != NULL && *v == '/') {
		xasprintf(&p, "%s/pullmail", v);
		return p;
	}
	home = path_expand("~");
	xasprintf(&p, "%s/%s/pullmail", home, fallback);
	free(home);
	return p;
}

char *
conf_default_path(void)
{
	char	*dir, *p;

	dir = xdg_dir("XDG_CONFIG_HOME", ".config");
	xasprintf(&p, "%s/config", dir);
	free(dir);
	return p;
}

char *
conf_state_dir(void)
{
	return xdg_dir("XDG_STATE_HOME", ".local/state");
}
