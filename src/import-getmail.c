/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * getmail6's rc files and oldmail files, for "pullmail import getmail".
 *
 * An rc file is Python ConfigParser syntax: [section] lines, "key = value"
 * or "key: value" (keys without regard to case), '#' or ';' starting a
 * comment line, an indented line continuing the value before. Sections
 * [retriever], [destination] and [options] are read; a tuple value such as
 * password_command = ("pass", "show", "mail") is parsed as a tuple of
 * string literals, never evaluated. Each rc file is one account; given a
 * directory, every rc file in it is (as getmail does without --rcfile).
 *
 * The oldmail file, GETMAILDIR/oldmail-SERVER-PORT-USER (characters
 * /\:;<>| replaced by '-'), has a line "UID\0TIME" for each message getmail
 * has delivered (or seen) that was still on the server: TIME is when
 * getmail first saw it. getmail6 6.18.11 (Debian 12) writes it so
 * (checked); the pre-4.22 IMAP form "VALIDITY/MAILBOX/UID" is for IMAP
 * only, whose accounts are not imported.
 */

#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pullmail.h"

#define GM_KEYS_MAX	256

struct gkv {
	char	*sect;
	char	*key;
	char	*val;
	int	 line;
};

struct grc {
	const char	*path;
	struct gkv	*kv;
	size_t		 n;
};

static void
grc_free(struct grc *g)
{
	size_t	 i;

	for (i = 0; i < g->n; i++) {
		free(g->kv[i].sect);
		free(g->kv[i].key);
		freezero_str(g->kv[i].val);
	}
	free(g->kv);
	g->kv = NULL;
	g->n = 0;
}

static char *
trim(char *s)
{
	size_t	 n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int
grc_read(struct grc *g, const char *path, char **cause)
{
	struct imp_lines	 l;
	struct gkv		*last = NULL;
	char			*line, *s, *e, *sect = NULL, *v;
	size_t			 len, i;
	int			 r;

	memset(g, 0, sizeof(*g));
	g->path = path;
	if (imp_lines_open(&l, path, cause) == -1)
		return -1;
	while ((r = imp_getline(&l, &line, &len, cause)) == 1) {
		s = trim(line);
		if (*s == '\0') {
			last = NULL;
			continue;
		}
		if (*s == '#' || *s == ';')
			continue;
		if (isspace((unsigned char)line[0]) && last != NULL) {
			xasprintf(&v, "%s\n%s", last->val, s);
			freezero_str(last->val);
			last->val = v;
			continue;
		}
		if (*s == '[') {
			if ((e = strchr(s, ']')) == NULL || e == s + 1) {
				xasprintf(cause, "%s: line %d: a section name "
				    "goes between [ and ]", path, l.lineno);
				goto fail;
			}
			free(sect);
			sect = xstrndup(s + 1, e - s - 1);
			last = NULL;
			continue;
		}
		if (sect == NULL) {
			xasprintf(cause, "%s: line %d: a setting before any "
			    "[section]", path, l.lineno);
			goto fail;
		}
		e = s + strcspn(s, "=:");
		if (*e == '\0' || e == s) {
			xasprintf(cause, "%s: line %d: expected key = value",
			    path, l.lineno);
			goto fail;
		}
		*e++ = '\0';
		if (g->n >= GM_KEYS_MAX) {
			xasprintf(cause, "%s: line %d: too many settings",
			    path, l.lineno);
			goto fail;
		}
		s = trim(s);
		for (v = s; *v != '\0'; v++)
			*v = tolower((unsigned char)*v);
		for (i = 0; i < g->n; i++)
			if (strcasecmp(g->kv[i].sect, sect) == 0 &&
			    strcmp(g->kv[i].key, s) == 0)
				break;
		if (i < g->n) {
			xasprintf(cause, "%s: line %d: [%s] %s set twice",
			    path, l.lineno, sect, s);
			goto fail;
		}
		g->kv = xreallocarray(g->kv, g->n + 1, sizeof(*g->kv));
		last = &g->kv[g->n++];
		last->sect = xstrdup(sect);
		last->key = xstrdup(s);
		last->val = xstrdup(trim(e));
		last->line = l.lineno;
	}
	if (r == -1)
		goto fail;
	free(sect);
	imp_lines_close(&l);
	return 0;
fail:
	free(sect);
	imp_lines_close(&l);
	grc_free(g);
	return -1;
}

static struct gkv *
gget(struct grc *g, const char *sect, const char *key)
{
	size_t	 i;

	for (i = 0; i < g->n; i++)
		if (strcasecmp(g->kv[i].sect, sect) == 0 &&
		    strcmp(g->kv[i].key, key) == 0)
			return &g->kv[i];
	return NULL;
}

/* ConfigParser's getboolean. */
static int
gbool(struct grc *g, const char *sect, const char *key, int def, int *out,
    char **cause)
{
	static const char	*yes[] = { "1", "yes", "true", "on" };
	static const char	*no[] = { "0", "no", "false", "off" };
	struct gkv		*kv = gget(g, sect, key);
	size_t			 i;

	*out = def;
	if (kv == NULL)
		return 0;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(kv->val, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(kv->val, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	xasprintf(cause, "%s: line %d: %s: not a boolean", g->path, kv->line,
	    key);
	return -1;
}

static int
gnum(struct grc *g, const char *sect, const char *key, long long max,
    long long *out, char **cause)
{
	struct gkv	*kv = gget(g, sect, key);
	const char	*errstr;

	*out = 0;
	if (kv == NULL)
		return 0;
	*out = strtonum(kv->val, 0, max, &errstr);
	if (errstr != NULL) {
		xasprintf(cause, "%s: line %d: %s: not a number from 0 to %lld",
		    g->path, kv->line, key, max);
		return -1;
	}
	return 0;
}

/*
 * A Python tuple of string literals, ("a", 'b\n', "c",) or a single string
 * in parentheses, into words. -1 if it is anything else.
 */
static int
gtuple(const char *s, char ***wordsp, size_t *np)
{
	char	**w = NULL, *buf;
	size_t	  n = 0, bl;
	int	  q;

	buf = xmalloc(strlen(s) + 1);
	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '(')
		goto fail;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == ')')
			break;
		if (*s != '"' && *s != '\'')
			goto fail;
		q = *s++;
		bl = 0;
		while (*s != q) {
			if (*s == '\0' || *s == '\n')
				goto fail;
			if (*s == '\\') {
				s++;
				if (*s == 'n')
					buf[bl++] = '\n';
				else if (*s == 't')
					buf[bl++] = '\t';
				else if (*s == '\\' || *s == '\'' || *s == '"')
					buf[bl++] = *s;
				else
					goto fail;
				s++;
				continue;
			}
			buf[bl++] = *s++;
		}
		s++;
		w = xreallocarray(w, n + 2, sizeof(*w));
		w[n++] = xstrndup(buf, bl);
		w[n] = NULL;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == ',')
			s++;
		else if (*s != ')')
			goto fail;
	}
	s++;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0' || n == 0)
		goto fail;
	free(buf);
	*wordsp = w;
	*np = n;
	return 0;
fail:
	free(buf);
	if (w != NULL)
		free_words(w);
	return -1;
}

/* Words as a pullmail command line: each quoted as split_words reads it. */
static char *
gcommand(char **w, size_t n, int mda)
{
	char	*out = xstrdup(""), *q, *t, *arg;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (mda) {
			static const char *const map[] = { "%(sender)", "%F",
			    "%(local)", "%u", "%(recipient)", "%u", NULL };

			arg = imp_mda_template(w[i], map);
		} else
			arg = xstrdup(w[i]);
		if (*arg != '\0' && strpbrk(arg, " \t\n'\"\\") == NULL)
			q = xstrdup(arg);
		else {
			/* 'it'\''s' */
			q = xmalloc(strlen(arg) * 4 + 3);
			t = q;
			*t++ = '\'';
			for (const char *s = arg; *s != '\0'; s++) {
				if (*s == '\'') {
					memcpy(t, "'\\''", 4);
					t += 4;
				} else
					*t++ = *s;
			}
			*t++ = '\'';
			*t = '\0';
		}
		t = out;
		xasprintf(&out, "%s%s%s", t, i > 0 ? " " : "", q);
		free(t);
		free(q);
		free(arg);
	}
	return out;
}

static void
nothing_of(struct imp_acct *a, struct grc *g, const char *sect,
    const char **known, size_t nknown)
{
	size_t	 i, j;

	for (i = 0; i < g->n; i++) {
		if (strcasecmp(g->kv[i].sect, sect) != 0)
			continue;
		for (j = 0; j < nknown; j++)
			if (strcmp(g->kv[i].key, known[j]) == 0)
				break;
		if (j == nknown)
			imp_note(a, "[%s] %s (line %d): not carried over: "
			    "pullmail has no such setting", sect,
			    g->kv[i].key, g->kv[i].line);
	}
}

/* The oldmail file's name for this account, in dir. */
static char *
oldmail_path(const char *dir, const char *server, const char *port,
    const char *user)
{
	char	*name, *s, *p, *out;

	xasprintf(&name, "oldmail-%s-%s-%s", server, port, user);
	/* re.sub(r'[/\:;<>|]+', '-', name) */
	for (s = p = name; *s != '\0'; ) {
		if (strchr("/\\:;<>|", *s) != NULL) {
			while (*s != '\0' && strchr("/\\:;<>|", *s) != NULL)
				s++;
			*p++ = '-';
		} else
			*p++ = *s++;
	}
	*p = '\0';
	xasprintf(&out, "%s/%s", dir, name);
	free(name);
	return out;
}

static char *
default_getmaildir(void)
{
	const char	*x = getenv("XDG_CONFIG_HOME");
	char		*p;

	if (x != NULL && *x == '/')
		xasprintf(&p, "%s/getmail", x);
	else
		p = path_expand("~/.config/getmail");
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return path_expand("~/.getmail");
}

static const char *retr_keys[] = {
	"type", "server", "port", "username", "password", "password_command",
	"use_apop", "ca_certs", "certfile", "keyfile", "ssl_cert_hostname",
	"ssl_fingerprints", "use_xoauth2"
};
static const char *dest_keys[] = { "type", "path", "arguments", "user" };
static const char *opt_keys[] = {
	"delete", "delete_after", "max_message_size", "delete_bigger_than",
	"max_messages_per_session", "read_all", "verbose", "message_log",
	"message_log_syslog", "message_log_verbose"
};

/* One rc file as one account. */
static int
rc_account(struct imp_src *src, const char *path, const char *gmdir,
    char **cause)
{
	struct grc	 g;
	struct gkv	*kv;
	struct imp_acct	*a;
	const char	*type, *base, *n;
	char		**w, *dir, *name;
	size_t		 nw, i;
	int		 b, rv = -1, pop3s, ok = 1;
	long long	 num;

	if (grc_read(&g, path, cause) == -1)
		return -1;
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	n = base;
	if (strncmp(n, "getmailrc", 9) == 0)
		n += 9;
	n += strspn(n, "-_.");
	if ((kv = gget(&g, "retriever", "type")) == NULL) {
		xasprintf(cause, "%s: no [retriever] type", path);
		goto out;
	}
	type = kv->val;
	if (*n != '\0')
		name = xstrdup(n);
	else if ((kv = gget(&g, "retriever", "server")) != NULL)
		name = xstrdup(kv->val);
	else
		name = xstrdup("getmail");
	a = imp_acct_new(src, name, path, gget(&g, "retriever", "type")->line);
	free(name);
	pop3s = strcmp(type, "SimplePOP3SSLRetriever") == 0;
	if (!pop3s && strcmp(type, "SimplePOP3Retriever") != 0) {
		a->disabled = 1;
		imp_note(a, "[retriever] type = %s: pullmail reads one POP3 "
		    "mailbox (%s): account left out", type,
		    strstr(type, "IMAP") != NULL ? "not IMAP" :
		    strstr(type, "Multidrop") != NULL ? "not multidrop" :
		    strstr(type, "BrokenUIDL") != NULL ? "by UIDL, which "
		    "this server lacked for getmail" : "unknown type");
	}
	if ((kv = gget(&g, "retriever", "server")) == NULL) {
		xasprintf(cause, "%s: no [retriever] server", path);
		goto out;
	}
	a->host = xstrdup(kv->val);
	a->tls = pop3s ? TLSM_IMPLICIT : TLSM_NONE;
	if (!pop3s && !a->disabled)
		imp_note(a, "SimplePOP3Retriever: getmail used no TLS: neither "
		    "does this account, and pullmail sends no password in "
		    "clear text unless you add allow_plaintext = yes");
	if ((kv = gget(&g, "retriever", "port")) != NULL) {
		if (gnum(&g, "retriever", "port", 65535, &num, cause) == -1)
			goto out;
		xasprintf(&a->port, "%lld", num);
	} else
		a->port = xstrdup(pop3s ? "995" : "110");
	if ((kv = gget(&g, "retriever", "username")) == NULL) {
		xasprintf(cause, "%s: no [retriever] username", path);
		goto out;
	}
	a->user = xstrdup(kv->val);
	if ((kv = gget(&g, "retriever", "password")) != NULL)
		a->password = xstrdup(kv->val);
	if ((kv = gget(&g, "retriever", "password_command")) != NULL &&
	    *kv->val != '\0' && strcmp(kv->val, "()") != 0) {
		if (gtuple(kv->val, &w, &nw) == -1) {
			xasprintf(cause, "%s: line %d: password_command: not a "
			    "tuple of strings", path, kv->line);
			goto out;
		}
		a->password_command = gcommand(w, nw, 0);
		free_words(w);
	}
	if (gbool(&g, "retriever", "use_apop", 0, &b, cause) == -1)
		goto out;
	if (b)
		a->auth = xstrdup("apop");
	if (gbool(&g, "retriever", "use_xoauth2", 0, &b, cause) == -1)
		goto out;
	if (b) {
		free(a->auth);
		a->auth = xstrdup("xoauth2");
	}
	if ((kv = gget(&g, "retriever", "ca_certs")) != NULL)
		a->ca_file = path_expand(kv->val);
	if ((kv = gget(&g, "retriever", "certfile")) != NULL)
		a->client_cert = path_expand(kv->val);
	if ((kv = gget(&g, "retriever", "keyfile")) != NULL)
		a->client_key = path_expand(kv->val);
	if ((kv = gget(&g, "retriever", "ssl_cert_hostname")) != NULL)
		a->tls_server_name = xstrdup(kv->val);
	if ((kv = gget(&g, "retriever", "ssl_fingerprints")) != NULL) {
		w = NULL;
		if (gtuple(kv->val, &w, &nw) == 0 && nw == 1 &&
		    (a->fingerprint = imp_fingerprint(w[0])) != NULL)
			;
		else
			imp_note(a, "ssl_fingerprints (line %d): pullmail pins "
			    "one SHA-256 fingerprint: set it by hand",
			    kv->line);
		if (w != NULL)
			free_words(w);
	}
	nothing_of(a, &g, "retriever", retr_keys,
	    sizeof(retr_keys) / sizeof(retr_keys[0]));

	if ((kv = gget(&g, "destination", "type")) == NULL) {
		xasprintf(cause, "%s: no [destination] type", path);
		goto out;
	}
	type = kv->val;
	kv = gget(&g, "destination", "path");
	if (strcmp(type, "Maildir") == 0 && kv != NULL)
		a->maildir = path_expand(kv->val);
	else if (strcmp(type, "Mboxrd") == 0 && kv != NULL)
		a->mbox = path_expand(kv->val);
	else if (strcmp(type, "MDA_external") == 0 && kv != NULL) {
		char	**all, **args = NULL;
		size_t	  nargs = 0;

		if ((kv = gget(&g, "destination", "arguments")) != NULL &&
		    gtuple(kv->val, &args, &nargs) == -1) {
			xasprintf(cause, "%s: line %d: arguments: not a tuple "
			    "of strings", path, kv->line);
			goto out;
		}
		all = xcalloc(nargs + 2, sizeof(*all));
		all[0] = gget(&g, "destination", "path")->val;
		for (i = 0; i < nargs; i++)
			all[i + 1] = args[i];
		a->mda = gcommand(all, nargs + 1, 1);
		free(all);
		if (args != NULL)
			free_words(args);
	} else {
		ok = 0;
		a->disabled = 1;
		imp_note(a, "[destination] type = %s: pullmail delivers to one "
		    "Maildir, mbox or MDA: account left out", type);
	}
	if (ok && strcmp(type, "Maildir") != 0 && strcmp(type, "Mboxrd") != 0 &&
	    strcmp(type, "MDA_external") != 0)
		imp_note(a, "[destination] type = %s: not carried over", type);
	nothing_of(a, &g, "destination", dest_keys,
	    sizeof(dest_keys) / sizeof(dest_keys[0]));

	if (gbool(&g, "options", "delete", 0, &b, cause) == -1)
		goto out;
	a->keep = !b;
	if (gnum(&g, "options", "delete_after", 36500, &num, cause) == -1)
		goto out;
	if (!b && num > 0) {
		a->keep = 0;
		a->keep_days = num;
	}
	if (gnum(&g, "options", "max_message_size", 1LL << 40, &num,
	    cause) == -1)
		goto out;
	a->skip_larger = num;
	if (gnum(&g, "options", "delete_bigger_than", 1LL << 40, &num,
	    cause) == -1)
		goto out;
	a->delete_larger = num;
	if (gnum(&g, "options", "max_messages_per_session", 1000000, &num,
	    cause) == -1)
		goto out;
	a->max_messages = num;
	if (gbool(&g, "options", "read_all", 1, &b, cause) == -1)
		goto out;
	if (b)
		imp_note(a, "read_all (getmail's default: true): getmail "
		    "fetched every message on every run; pullmail fetches the "
		    "new ones (fetch_all = yes would fetch them all again)");
	nothing_of(a, &g, "options", opt_keys,
	    sizeof(opt_keys) / sizeof(opt_keys[0]));
	for (i = 0; i < g.n; i++)
		if (strcasecmp(g.kv[i].sect, "retriever") != 0 &&
		    strcasecmp(g.kv[i].sect, "destination") != 0 &&
		    strcasecmp(g.kv[i].sect, "options") != 0 &&
		    (i == 0 || strcasecmp(g.kv[i].sect, g.kv[i - 1].sect) != 0))
			imp_note(a, "[%s]: not carried over%s", g.kv[i].sect,
			    strncasecmp(g.kv[i].sect, "filter", 6) == 0 ?
			    " (pullmail has no filters: put them in an MDA)" :
			    "");

	/* The oldmail file: next to the rc file, or in the getmaildir. */
	dir = xstrdup(path);
	if (strrchr(dir, '/') != NULL)
		*strrchr(dir, '/') = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	a->state = oldmail_path(dir, a->host, a->port, a->user);
	free(dir);
	if (access(a->state, F_OK) == -1 && gmdir != NULL) {
		free(a->state);
		a->state = oldmail_path(gmdir, a->host, a->port, a->user);
	}
	if (!a->disabled && imp_oldmail(a, a->state, cause) == -1)
		goto out;
	rv = 0;
out:
	grc_free(&g);
	return rv;
}

/*
 * An oldmail file's UIDs, each with the time getmail first saw it. No file:
 * nothing recorded.
 */
int
imp_oldmail(struct imp_acct *a, const char *path, char **cause)
{
	struct imp_lines	 l;
	char			*line, *nul, *uid;
	const char		*errstr;
	size_t			 len, ulen;
	long long		 t;
	int			 r;

	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	a->state_found = 1;
	if (imp_lines_open(&l, path, cause) == -1)
		return -1;
	l.nul_ok = 1;	/* the separator is a NUL byte */
	while ((r = imp_getline(&l, &line, &len, cause)) == 1) {
		/* Python's str.strip() */
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		while (len > 0 && isspace((unsigned char)*line)) {
			line++;
			len--;
		}
		if (len == 0)
			continue;
		if ((nul = memchr(line, '\0', len)) == NULL || nul == line) {
			xasprintf(cause, "%s: line %d: expected UID, a NUL "
			    "byte and a time", path, l.lineno);
			goto fail;
		}
		uid = line;
		ulen = nul - line;
		if (memchr(nul + 1, '\0', len - ulen - 1) != NULL) {
			xasprintf(cause, "%s: line %d: more than one NUL byte",
			    path, l.lineno);
			goto fail;
		}
		t = strtonum(nul + 1, 0, (long long)INT32_MAX * 4, &errstr);
		if (errstr != NULL) {
			xasprintf(cause, "%s: line %d: the time is %s", path,
			    l.lineno, errstr);
			goto fail;
		}
		if (imp_add_uid(a, uid, ulen, (time_t)t) == -1) {
			xasprintf(cause, "%s: line %d: too many UIDs", path,
			    l.lineno);
			goto fail;
		}
	}
	if (r == -1)
		goto fail;
	imp_lines_close(&l);
	return 0;
fail:
	imp_lines_close(&l);
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/*
 * path: an rc file, or a directory of them (each file not named oldmail-*,
 * *.json or .*). dir: where else to look for oldmail files, or NULL for the
 * default getmaildir.
 */
int
imp_getmail(const char *path, const char *gmdir, struct imp_src *src,
    char **cause)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		**files = NULL, *p, *dflt = NULL;
	size_t		 n = 0, i;
	int		 rv = -1;

	imp_src_init(src, "getmail", path);
	if (gmdir == NULL)
		gmdir = dflt = default_getmaildir();
	if (stat(path, &st) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rv = rc_account(src, path, gmdir, cause);
		goto out;
	}
	if ((d = opendir(path)) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, "oldmail-", 8) == 0 ||
		    (strlen(de->d_name) > 5 && strcmp(de->d_name +
		    strlen(de->d_name) - 5, ".json") == 0))
			continue;
		xasprintf(&p, "%s/%s", path, de->d_name);
		if (stat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		files = xreallocarray(files, n + 1, sizeof(*files));
		files[n++] = p;
	}
	closedir(d);
	qsort(files, n, sizeof(*files), cmp_str);
	for (i = 0; i < n; i++)
		if (rc_account(src, files[i], path, cause) == -1)
			goto out;
	rv = 0;
out:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(dflt);
	return rv;
}
