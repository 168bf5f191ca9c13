/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * mpop's configuration (~/.mpoprc or $XDG_CONFIG_HOME/mpop/config) and its
 * uidls_file, for "pullmail import mpop".
 *
 * The configuration is mpop's: one command a line, "command argument", the
 * argument in double quotes or not; '#' starts a comment line. "defaults"
 * sets values for the accounts that follow; "account NAME : A, B" starts
 * an account from the defaults, then takes every setting accounts A and B
 * have (set in them or inherited), in that order.
 *
 * The uidls_file (default ~/.mpop_uidls/%U_at_%H) holds, after '#'
 * comments, for each mailbox a line " COUNT HOST USER" and COUNT UIDs, one
 * a line: the messages mpop has retrieved (or, with killsize and keep,
 * decided never to retrieve) and that were still on the server at the end
 * of its last session. mpop 1.4.18 (Debian 12) writes this format (checked),
 * as, by mpop's source, every version since 0.8.4 does; files of older
 * versions, whose UIDs are not sorted, are read the same way.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pullmail.h"

enum mk {
	M_HOST, M_PORT, M_TLS, M_STARTTLS, M_TRUST, M_FPR, M_CERTCHECK,
	M_KEYFILE, M_CERTFILE, M_HOSTOVERRIDE, M_AUTH, M_USER, M_PASSWORD,
	M_PASSWORDEVAL, M_DELIVERY, M_UIDLS, M_ONLYNEW, M_KEEP, M_KILLSIZE,
	M_SKIPSIZE, M_FILTER, M_RECEIVED, M_TIMEOUT, M_PIPELINING,
	M_NKEYS
};

static const char *mnames[M_NKEYS] = {
	"host", "port", "tls", "tls_starttls", "tls_trust_file",
	"tls_fingerprint", "tls_certcheck", "tls_key_file", "tls_cert_file",
	"tls_host_override", "auth", "user", "password", "passwordeval",
	"delivery", "uidls_file", "only_new", "keep", "killsize", "skipsize",
	"filter", "received_header", "timeout", "pipelining"
};

/* Commands pullmail has no use for: said so in a comment, not an error. */
static const char *ignored[] = {
	"source_ip", "proxy_host", "proxy_port", "socket", "ntlmdomain",
	"tls_crl_file", "tls_priorities", "tls_min_dh_prime_bits",
	"tls_force_sslv3", "eval"
};

struct macct {
	char		*name;
	int		 line;
	char		*v[M_NKEYS];
	int		 set[M_NKEYS];
	char		*notes;
	struct macct	*next;
};

static struct macct *
macct_new(const char *name, int line, const struct macct *from)
{
	struct macct	*m = xcalloc(1, sizeof(*m));
	int		 k;

	m->name = xstrdup(name);
	m->line = line;
	if (from != NULL) {
		for (k = 0; k < M_NKEYS; k++) {
			m->set[k] = from->set[k];
			m->v[k] = from->v[k] != NULL ? xstrdup(from->v[k]) :
			    NULL;
		}
		m->notes = from->notes != NULL ? xstrdup(from->notes) : NULL;
	}
	return m;
}

static void
macct_free(struct macct *m)
{
	int	 k;

	for (k = 0; k < M_NKEYS; k++)
		if (m->v[k] != NULL)
			freezero_str(m->v[k]);
	free(m->notes);
	free(m->name);
	free(m);
}

/* What account B has set (itself or by inheritance) replaces A's. */
static void
inherit(struct macct *a, const struct macct *b)
{
	int	 k;
	char	*n;

	for (k = 0; k < M_NKEYS; k++)
		if (b->set[k]) {
			if (a->v[k] != NULL)
				freezero_str(a->v[k]);
			a->v[k] = b->v[k] != NULL ? xstrdup(b->v[k]) : NULL;
			a->set[k] = 1;
		}
	if (b->notes != NULL) {
		xasprintf(&n, "%s%s", a->notes != NULL ? a->notes : "",
		    b->notes);
		free(a->notes);
		a->notes = n;
	}
}

static void
mnote(struct macct *m, const char *cmd, int line)
{
	char	*line_s, *n;

	if (strcmp(cmd, "eval") == 0)
		xasprintf(&line_s, "eval (line %d): import runs no command: "
		    "set what it sets by hand", line);
	else
		xasprintf(&line_s, "%s (line %d): pullmail has no such "
		    "setting: not carried over", cmd, line);
	xasprintf(&n, "%s%s\n", m->notes != NULL ? m->notes : "", line_s);
	free(line_s);
	free(m->notes);
	m->notes = n;
}

/* mpop's on/off: "on" or empty is on. -1 if neither. */
static int
onoff(const char *v)
{
	if (*v == '\0' || strcmp(v, "on") == 0)
		return 1;
	if (strcmp(v, "off") == 0)
		return 0;
	return -1;
}

/* mpop's size: bytes, or with k or m; "off" is 0 (no limit). */
static int
msize(const char *v, uint64_t *out)
{
	char			*end;
	unsigned long long	 n;

	if (strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || n > (1ULL << 40))
		return -1;
	if (strcmp(end, "k") == 0)
		n <<= 10;
	else if (strcmp(end, "m") == 0)
		n <<= 20;
	else if (*end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* "%U" and "%H" in a uidls_file name, and a leading "~". */
static char *
uidls_path(const char *tmpl, const char *user, const char *host)
{
	char		*out, *p, *r;
	const char	*s;
	size_t		 n = 1;

	for (s = tmpl; *s != '\0'; s++)
		n += s[0] == '%' && (s[1] == 'U' || s[1] == 'H') ?
		    strlen(s[1] == 'U' ? user : host) : 1;
	out = p = xmalloc(n);
	for (s = tmpl; *s != '\0'; s++) {
		if (s[0] == '%' && (s[1] == 'U' || s[1] == 'H')) {
			strcpy(p, s[1] == 'U' ? user : host);
			p += strlen(p);
			s++;
		} else
			*p++ = *s;
	}
	*p = '\0';
	r = path_expand(out);
	free(out);
	return r;
}

/* One mpop account as a pullmail account. */
static int
convert(struct imp_src *src, const char *path, struct macct *m,
    char **cause)
{
	struct imp_acct	*a;
	char		*v, **w;
	const char	*why;
	int		 tls, starttls, b;
	uint64_t	 size;

	if (!m->set[M_HOST] || m->v[M_HOST] == NULL || *m->v[M_HOST] == '\0') {
		xasprintf(cause, "%s: line %d: account %s: host not set", path,
		    m->line, m->name);
		return -1;
	}
	a = imp_acct_new(src, m->name, path, m->line);
	if (m->notes != NULL) {
		a->notes = m->notes;
		m->notes = NULL;
	}
	a->host = xstrdup(m->v[M_HOST]);
	tls = m->set[M_TLS] && onoff(m->v[M_TLS]) == 1;
	starttls = !m->set[M_STARTTLS] || onoff(m->v[M_STARTTLS]) != 0;
	a->tls = !tls ? TLSM_NONE : starttls ? TLSM_STARTTLS : TLSM_IMPLICIT;
	if (m->set[M_PORT] && *m->v[M_PORT] != '\0')
		a->port = xstrdup(m->v[M_PORT]);
	else
		a->port = xstrdup(a->tls == TLSM_IMPLICIT ? "995" : "110");
	if (!tls)
		imp_note(a, "mpop used no TLS here (tls off): neither does this "
		    "account, and pullmail sends no password in clear text "
		    "unless you add allow_plaintext = yes");
	if ((v = m->v[M_TRUST]) != NULL && *v != '\0' &&
	    strcmp(v, "system") != 0)
		a->ca_file = path_expand(v);
	if ((v = m->v[M_FPR]) != NULL && *v != '\0') {
		if ((a->fingerprint = imp_fingerprint(v)) == NULL)
			imp_note(a, "tls_fingerprint %s: not a SHA-256 "
			    "fingerprint, which is all pullmail pins: get one "
			    "with pullmail --serverinfo %s", v, a->name);
	}
	if ((v = m->v[M_CERTCHECK]) != NULL && onoff(v) == 0 &&
	    a->fingerprint == NULL)
		imp_note(a, "tls_certcheck off: pullmail always verifies the "
		    "server: pin its certificate with the fingerprint that "
		    "pullmail --serverinfo %s shows", a->name);
	if ((v = m->v[M_KEYFILE]) != NULL && *v != '\0')
		a->client_key = path_expand(v);
	if ((v = m->v[M_CERTFILE]) != NULL && *v != '\0')
		a->client_cert = path_expand(v);
	if ((v = m->v[M_HOSTOVERRIDE]) != NULL && *v != '\0')
		a->tls_server_name = xstrdup(v);
	if ((v = m->v[M_USER]) != NULL && *v != '\0')
		a->user = xstrdup(v);
	if ((v = m->v[M_AUTH]) != NULL && *v != '\0' && strcmp(v, "on") != 0) {
		if (auth_mech_parse(v) > 0)
			a->auth = xstrdup(v);
		else
			imp_note(a, "auth %s: pullmail does not offer this "
			    "method: it chooses the strongest the server "
			    "offers", v);
		if (!tls && (strcmp(v, "user") == 0 || strcmp(v, "plain") ==
		    0 || strcmp(v, "login") == 0)) {
			a->allow_plaintext = 1;
			imp_note(a, "auth %s without TLS: mpop sent the password "
			    "in clear text, so allow_plaintext = yes", v);
		}
	}
	if ((v = m->v[M_PASSWORD]) != NULL && *v != '\0')
		a->password = xstrdup(v);
	if ((v = m->v[M_PASSWORDEVAL]) != NULL && *v != '\0')
		a->password_command = imp_command(v, 0);
	if ((v = m->v[M_KEEP]) != NULL && (b = onoff(v)) != -1)
		a->keep = b;
	if ((v = m->v[M_ONLYNEW]) != NULL && onoff(v) == 0)
		imp_note(a, "only_new off: mpop processed every message on "
		    "every run; pullmail fetches the new ones (fetch_all = yes "
		    "would fetch them all again)");
	if ((v = m->v[M_SKIPSIZE]) != NULL) {
		if (msize(v, &size) == -1) {
			xasprintf(cause, "%s: account %s: skipsize %s: not a "
			    "size", path, m->name, v);
			return -1;
		}
		a->skip_larger = size;
	}
	if ((v = m->v[M_KILLSIZE]) != NULL) {
		if (msize(v, &size) == -1) {
			xasprintf(cause, "%s: account %s: killsize %s: not a "
			    "size", path, m->name, v);
			return -1;
		}
		if (size == 0 && strcmp(v, "off") != 0)
			imp_note(a, "killsize 0: mpop deleted (or, with keep, "
			    "marked) every message unread: not carried over");
		else if (a->keep)
			a->skip_larger = a->skip_larger == 0 || size <
			    a->skip_larger ? size : a->skip_larger;
		else
			a->delete_larger = size;
	}
	if ((v = m->v[M_FILTER]) != NULL && *v != '\0')
		imp_note(a, "filter %s: pullmail has no header filters; every "
		    "message is delivered (a filter belongs in the MDA)", v);
	if ((v = m->v[M_RECEIVED]) != NULL && (b = onoff(v)) != -1)
		a->received_header = b;
	if ((v = m->v[M_TIMEOUT]) != NULL && *v != '\0')
		imp_timeout(a, v);
	if ((v = m->v[M_PIPELINING]) != NULL && strcmp(v, "auto") != 0 &&
	    (b = onoff(v)) != -1)
		a->pipelining = b;
	if ((v = m->v[M_DELIVERY]) == NULL || *v == '\0') {
		xasprintf(cause, "%s: line %d: account %s: no delivery", path,
		    m->line, m->name);
		return -1;
	}
	if (strncmp(v, "maildir", 7) == 0 && isspace((unsigned char)v[7])) {
		for (v += 8; isspace((unsigned char)*v); v++)
			;
		a->maildir = path_expand(v);
	} else if (strncmp(v, "mbox", 4) == 0 && isspace((unsigned char)v[4])) {
		for (v += 5; isspace((unsigned char)*v); v++)
			;
		a->mbox = path_expand(v);
	} else if (strncmp(v, "mda", 3) == 0 && isspace((unsigned char)v[3])) {
		for (v += 4; isspace((unsigned char)*v); v++)
			;
		static const char *const map[] = { "%F", "%F", NULL };
		char	*tmpl = imp_mda_template(v, map);

		a->mda = imp_command(tmpl, 1);
		free(tmpl);
		if (split_words(a->mda, &w, &why) == -1) {
			xasprintf(cause, "%s: account %s: delivery mda: %s",
			    path, m->name, why);
			return -1;
		}
		free_words(w);
	} else {
		a->disabled = 1;
		imp_note(a, "delivery %s: pullmail delivers only to a "
		    "maildir, an mbox or an MDA: account left out", v);
	}
	a->state = uidls_path(m->v[M_UIDLS] != NULL && *m->v[M_UIDLS] != '\0' ?
	    m->v[M_UIDLS] : "~/.mpop_uidls/%U_at_%H",
	    a->user != NULL ? a->user : "", a->host);
	return 0;
}

/*
 * The UIDs of the mailbox HOST USER in a uidls_file. No file: nothing
 * recorded (mpop creates it at its first session).
 */
int
imp_mpop_uidls(struct imp_acct *a, const char *host, const char *user,
    char **cause)
{
	struct imp_lines	 l;
	char			*line, *end, *h, *u;
	size_t			 len;
	long long		 n = 0;
	int			 r, mine = 0;

	if (access(a->state, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (imp_lines_open(&l, a->state, cause) == -1)
		return -1;
	a->state_found = 1;
	while ((r = imp_getline(&l, &line, &len, cause)) == 1) {
		if (line[0] == '#')
			continue;
		if (n == 0) {
			if (line[0] != ' ') {
				xasprintf(cause, "%s: line %d: a UID outside "
				    "any list", l.path, l.lineno);
				goto fail;
			}
			errno = 0;
			n = strtoll(line + 1, &end, 10);
			if (!isdigit((unsigned char)line[1]) || errno != 0 ||
			    n < 1 || n > PM_MSGS_MAX || *end != ' ') {
				xasprintf(cause, "%s: line %d: invalid number "
				    "of UIDs", l.path, l.lineno);
				goto fail;
			}
			h = end + 1;
			if ((u = strchr(h, ' ')) == NULL || u == h ||
			    u[1] == '\0' || strchr(u + 1, ' ') != NULL) {
				xasprintf(cause, "%s: line %d: expected \" "
				    "COUNT HOST USER\"", l.path, l.lineno);
				goto fail;
			}
			*u++ = '\0';
			mine = strcmp(h, host) == 0 && strcmp(u, user) == 0;
			continue;
		}
		if (line[0] == ' ') {
			xasprintf(cause, "%s: line %d: too few UIDs in the "
			    "list before", l.path, l.lineno);
			goto fail;
		}
		if (mine && imp_add_uid(a, line, len, 0) == -1) {
			xasprintf(cause, "%s: line %d: too many UIDs", l.path,
			    l.lineno);
			goto fail;
		}
		n--;
	}
	if (r == -1)
		goto fail;
	if (n > 0) {
		xasprintf(cause, "%s: line %d: too few UIDs in the last list",
		    l.path, l.lineno);
		goto fail;
	}
	imp_lines_close(&l);
	return 0;
fail:
	imp_lines_close(&l);
	return -1;
}

/* mpop's argument: blanks trimmed, and one pair of enclosing quotes. */
static char *
marg(char *s)
{
	size_t	 n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

int
imp_mpop(const char *path, struct imp_src *src, char **cause)
{
	struct imp_lines	 l;
	struct macct		*defaults, *cur = NULL, *list = NULL, **tail;
	struct macct		*m, *p;
	struct imp_acct		*a;
	char			*line, *cmd, *arg, *colon, *name, *c;
	size_t			 len, i;
	int			 r, k, rv = -1;

	imp_src_init(src, "mpop", path);
	if (imp_lines_open(&l, path, cause) == -1)
		return -1;
	defaults = macct_new("defaults", 0, NULL);
	tail = &list;
	while ((r = imp_getline(&l, &line, &len, cause)) == 1) {
		cmd = line + strspn(line, " \t");
		if (*cmd == '#' || *cmd == '\0')
			continue;
		arg = cmd + strcspn(cmd, " \t");
		if (*arg != '\0')
			*arg++ = '\0';
		arg = marg(arg);
		if (strcmp(cmd, "defaults") == 0) {
			if (*arg != '\0') {
				xasprintf(cause, "%s: line %d: defaults takes "
				    "no argument", path, l.lineno);
				goto out;
			}
			cur = defaults;
			continue;
		}
		if (strcmp(cmd, "account") == 0) {
			if ((colon = strchr(arg, ':')) != NULL)
				*colon++ = '\0';
			name = marg(arg);
			if (*name == '\0' || strchr(name, ',') != NULL) {
				xasprintf(cause, "%s: line %d: missing or "
				    "invalid account name", path, l.lineno);
				goto out;
			}
			for (m = list; m != NULL; m = m->next)
				if (strcmp(m->name, name) == 0)
					break;
			if (m != NULL) {
				xasprintf(cause, "%s: line %d: account %s was "
				    "already defined", path, l.lineno, name);
				goto out;
			}
			cur = macct_new(name, l.lineno, defaults);
			*tail = cur;
			tail = &cur->next;
			while (colon != NULL) {
				if ((c = strchr(colon, ',')) != NULL)
					*c++ = '\0';
				name = marg(colon);
				for (p = list; p != NULL && p != cur; p = p->next)
					if (strcmp(p->name, name) == 0)
						break;
				if (p == NULL || p == cur) {
					xasprintf(cause, "%s: line %d: account "
					    "%s not (yet) defined", path,
					    l.lineno, name);
					goto out;
				}
				inherit(cur, p);
				colon = c;
			}
			continue;
		}
		if (cur == NULL) {
			xasprintf(cause, "%s: line %d: first command must be "
			    "account or defaults", path, l.lineno);
			goto out;
		}
		for (k = 0; k < M_NKEYS; k++)
			if (strcmp(cmd, mnames[k]) == 0)
				break;
		if (k < M_NKEYS) {
			if (cur->v[k] != NULL)
				freezero_str(cur->v[k]);
			cur->v[k] = xstrdup(arg);
			cur->set[k] = 1;
			continue;
		}
		for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
			if (strcmp(cmd, ignored[i]) == 0)
				break;
		if (i == sizeof(ignored) / sizeof(ignored[0])) {
			c = log_vis(cmd, strlen(cmd));
			xasprintf(cause, "%s: line %d: unknown command %s",
			    path, l.lineno, c);
			free(c);
			goto out;
		}
		mnote(cur, cmd, l.lineno);
	}
	if (r == -1)
		goto out;
	for (m = list; m != NULL; m = m->next)
		if (convert(src, path, m, cause) == -1)
			goto out;
	TAILQ_FOREACH(a, &src->accts, entry)
		if (!a->disabled && imp_mpop_uidls(a, a->host,
		    a->user != NULL ? a->user : "", cause) == -1)
			goto out;
	rv = 0;
out:
	imp_lines_close(&l);
	while ((m = list) != NULL) {
		list = m->next;
		macct_free(m);
	}
	macct_free(defaults);
	return rv;
}
