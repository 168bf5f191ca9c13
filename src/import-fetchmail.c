/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fetchmail's ~/.fetchmailrc and ~/.fetchids, for "pullmail import
 * fetchmail".
 *
 * The rc file is a list of statements: "set ...", "defaults ...", and
 * "poll|skip SERVER [server options] user REMOTE [user options] [user
 * ...]". Tokens are words or quoted strings (double or single quotes, with
 * backslash escapes); '#' starts a comment; the words and, with, has,
 * wants, options and the punctuation , ; : are noise. A "defaults"
 * statement gives every later poll its options. Each user of each poll is
 * one pullmail account; a keyword this parser does not know is an error, as
 * it is for fetchmail.
 *
 * The idfile (~/.fetchids, $FETCHMAILHOME/.fetchids, or "set idfile")
 * has a line "REMOTE@SERVER UID" for each message fetchmail has fetched
 * and left on the server (SERVER is the "via" host, or the poll name); the
 * user part may itself hold '@'. fetchmail 6.4.37 (Debian 12) writes it so
 * (checked); its reader, which this one follows, also takes blanks before
 * the UID and ignores what follows it.
 */

#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pullmail.h"

#define FM_TOKEN_MAX	4096

struct ftok {
	char	*s;
	int	 quoted;
	int	 line;
};

struct fparse {
	const char	*path;
	struct ftok	*t;
	size_t		 n;
	size_t		 i;
	char		**cause;
};

/* Options of a poll (and of "defaults"), and of each of its users. */
struct fopts {
	char	*via, *proto, *port, *auth, *password, *sslproto, *certfile;
	char	*certpath, *fpr, *sslkey, *sslcert, *cn, *mda, *remote;
	char	*timeout;
	int	 ssl, certck, keep, fetchall, limit, fetchlimit, nlocal;
	int	 multidrop, line;
	char	*notes;
};

static const char *noise[] = {
	"and", "with", "has", "wants", "options", "there", "here"
};

/* Keywords that take one argument, noted as not carried over. */
static const char *arg_noted[] = {
	"interface", "monitor", "plugin", "plugout", "principal",
	"esmtpname", "esmtppassword", "interval", "warnings",
	"fetchsizelimit", "fastuidl", "batchlimit", "expunge", "smtpaddress",
	"smtpname", "bsmtp", "preconnect", "postconnect", "properties",
	"qvirtual", "bad-header"
};
/* Keywords that take a list, noted as not carried over. */
static const char *list_noted[] = {
	"aka", "localdomains", "smtphost", "folder", "fetchdomains", "antispam"
};
/* Flags (also after "no") noted as not carried over, or without effect. */
static const char *flag_noted[] = {
	"flush", "limitflush", "stripcr", "forcecr", "pass8bits",
	"mimedecode", "dropstatus", "dropdelivered", "idle", "lmtp",
	"showdots", "tracepolls", "dns", "checkalias", "envelope"
};
static const char *flag_silent[] = { "uidl", "rewrite" };

static const char *keywords_misc[] = {
	"poll", "skip", "defaults", "set", "user", "username", "is", "to",
	"via", "proto", "protocol", "port", "service", "auth", "authenticate",
	"pass", "password", "ssl", "sslproto", "sslcertck", "sslcertfile",
	"sslcertpath", "sslfingerprint", "sslkey", "sslcert", "sslcommonname",
	"keep", "fetchall", "limit", "fetchlimit", "mda", "no", "timeout"
};

static int
in(const char *s, const char **list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}
#define IN(s, l)	in((s), (l), sizeof(l) / sizeof((l)[0]))

static int
keyword(const struct ftok *t)
{
	return !t->quoted && (IN(t->s, keywords_misc) || IN(t->s, noise) ||
	    IN(t->s, arg_noted) || IN(t->s, list_noted) ||
	    IN(t->s, flag_noted) || IN(t->s, flag_silent));
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* The whole file as tokens. */
static int
tokenize(struct fparse *p, char **cause)
{
	struct imp_lines	 l;
	char			*line, *s, *w, q;
	size_t			 len, wl;
	int			 r, quoted;

	if (imp_lines_open(&l, p->path, cause) == -1)
		return -1;
	w = xmalloc(IMP_LINE_MAX + 1);
	while ((r = imp_getline(&l, &line, &len, cause)) == 1) {
		for (s = line; *s != '\0'; ) {
			if (isspace((unsigned char)*s) || strchr(",;:", *s)) {
				s++;
				continue;
			}
			if (*s == '#')
				break;
			wl = 0;
			quoted = 0;
			if (*s == '"' || *s == '\'') {
				q = *s++;
				quoted = 1;
				while (*s != q) {
					if (*s == '\0') {
						xasprintf(cause, "%s: line %d: "
						    "unterminated string",
						    p->path, l.lineno);
						goto fail;
					}
					if (*s == '\\' && s[1] != '\0') {
						s++;
						if (*s == 'n')
							w[wl++] = '\n';
						else if (*s == 't')
							w[wl++] = '\t';
						else if (*s == 'x' &&
						    isxdigit((unsigned char)s[1]) &&
						    isxdigit((unsigned char)s[2])) {
							w[wl++] = hexval(
							    (unsigned char)s[1]) * 16 +
							    hexval((unsigned char)s[2]);
							s += 2;
						} else
							w[wl++] = *s;
						s++;
						continue;
					}
					w[wl++] = *s++;
				}
				s++;
			} else
				while (*s != '\0' && !isspace((unsigned char)*s) &&
				    strchr(",;:#", *s) == NULL)
					w[wl++] = *s++;
			if (p->n % 64 == 0)
				p->t = xreallocarray(p->t, p->n + 64,
				    sizeof(*p->t));
			p->t[p->n].s = xstrndup(w, wl);
			if (memchr(w, '\0', wl) != NULL || wl > FM_TOKEN_MAX) {
				xasprintf(cause, "%s: line %d: a string holds "
				    "a NUL byte or is too long", p->path,
				    l.lineno);
				free(p->t[p->n].s);
				goto fail;
			}
			p->t[p->n].quoted = quoted;
			p->t[p->n].line = l.lineno;
			p->n++;
		}
	}
	if (r == -1)
		goto fail;
	freezero(w, IMP_LINE_MAX + 1);
	imp_lines_close(&l);
	return 0;
fail:
	freezero(w, IMP_LINE_MAX + 1);
	imp_lines_close(&l);
	return -1;
}

static struct ftok *
peek(struct fparse *p)
{
	return p->i < p->n ? &p->t[p->i] : NULL;
}

/* The argument of the keyword just read. */
static const char *
arg(struct fparse *p, const char *kw)
{
	struct ftok	*t;
	int		 line = p->i > 0 ? p->t[p->i - 1].line : 0;

	if ((t = peek(p)) == NULL || (keyword(t) && !IN(t->s, noise))) {
		xasprintf(p->cause, "%s: line %d: %s needs an argument",
		    p->path, line, kw);
		return NULL;
	}
	p->i++;
	return t->s;
}

static int
number(struct fparse *p, const char *kw, int *out)
{
	const char	*v, *errstr;

	if ((v = arg(p, kw)) == NULL)
		return -1;
	*out = strtonum(v, 0, 1000000000, &errstr);
	if (errstr != NULL) {
		xasprintf(p->cause, "%s: line %d: %s %s: not a number",
		    p->path, p->t[p->i - 1].line, kw, v);
		return -1;
	}
	return 0;
}

static void
set_str(char **f, const char *v)
{
	if (*f != NULL)
		freezero_str(*f);
	*f = xstrdup(v);
}

static void
fnote(struct fopts *o, const char *kw, int line)
{
	char	*l, *n;

	xasprintf(&l, "%s (line %d): not carried over: pullmail has no "
	    "such setting", kw, line);
	xasprintf(&n, "%s%s\n", o->notes != NULL ? o->notes : "", l);
	free(l);
	free(o->notes);
	o->notes = n;
}

/* The string fields of struct fopts. */
static const size_t fstr[] = {
	offsetof(struct fopts, via), offsetof(struct fopts, proto),
	offsetof(struct fopts, port), offsetof(struct fopts, auth),
	offsetof(struct fopts, password), offsetof(struct fopts, sslproto),
	offsetof(struct fopts, certfile), offsetof(struct fopts, certpath),
	offsetof(struct fopts, fpr), offsetof(struct fopts, sslkey),
	offsetof(struct fopts, sslcert), offsetof(struct fopts, cn),
	offsetof(struct fopts, mda), offsetof(struct fopts, remote),
	offsetof(struct fopts, timeout),
	offsetof(struct fopts, notes)
};
#define FSTR(o, i)	((char **)((char *)(o) + fstr[i]))

static void
fopts_copy(struct fopts *d, const struct fopts *s)
{
	size_t	 i;

	*d = *s;
	for (i = 0; i < sizeof(fstr) / sizeof(fstr[0]); i++)
		if (*FSTR(d, i) != NULL)
			*FSTR(d, i) = xstrdup(*FSTR(d, i));
}

static void
fopts_free(struct fopts *o)
{
	size_t	 i;

	for (i = 0; i < sizeof(fstr) / sizeof(fstr[0]); i++)
		if (*FSTR(o, i) != NULL)
			freezero_str(*FSTR(o, i));
	memset(o, 0, sizeof(*o));
}

/*
 * Options until the next statement or "user"; *o gets them. Returns 0,
 * or -1 with *p->cause set.
 */
static int
options(struct fparse *p, struct fopts *o)
{
	struct ftok	*t;
	const char	*v, *kw;
	int		 neg, line;

	while ((t = peek(p)) != NULL) {
		if (t->quoted) {
			xasprintf(p->cause, "%s: line %d: a string where an "
			    "option was expected", p->path, t->line);
			return -1;
		}
		if (strcmp(t->s, "poll") == 0 || strcmp(t->s, "skip") == 0 ||
		    strcmp(t->s, "defaults") == 0 || strcmp(t->s, "set") == 0 ||
		    strcmp(t->s, "user") == 0 || strcmp(t->s, "username") == 0)
			return 0;
		p->i++;
		line = t->line;
		if (IN(t->s, noise))
			continue;
		neg = 0;
		if (strcmp(t->s, "no") == 0) {
			if ((t = peek(p)) == NULL || t->quoted) {
				xasprintf(p->cause, "%s: line %d: \"no\" what?",
				    p->path, line);
				return -1;
			}
			p->i++;
			neg = 1;
		}
		if (strcmp(t->s, "keep") == 0)
			o->keep = !neg;
		else if (strcmp(t->s, "fetchall") == 0)
			o->fetchall = !neg;
		else if (strcmp(t->s, "ssl") == 0)
			o->ssl = !neg;
		else if (strcmp(t->s, "sslcertck") == 0)
			o->certck = !neg;
		else if (IN(t->s, flag_silent))
			;
		else if (IN(t->s, flag_noted)) {
			kw = t->s;
			if (strcmp(t->s, "envelope") == 0 && !neg) {
				if ((t = peek(p)) != NULL && !t->quoted &&
				    isdigit((unsigned char)t->s[0]))
					p->i++;
				if (arg(p, "envelope") == NULL)
					return -1;
				o->multidrop = 1;
			}
			if (!neg)
				fnote(o, kw, line);
		} else if (neg) {
			xasprintf(p->cause, "%s: line %d: \"no %s\": not a "
			    "flag", p->path, line, t->s);
			return -1;
		} else if (strcmp(t->s, "via") == 0) {
			if ((v = arg(p, "via")) == NULL)
				return -1;
			set_str(&o->via, v);
		} else if (strcmp(t->s, "proto") == 0 ||
		    strcmp(t->s, "protocol") == 0) {
			if ((v = arg(p, "proto")) == NULL)
				return -1;
			set_str(&o->proto, v);
		} else if (strcmp(t->s, "port") == 0 ||
		    strcmp(t->s, "service") == 0) {
			if ((v = arg(p, "port")) == NULL)
				return -1;
			set_str(&o->port, v);
		} else if (strcmp(t->s, "auth") == 0 ||
		    strcmp(t->s, "authenticate") == 0) {
			if ((v = arg(p, "auth")) == NULL)
				return -1;
			set_str(&o->auth, v);
		} else if (strcmp(t->s, "pass") == 0 ||
		    strcmp(t->s, "password") == 0) {
			if ((v = arg(p, "password")) == NULL)
				return -1;
			set_str(&o->password, v);
		} else if (strcmp(t->s, "sslproto") == 0) {
			if ((v = arg(p, "sslproto")) == NULL)
				return -1;
			set_str(&o->sslproto, v);
		} else if (strcmp(t->s, "sslcertfile") == 0) {
			if ((v = arg(p, t->s)) == NULL)
				return -1;
			set_str(&o->certfile, v);
		} else if (strcmp(t->s, "sslcertpath") == 0) {
			if ((v = arg(p, t->s)) == NULL)
				return -1;
			set_str(&o->certpath, v);
		} else if (strcmp(t->s, "sslfingerprint") == 0) {
			if ((v = arg(p, t->s)) == NULL)
				return -1;
			set_str(&o->fpr, v);
		} else if (strcmp(t->s, "sslkey") == 0) {
			if ((v = arg(p, t->s)) == NULL)
				return -1;
			set_str(&o->sslkey, v);
		} else if (strcmp(t->s, "sslcert") == 0) {
			if ((v = arg(p, t->s)) == NULL)
				return -1;
			set_str(&o->sslcert, v);
		} else if (strcmp(t->s, "sslcommonname") == 0) {
			if ((v = arg(p, t->s)) == NULL)
				return -1;
			set_str(&o->cn, v);
		} else if (strcmp(t->s, "timeout") == 0) {
			if ((v = arg(p, "timeout")) == NULL)
				return -1;
			set_str(&o->timeout, v);
		} else if (strcmp(t->s, "mda") == 0) {
			if ((v = arg(p, "mda")) == NULL)
				return -1;
			set_str(&o->mda, v);
		} else if (strcmp(t->s, "limit") == 0) {
			if (number(p, "limit", &o->limit) == -1)
				return -1;
		} else if (strcmp(t->s, "fetchlimit") == 0) {
			if (number(p, "fetchlimit", &o->fetchlimit) == -1)
				return -1;
		} else if (strcmp(t->s, "is") == 0 || strcmp(t->s, "to") == 0) {
			o->nlocal = 0;
			while ((t = peek(p)) != NULL && (!keyword(t) ||
			    (IN(t->s, noise) && strcmp(t->s, "here") != 0))) {
				p->i++;
				if (IN(t->s, noise) && !t->quoted)
					continue;
				if (strcmp(t->s, "*") == 0)
					o->multidrop = 1;
				o->nlocal++;
			}
			if (o->nlocal > 1)
				o->multidrop = 1;
		} else if (IN(t->s, arg_noted)) {
			if (arg(p, t->s) == NULL)
				return -1;
			fnote(o, t->s, line);
		} else if (IN(t->s, list_noted)) {
			kw = t->s;
			while ((t = peek(p)) != NULL && !keyword(t))
				p->i++;
			fnote(o, kw, line);
			if (strcmp(kw, "aka") == 0 ||
			    strcmp(kw, "localdomains") == 0)
				o->multidrop = 1;
		} else {
			char *vis = log_vis(t->s, strlen(t->s));

			xasprintf(p->cause, "%s: line %d: unknown keyword %s",
			    p->path, line, vis);
			free(vis);
			return -1;
		}
	}
	return 0;
}

/* "%T" (fetchmail's recipient) is pullmail's "%u"; "%F" stays. */
static char *
fm_mda(const char *cmd)
{
	static const char *const map[] = { "%T", "%u", "%F", "%F", NULL };
	char	*t = imp_mda_template(cmd, map), *r;

	r = imp_command(t, 1);
	free(t);
	return r;
}

/* A poll's user as a pullmail account. */
static int
convert(struct imp_src *src, const char *path, const char *server,
    int skip, int nusers, struct fopts *o, char **cause)
{
	struct imp_acct	*a;
	const char	*proto = o->proto != NULL ? o->proto : "auto";
	char		*name, *v;
	struct passwd	*pw;

	if (o->remote == NULL) {
		pw = getpwuid(getuid());
		set_str(&o->remote, pw != NULL ? pw->pw_name : "");
	}
	if (nusers > 1)
		xasprintf(&name, "%s-%s", server, o->remote);
	else
		name = xstrdup(server);
	a = imp_acct_new(src, name, path, o->line);
	free(name);
	a->notes = o->notes;
	o->notes = NULL;
	a->host = xstrdup(o->via != NULL ? o->via : server);
	xasprintf(&a->state_key, "%s@%s", o->remote, a->host);
	a->user = xstrdup(o->remote);
	if (skip)
		imp_note(a, "skip: fetchmail polled this account only when "
		    "named; pullmail fetches it with the others");
	if (strcasecmp(proto, "apop") == 0)
		a->auth = xstrdup("apop");
	else if (strcasecmp(proto, "auto") == 0)
		imp_note(a, "proto auto: taken as POP3");
	else if (strcasecmp(proto, "pop3") != 0) {
		a->disabled = 1;
		imp_note(a, "proto %s: pullmail speaks POP3 only: account "
		    "left out", proto);
	}
	if (o->multidrop) {
		a->disabled = 1;
		imp_note(a, "a multidrop mailbox (several local names, "
		    "envelope, aka or localdomains): pullmail delivers each "
		    "account to one place: account left out");
	}
	if (o->ssl)
		a->tls = TLSM_IMPLICIT;
	else if (o->sslproto != NULL && *o->sslproto == '\0') {
		a->tls = TLSM_NONE;
		imp_note(a, "sslproto '': fetchmail used no TLS: neither does "
		    "this account, and pullmail sends no password in clear "
		    "text unless you add allow_plaintext = yes");
	} else {
		a->tls = TLSM_STARTTLS;
		imp_note(a, "no ssl: fetchmail used STLS when offered; "
		    "pullmail requires it (tls = starttls)");
	}
	if (o->sslproto != NULL && *o->sslproto != '\0')
		imp_note(a, "sslproto %s: pullmail uses TLS 1.2 or later",
		    o->sslproto);
	if (o->port != NULL && strspn(o->port, "0123456789") !=
	    strlen(o->port)) {
		/* A service name: the two POP3 ones are known. */
		if (strcmp(o->port, "pop3s") != 0 && strcmp(o->port, "pop3") != 0)
			imp_note(a, "port %s: not a port number: the default "
			    "port is used", o->port);
		a->port = xstrdup(strcmp(o->port, "pop3s") == 0 ? "995" :
		    strcmp(o->port, "pop3") == 0 ? "110" : o->ssl ? "995" :
		    "110");
	} else
		a->port = xstrdup(o->port != NULL ? o->port : o->ssl ? "995" :
		    "110");
	if (o->certfile != NULL)
		a->ca_file = path_expand(o->certfile);
	if (o->certpath != NULL)
		a->ca_path = path_expand(o->certpath);
	if (o->sslkey != NULL)
		a->client_key = path_expand(o->sslkey);
	if (o->sslcert != NULL)
		a->client_cert = path_expand(o->sslcert);
	if (o->cn != NULL)
		a->tls_server_name = xstrdup(o->cn);
	if (o->fpr != NULL && (a->fingerprint = imp_fingerprint(o->fpr)) ==
	    NULL)
		imp_note(a, "sslfingerprint %s: not a SHA-256 fingerprint, "
		    "which is all pullmail pins: get one with pullmail "
		    "--serverinfo %s", o->fpr, a->name);
	if (!o->certck && o->fpr == NULL)
		imp_note(a, "no sslcertck: pullmail always verifies the "
		    "server: pin its certificate with the fingerprint that "
		    "pullmail --serverinfo %s shows", a->name);
	if (o->auth != NULL && strcasecmp(o->auth, "password") != 0 &&
	    strcasecmp(o->auth, "any") != 0) {
		if (auth_mech_parse(o->auth) > 0) {
			free(a->auth);		/* proto apop, auth ... */
			a->auth = xstrdup(o->auth);
			for (v = a->auth; *v != '\0'; v++)
				*v = tolower((unsigned char)*v);
		} else
			imp_note(a, "auth %s: pullmail does not offer this "
			    "method: it chooses the strongest the server "
			    "offers", o->auth);
	}
	if (o->password != NULL)
		a->password = xstrdup(o->password);
	a->keep = o->keep;
	a->fetchall = o->fetchall;
	if (o->timeout != NULL)
		imp_timeout(a, o->timeout);
	a->skip_larger = o->limit > 0 ? (uint64_t)o->limit : 0;
	a->max_messages = o->fetchlimit;
	if (o->mda != NULL)
		a->mda = fm_mda(o->mda);
	else {
		a->mda = xstrdup("/usr/sbin/sendmail -oi -f %F -- %u");
		imp_note(a, "no mda: fetchmail forwarded by SMTP to the local "
		    "mail server; pullmail hands each message to sendmail "
		    "instead (or set maildir, mbox or mda)");
	}
	return 0;
}

static void
free_tokens(struct fparse *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		freezero_str(p->t[i].s);
	free(p->t);
}

static char *
default_idfile(void)
{
	const char	*h = getenv("FETCHMAILHOME");
	char		*p;

	if (h != NULL && *h != '\0') {
		xasprintf(&p, "%s/.fetchids", h);
		return p;
	}
	return path_expand("~/.fetchids");
}

int
imp_fetchmail(const char *path, const char *idfile, struct imp_src *src,
    char **cause)
{
	struct fparse	 p;
	struct fopts	 defs, srv, usr;
	struct ftok	*t;
	const char	*v;
	char		*server = NULL, *ids = idfile != NULL ? xstrdup(idfile) :
			    NULL;
	size_t		 start, j, nusers;
	int		 skip, rv = -1, line, users_done;

	imp_src_init(src, "fetchmail", path);
	memset(&p, 0, sizeof(p));
	memset(&defs, 0, sizeof(defs));
	memset(&srv, 0, sizeof(srv));
	memset(&usr, 0, sizeof(usr));
	defs.certck = 1;
	p.path = path;
	p.cause = cause;
	if (tokenize(&p, cause) == -1)
		goto out;
	while ((t = peek(&p)) != NULL) {
		p.i++;
		line = t->line;
		if (!t->quoted && strcmp(t->s, "set") == 0) {
			if ((t = peek(&p)) == NULL) {
				xasprintf(cause, "%s: line %d: set what?",
				    path, line);
				goto out;
			}
			p.i++;
			if (strcmp(t->s, "no") == 0 && peek(&p) != NULL)
				p.i++;
			else if (strcmp(t->s, "idfile") == 0) {
				if ((v = arg(&p, "set idfile")) == NULL)
					goto out;
				free(ids);
				ids = path_expand(v);
			} else if (strcmp(t->s, "daemon") == 0 ||
			    strcmp(t->s, "logfile") == 0 ||
			    strcmp(t->s, "postmaster") == 0 ||
			    strcmp(t->s, "properties") == 0 ||
			    strcmp(t->s, "pidfile") == 0) {
				if (arg(&p, t->s) == NULL)
					goto out;
			}
			continue;
		}
		if (!t->quoted && strcmp(t->s, "defaults") == 0) {
			if (options(&p, &defs) == -1)
				goto out;
			while ((t = peek(&p)) != NULL && !t->quoted &&
			    (strcmp(t->s, "user") == 0 ||
			    strcmp(t->s, "username") == 0)) {
				p.i++;
				if (arg(&p, "user") == NULL ||
				    options(&p, &defs) == -1)
					goto out;
			}
			continue;
		}
		if (t->quoted || (strcmp(t->s, "poll") != 0 &&
		    strcmp(t->s, "skip") != 0 && strcmp(t->s, "server") != 0)) {
			char *vis = log_vis(t->s, strlen(t->s));

			xasprintf(cause, "%s: line %d: expected poll, skip, "
			    "defaults or set, not %s", path, line, vis);
			free(vis);
			goto out;
		}
		skip = strcmp(t->s, "skip") == 0;
		if ((v = arg(&p, "poll")) == NULL)
			goto out;
		free(server);
		server = xstrdup(v);
		fopts_copy(&srv, &defs);
		srv.line = line;
		if (options(&p, &srv) == -1)
			goto out;
		/* Count the users first: their names then tell them apart. */
		start = p.i;
		nusers = 0;
		for (j = p.i; j < p.n; j++) {
			if (p.t[j].quoted)
				continue;
			if (strcmp(p.t[j].s, "poll") == 0 ||
			    strcmp(p.t[j].s, "skip") == 0 ||
			    strcmp(p.t[j].s, "defaults") == 0)
				break;
			if (strcmp(p.t[j].s, "user") == 0 ||
			    strcmp(p.t[j].s, "username") == 0)
				nusers++;
		}
		p.i = start;
		users_done = 0;
		while ((t = peek(&p)) != NULL && !t->quoted &&
		    (strcmp(t->s, "user") == 0 || strcmp(t->s, "username") == 0)) {
			p.i++;
			fopts_copy(&usr, &srv);
			usr.line = t->line;
			if ((v = arg(&p, "user")) == NULL)
				goto out;
			set_str(&usr.remote, v);
			if (options(&p, &usr) == -1 ||
			    convert(src, path, server, skip, nusers, &usr,
			    cause) == -1)
				goto out;
			fopts_free(&usr);
			users_done++;
		}
		if (users_done == 0 && convert(src, path, server, skip, 1,
		    &srv, cause) == -1)
			goto out;
		fopts_free(&srv);
		if ((t = peek(&p)) != NULL && !t->quoted &&
		    strcmp(t->s, "set") == 0)
			continue;
	}
	if (ids == NULL)
		ids = default_idfile();
	if (imp_fetchids(src, ids, cause) == -1)
		goto out;
	rv = 0;
out:
	fopts_free(&defs);
	fopts_free(&srv);
	fopts_free(&usr);
	free_tokens(&p);
	free(server);
	free(ids);
	return rv;
}

/*
 * The idfile's UIDs, each to the account whose REMOTE@SERVER it names
 * (without regard to case, as fetchmail matches). Lines of accounts not in
 * the rc file are left alone. No file: nothing recorded.
 */
int
imp_fetchids(struct imp_src *src, const char *path, char **cause)
{
	struct imp_lines	 l;
	struct imp_acct		*a;
	char			*line, *at, *sp, *id, *e;
	size_t			 len;
	int			 r, found = 1;

	TAILQ_FOREACH(a, &src->accts, entry) {
		free(a->state);
		a->state = xstrdup(path);
	}
	if (access(path, F_OK) == -1 && errno == ENOENT)
		found = 0;
	else if (imp_lines_open(&l, path, cause) == -1)
		return -1;
	TAILQ_FOREACH(a, &src->accts, entry)
		a->state_found = found;
	if (!found)
		return 0;
	while ((r = imp_getline(&l, &line, &len, cause)) == 1) {
		line += strspn(line, " \t");
		if (*line == '\0')
			continue;
		if ((at = strchr(line, '@')) == NULL ||
		    (sp = strchr(at, ' ')) == NULL) {
			xasprintf(cause, "%s: line %d: expected \"USER@SERVER "
			    "UID\"", path, l.lineno);
			goto fail;
		}
		id = sp + strspn(sp, " ");
		e = id + strcspn(id, " \t");
		while (sp > line && (sp[-1] == ' ' || sp[-1] == '\t'))
			sp--;
		*sp = '\0';
		if (e == id) {
			xasprintf(cause, "%s: line %d: no UID after %s", path,
			    l.lineno, "USER@SERVER");
			goto fail;
		}
		TAILQ_FOREACH(a, &src->accts, entry)
			if (a->state_key != NULL &&
			    strcasecmp(a->state_key, line) == 0)
				break;
		if (a != NULL && !a->disabled &&
		    imp_add_uid(a, id, e - id, 0) == -1) {
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
