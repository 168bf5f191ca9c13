/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * "pullmail import": the keys it forms (checked against pop3.c's own, from
 * a listing, and against the plan a first run makes), the commands it
 * carries over, the config it writes (read back by conf_load), and the
 * parsers of mpop's, fetchmail's and getmail's files, with malformed and
 * hostile input: one line naming file and line, never a crash.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

static char	 dir[] = "/tmp/pm-import-XXXXXX";

static const char *
tpath(const char *name)
{
	static char	 buf[4][PATH_MAX];
	static int	 n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

/* A file of a string literal's bytes, NULs included. */
#define PUTB(name, lit)	put((name), (lit), (ssize_t)sizeof(lit) - 1)

/* Write a file of len bytes (len -1: a string). */
static const char *
put(const char *name, const char *text, ssize_t len)
{
	const char	*p = tpath(name);
	FILE		*f = fopen(p, "w");

	if (f == NULL) {
		perror(p);
		exit(1);
	}
	fwrite(text, 1, len < 0 ? strlen(text) : (size_t)len, f);
	fclose(f);
	return p;
}

/* The listing's keys, as pop3.c forms them; NULL on error. */
static struct msg *
listing(const char *server, size_t *nmsgs)
{
	static char	 host[] = "test";
	struct pm_err	 err = { 0, NULL };
	struct pop3	*p;
	struct msg	*m = NULL;
	int		 sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    write(sv[1], server, strlen(server)) != (ssize_t)strlen(server)) {
		perror("socketpair");
		exit(1);
	}
	shutdown(sv[1], SHUT_WR);
	p = calloc(1, sizeof(*p));
	p->conn.fd = sv[0];
	p->conn.host = host;
	p->conn.timeout_ms = 5000;
	p->err = &err;
	p->has_capa = p->has_uidl = p->pipelining = 1;
	*nmsgs = 0;
	r = pop3_listing(p, &m, nmsgs);
	free(p->conn.wbuf);
	free(p);
	close(sv[0]);
	close(sv[1]);
	err_clear(&err);
	return r == 0 ? m : NULL;
}

static struct imp_acct *
nth(struct imp_src *src, int n)
{
	struct imp_acct	*a;

	TAILQ_FOREACH(a, &src->accts, entry)
		if (n-- == 0)
			return a;
	return NULL;
}

static int
has_key(const struct imp_acct *a, const char *key)
{
	size_t	 i;

	for (i = 0; i < a->nuids; i++)
		if (strcmp(a->uids[i].key, key) == 0)
			return 1;
	return 0;
}

static int
has_note(const struct imp_acct *a, const char *frag)
{
	return a->notes != NULL && strstr(a->notes, frag) != NULL;
}

/* The parser fails with exactly this message. */
static void
fails(int (*fn)(const char *, struct imp_src *, char **), const char *file,
    const char *want, const char *what)
{
	struct imp_src	 src;
	char		*cause = NULL;
	char		 full[PATH_MAX + 256];

	snprintf(full, sizeof(full), "%s/%s", dir, want);
	ok(fn(file, &src, &cause) == -1, "%s: refused", what);
	is_str(cause, full, what);
	ok(cause == NULL || strchr(cause, '\n') == NULL, "%s: one line", what);
	free(cause);
	imp_src_free(&src);
}

static int
fetchmail2(const char *p, struct imp_src *s, char **c)
{
	return imp_fetchmail(p, NULL, s, c);
}

static int
getmail2(const char *p, struct imp_src *s, char **c)
{
	return imp_getmail(p, dir, s, c);
}

static void
test_keys(void)
{
	static const char *server =
	    "+OK\r\n1 10\r\n2 20\r\n3 30\r\n4 40\r\n5 50\r\n6 60\r\n.\r\n"
	    "+OK\r\n1 plain-UID\r\n2 has space\r\n3 \xe9t\xe9\r\n"
	    "4 dup\r\n5 dup\r\n"
	    "6 0123456789012345678901234567890123456789012345678901234567890"
	    "123456789\r\n.\r\n";
	static const char *uids[] = {
	    "plain-UID", "has space", "\xe9t\xe9", "dup", "dup",
	    "0123456789012345678901234567890123456789012345678901234567890"
	    "123456789"
	};
	struct msg		*m;
	struct uidl		 u;
	struct pm_err		 err = { 0, NULL };
	struct plan_policy	 pol;
	struct imp_acct		 a;
	char			*k;
	size_t			 n, i;
	int			 same = 1;

	if ((m = listing(server, &n)) == NULL || n != 6) {
		ok(0, "a listing with odd and shared UIDs");
		return;
	}
	for (i = 0; i < 6; i++) {
		k = imp_key(uids[i], strlen(uids[i]));
		if (i != 4 && strcmp(k, m[i].uid) != 0) {
			printf("# %zu: import %s, pop3 %s\n", i, k, m[i].uid);
			same = 0;
		}
		free(k);
	}
	ok(same, "imp_key forms the keys pop3.c forms (RFC 1939, blank, "
	    "8-bit, 71 characters)");
	is_str(m[4].uid, "dup 2", "pop3.c keys a second copy \"dup 2\"");
	k = imp_key("", 0);
	ok(strncmp(k, "~ ", 2) == 0 && strlen(k) == 66 && uidl_valid_key(k),
	    "an empty UID is hashed into a valid key");
	free(k);

	/*
	 * The old tool delivered plain-UID, "has space" and dup (recorded
	 * twice, as mpop may): imported, the first run deletes those three
	 * and fetches the others, "dup 2" among them.
	 */
	memset(&a, 0, sizeof(a));
	imp_add_uid(&a, "plain-UID", 9, 0);
	imp_add_uid(&a, "has space", 9, 0);
	imp_add_uid(&a, "dup", 3, 0);
	imp_add_uid(&a, "dup", 3, 0);
	u.fd = -1;
	if (uidl_open(&u, tpath("keys.uidl"), &err) == -1) {
		ok(0, "uidl_open: %s", err.msg);
		return;
	}
	for (i = 0; i < a.nuids; i++)
		uidl_add(&u, a.uids[i].key, 1000);
	memset(&pol, 0, sizeof(pol));
	pol.now = 2000;
	plan_make(m, n, &u, &pol);
	ok(m[0].action == ACT_DELETE && m[1].action == ACT_DELETE &&
	    m[3].action == ACT_DELETE, "delete: what the old tool delivered "
	    "is deleted unfetched");
	ok(m[2].action == ACT_FETCH && m[4].action == ACT_FETCH &&
	    m[5].action == ACT_FETCH && m[2].del && m[4].del,
	    "delete: the rest, \"dup 2\" too, is fetched (then deleted)");
	pol.keep = 1;
	plan_make(m, n, &u, &pol);
	ok(m[0].action == ACT_SKIP && m[1].action == ACT_SKIP &&
	    m[3].action == ACT_SKIP && m[2].action == ACT_FETCH &&
	    !m[2].del, "keep: delivered ones left alone, the rest fetched "
	    "and kept");
	uidl_close(&u);
	for (i = 0; i < n; i++)
		free(m[i].uid);
	free(m);
	for (i = 0; i < a.nuids; i++)
		free(a.uids[i].key);
	free(a.uids);
}

static void
test_fingerprint(void)
{
	static const char *hex =
	    "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
	char	*f, colons[96];
	size_t	 i;

	for (i = 0; i < 32; i++)
		snprintf(colons + 3 * i, 4, "%.2s%s", hex + 2 * i,
		    i < 31 ? ":" : "");
	f = imp_fingerprint(colons);
	ok(f != NULL && strncmp(f, "sha256:00:11:", 13) == 0 &&
	    strlen(f) == 102 && strstr(f, "AA") != NULL && strstr(f, "aa") ==
	    NULL, "fingerprint: 01:23:... becomes sha256:, upper case");
	free(f);
	f = imp_fingerprint(hex);
	ok(f != NULL && strlen(f) == 102, "fingerprint: 64 hex digits");
	free(f);
	colons[4] = 'g';
	ok(imp_fingerprint(colons) == NULL, "fingerprint: not hex: none");
	ok(imp_fingerprint("AA:BB") == NULL, "fingerprint: too short: none");
	ok(imp_fingerprint("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	    "00:11:22:33") == NULL, "fingerprint: SHA-1: none");
}

static void
test_command(void)
{
	char		*c, **w;
	const char	*why;

	c = imp_command("procmail -d joe", 1);
	is_str(c, "procmail -d joe", "a command without shell syntax stays");
	free(c);
	c = imp_command("gpg -d ~/.pw.gpg | head -1", 0);
	ok(split_words(c, &w, &why) == 0 && strcmp(w[0], "sh") == 0 &&
	    strcmp(w[1], "-c") == 0 &&
	    strcmp(w[2], "gpg -d ~/.pw.gpg | head -1") == 0 && w[3] != NULL &&
	    w[4] == NULL, "a shell command runs under sh -c, unchanged");
	free_words(w);
	free(c);
	c = imp_command("procmail -f '%F' -a %a -d \"$USER %u\"; echo \"it's\"",
	    1);
	ok(split_words(c, &w, &why) == 0 &&
	    strcmp(w[2], "procmail -f ''\"${1}\"'' -a \"${2}\" -d "
	    "\"$USER ${3}\"; echo \"it's\"") == 0 && strcmp(w[3], "sh") == 0 &&
	    strcmp(w[4], "%F") == 0 && strcmp(w[5], "%a") == 0 &&
	    strcmp(w[6], "%u") == 0 && w[7] == NULL, "placeholders become "
	    "positional parameters, quoted where they stand; quotes survive");
	free_words(w);
	free(c);
	char	 many[256] = "x";
	{
		int	 i, good = 1;

		for (i = 0; i < 12; i++)
			strlcat(many, " %F|", sizeof(many));
		c = imp_command(many, 1);
		if (split_words(c, &w, &why) == -1)
			good = 0;
		for (i = 0; good && i < 12; i++)
			good = w[4 + i] != NULL && strcmp(w[4 + i], "%F") == 0;
		ok(good && strstr(w[2], "%") == NULL && strstr(w[2],
		    "\"${12}\"") != NULL, "twelve placeholders: every one a "
		    "parameter, none left in the script");
		free_words(w);
		free(c);
	}
	{
		/* Run it as pullmail would, with a hostile sender. */
		static const char	*sender = "a b;$(touch x)'\"`";
		struct account		 acct;
		char			**argv, out[256];
		int			 fds[2], st;
		ssize_t			 got = 0, r;
		pid_t			 pid;

		memset(&acct, 0, sizeof(acct));
		acct.name = (char *)"acct";
		c = imp_command("printf '<%s>' %F \"%F\" '%F' | cat", 1);
		if (split_words(c, &w, &why) == -1 || pipe(fds) == -1) {
			ok(0, "a converted command runs");
		} else {
			argv = mda_args(w, &acct, sender);
			if ((pid = fork()) == 0) {
				dup2(fds[1], 1);
				execvp(argv[0], argv);
				_exit(127);
			}
			close(fds[1]);
			while ((r = read(fds[0], out + got, sizeof(out) - 1 -
			    got)) > 0)
				got += r;
			out[got] = '\0';
			close(fds[0]);
			waitpid(pid, &st, 0);
			snprintf(many, sizeof(many), "<%s><%s><%s>", sender,
			    sender, sender);
			is_str(out, many, "a converted command gets the sender "
			    "as data, in every quoting, and runs no part of it");
			free_words(argv);
		}
		free_words(w);
		free(c);
	}
	c = imp_command("pass show 'mail/%u'; true", 0);
	ok(split_words(c, &w, &why) == 0 &&
	    strcmp(w[2], "pass show 'mail/%u'; true") == 0 && w[3] != NULL &&
	    w[4] == NULL, "a password command's %% is its own: no parameters");
	free_words(w);
	free(c);
	{
		static const char *const map[] = { "%T", "%u", "%F", "%F",
		    NULL };

		c = imp_mda_template("deliver -t %T -f %F -x 50%u %%", map);
		is_str(c, "deliver -t %u -f %F -x 50%%u %%%%", "an mda "
		    "template: the old placeholders become pullmail's, every "
		    "other %% is doubled");
		free(c);
	}
}

/* The written config loads, with the password as it was. */
static void
test_writer(void)
{
	static const char	*pws[] = {
		"plain", "has#hash;semi", " blank at ends ", "dq\"x", "sq'x#"
	};
	struct imp_src		 src;
	struct imp_acct		*a;
	struct config		 conf;
	struct account		*ca;
	struct pm_err		 err = { 0, NULL };
	FILE			*f;
	size_t			 i;
	int			 good = 1;
	char			 name[16];

	imp_src_init(&src, "test", "/nowhere");
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "Acct %zu!", i);
		a = imp_acct_new(&src, name, "/nowhere", 1);
		a->host = xstrdup("pop.example.net");
		a->user = xstrdup("joe");
		a->password = xstrdup(pws[i]);
		a->maildir = xstrdup("/tmp/Maildir");
		a->timeout = 90;
		a->pipelining = 0;
		a->keep_days = 3;
		a->skip_larger = 1234;
		a->received_header = 0;
		imp_note(a, "a note with # and ; in it");
	}
	a = imp_acct_new(&src, "acct-0", "/nowhere", 2);
	a->host = xstrdup("x");
	a->disabled = 1;
	a->mda = xstrdup("sh -c 'cat >/dev/null' sh %F");
	f = fopen(tpath("out.conf"), "w");
	imp_write_config(f, &src, 0);
	fclose(f);
	chmod(tpath("out.conf"), 0600);
	if (conf_load(tpath("out.conf"), &conf, &err) == -1) {
		ok(0, "the written config loads: %s", err.msg);
		err_clear(&err);
	} else {
		ok(1, "the written config loads");
		for (i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "acct-%zu-", i);
			if ((ca = conf_find(&conf, name)) == NULL ||
			    strcmp(ca->password, pws[i]) != 0) {
				printf("# [%s] lost its password\n", name);
				good = 0;
			}
		}
		ok(good, "passwords with # ; blanks and quotes read back as "
		    "they were");
		ca = conf_find(&conf, "acct-0-");
		ok(ca != NULL && ca->timeout == 90 && ca->pipelining == 0 &&
		    ca->keep_days == 3 && ca->skip_larger_than == 1234 &&
		    !ca->received_header, "timeout, pipelining, keep_days, "
		    "skip_larger_than, received_header read back");
		ok(conf_find(&conf, "acct-0") == NULL, "a disabled account is "
		    "commented out");
		conf_free(&conf);
	}
	a = nth(&src, 5);
	is_str(a->name, "acct-0", "a name taken is not given twice");
	f = fopen(tpath("out2.conf"), "w");
	imp_write_config(f, &src, 1);
	fclose(f);
	{
		char	 buf[8192];
		size_t	 n;

		f = fopen(tpath("out2.conf"), "r");
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		ok(strstr(buf, "has#hash") == NULL && strstr(buf,
		    "password = (as in") != NULL, "hidden: no password printed");
	}
	a = nth(&src, 4);
	a->password[0] = '"';
	f = fopen(tpath("out3.conf"), "w");
	imp_write_config(f, &src, 0);
	fclose(f);
	chmod(tpath("out3.conf"), 0600);
	ok(conf_load(tpath("out3.conf"), &conf, &err) == 0 &&
	    conf_find(&conf, "acct-4-")->password == NULL,
	    "a value with both quotes is left for the user, as a comment");
	if (err.msg == NULL)
		conf_free(&conf);
	err_clear(&err);
	imp_src_free(&src);
}

static void
test_mpop(void)
{
	struct imp_src	 src;
	struct imp_acct	*a;
	char		*cause = NULL, *rc, *uidls;

	xasprintf(&uidls, "%s/uidls-%%U-%%H", dir);
	xasprintf(&rc,
	    "# comment\n"
	    "defaults\n"
	    "  tls on\n"
	    "  tls_trust_file system\n"
	    "  keep on\n"
	    "  uidls_file %s\n"
	    "\n"
	    "account base\n"
	    "host pop.example.net\n"
	    "user \"joe\"\n"
	    "passwordeval \"gpg -qd ~/.pw.gpg\"\n"
	    "delivery maildir ~/Mail/\n"
	    "skipsize 2m\r\n"
	    "account child : base\n"
	    "user ann\n"
	    "keep off\n"
	    "killsize 500k\n"
	    "tls_starttls off\n"
	    "defaults\n"
	    "keep off\n"
	    "account late\n"
	    "host other.example.net\n"
	    "timeout 90\n"
	    "pipelining off\n"
	    "auth gssapi\n"
	    "tls off\n"
	    "delivery mda /usr/bin/procmail -f '%%F' -d $USER\n"
	    "filter /bin/spamcheck\n"
	    "eval echo host x\n"
	    "account ex : late\n"
	    "delivery exchange /tmp/x\n",
	    uidls);
	put("mpoprc", rc, -1);
	free(rc);
	put("uidls-joe-pop.example.net",
	    "# This file was generated by mpop version 1.4.18.\n"
	    " 2 pop.example.net joe\n"
	    "b-uid\n"
	    "a-uid\n", -1);
	put("uidls-ann-pop.example.net",
	    " 1 elsewhere.example ann\n"
	    "not-mine\n"
	    " 3 pop.example.net ann\n"
	    "x1\nx2\nx1\n", -1);
	if (imp_mpop(tpath("mpoprc"), &src, &cause) == -1) {
		ok(0, "mpop: a config with inheritance: %s", cause);
		free(cause);
		free(uidls);
		return;
	}
	ok(nth(&src, 3) != NULL && nth(&src, 4) == NULL, "mpop: four accounts");
	a = nth(&src, 0);
	ok(strcmp(a->name, "base") == 0 && a->tls == TLSM_STARTTLS &&
	    strcmp(a->port, "110") == 0 && a->keep && a->ca_file == NULL &&
	    a->skip_larger == 2 << 20, "mpop: defaults (tls on, STARTTLS "
	    "first, system trust, keep), skipsize 2m");
	is_str(a->user, "joe", "mpop: a quoted argument");
	is_str(a->password_command, "sh -c 'gpg -qd ~/.pw.gpg' sh",
	    "mpop: passwordeval carried over, through sh for its ~");
	ok(a->nuids == 2 && has_key(a, "a-uid") && has_key(a, "b-uid"),
	    "mpop: UIDs of the mailbox HOST USER, from the %%U/%%H file");
	a = nth(&src, 1);
	imp_dedup(a);
	ok(strcmp(a->host, "pop.example.net") == 0 && a->tls == TLSM_IMPLICIT &&
	    strcmp(a->port, "995") == 0 && !a->keep && a->delete_larger ==
	    500 << 10 && a->skip_larger == 2 << 20 && a->password_command !=
	    NULL, "mpop: account child : base inherits, then overrides");
	ok(a->nuids == 2 && has_key(a, "x1") && has_key(a, "x2") &&
	    !has_key(a, "not-mine"), "mpop: only its own list, each UID once");
	a = nth(&src, 2);
	ok(a->timeout == 90 && a->pipelining == 0,
	    "mpop: timeout and pipelining carried over");
	ok(!a->keep && a->tls == TLSM_NONE && a->auth == NULL &&
	    has_note(a, "auth gssapi") && has_note(a, "filter") &&
	    has_note(a, "eval (line 29)") && has_note(a, "tls off"),
	    "mpop: a later defaults, and notes for what is not carried over");
	ok(a->mda != NULL && strstr(a->mda, "\"${1}\"") != NULL &&
	    strstr(a->mda, " sh %F") != NULL, "mpop: an mda's %%F stays "
	    "pullmail's, out of the script");
	ok(a->nuids == 0 && !a->state_found, "mpop: no uidls file: nothing "
	    "imported");
	a = nth(&src, 3);
	ok(a->disabled && has_note(a, "delivery exchange"),
	    "mpop: delivery exchange leaves the account out");
	imp_same_mailbox(&src);
	ok(!nth(&src, 0)->disabled && !nth(&src, 1)->disabled &&
	    !nth(&src, 2)->disabled, "mpop: different users of one server "
	    "are different mailboxes");
	imp_src_free(&src);
	put("mdef", "account work\nhost H\nuser u\ndelivery mbox /x\n"
	    "account default : work\n", -1);
	if (imp_mpop(tpath("mdef"), &src, &cause) == 0) {
		imp_same_mailbox(&src);
		ok(!nth(&src, 0)->disabled && nth(&src, 1)->disabled &&
		    has_note(nth(&src, 1), "the same mailbox as [work]"),
		    "mpop: \"account default : work\" is not fetched twice");
	} else {
		ok(0, "mpop: account default : work: %s", cause);
		free(cause);
		cause = NULL;
	}
	imp_src_free(&src);
	free(uidls);

	put("m1", "host x\n", -1);
	fails(imp_mpop, tpath("m1"), "m1: line 1: first command must be "
	    "account or defaults", "mpop: a command before any account");
	put("m2", "account a\nhost x\nfrobnicate 1\n", -1);
	fails(imp_mpop, tpath("m2"), "m2: line 3: unknown command frobnicate",
	    "mpop: an unknown command");
	put("m3", "account a\ndelivery maildir /x\n", -1);
	fails(imp_mpop, tpath("m3"), "m3: line 1: account a: host not set",
	    "mpop: no host");
	put("m4", "account a : nosuch\n", -1);
	fails(imp_mpop, tpath("m4"), "m4: line 1: account nosuch not (yet) "
	    "defined", "mpop: inheriting from nothing");
	put("m5", "account a\naccount a\n", -1);
	fails(imp_mpop, tpath("m5"), "m5: line 2: account a was already "
	    "defined", "mpop: an account twice");
	put("m6", "account a\nhost x\nskipsize 12q\ndelivery mbox /x\n", -1);
	fails(imp_mpop, tpath("m6"), "m6: account a: skipsize 12q: not a size",
	    "mpop: a bad size");
	PUTB("m7", "account a\nhost x\0y\n");
	fails(imp_mpop, tpath("m7"), "m7: line 2: contains a NUL byte",
	    "mpop: a NUL byte");
	{
		char	*big = malloc(IMP_LINE_MAX + 32);

		memset(big, 'x', IMP_LINE_MAX + 30);
		memcpy(big, "account a\nhost ", 15);
		big[IMP_LINE_MAX + 30] = '\n';
		big[IMP_LINE_MAX + 31] = '\0';
		put("m8", big, -1);
		free(big);
		fails(imp_mpop, tpath("m8"), "m8: line 2: longer than 8192 "
		    "bytes", "mpop: a line too long");
	}
	fails(imp_mpop, tpath("nonexistent"), "nonexistent: No such file or "
	    "directory", "mpop: no file");

	/* hostile uidls files */
	xasprintf(&rc, "account a\nhost h\nuser u\ndelivery mbox /x\n"
	    "uidls_file %s/bad-uidls\n", dir);
	put("mu", rc, -1);
	free(rc);
	put("bad-uidls", "uid-without-list\n", -1);
	fails(imp_mpop, tpath("mu"), "bad-uidls: line 1: a UID outside any "
	    "list", "mpop uidls: a UID outside any list");
	put("bad-uidls", " 0 h u\n", -1);
	fails(imp_mpop, tpath("mu"), "bad-uidls: line 1: invalid number of "
	    "UIDs", "mpop uidls: a count of 0");
	put("bad-uidls", " 99999999999999999999 h u\n", -1);
	fails(imp_mpop, tpath("mu"), "bad-uidls: line 1: invalid number of "
	    "UIDs", "mpop uidls: a count too large");
	put("bad-uidls", " 2 h u\nx\n 1 h u\n", -1);
	fails(imp_mpop, tpath("mu"), "bad-uidls: line 3: too few UIDs in the "
	    "list before", "mpop uidls: a list cut short");
	put("bad-uidls", " 2 h u\nx\n", -1);
	fails(imp_mpop, tpath("mu"), "bad-uidls: line 2: too few UIDs in the "
	    "last list", "mpop uidls: the file cut short");
	put("bad-uidls", " 2 h\nx\n", -1);
	fails(imp_mpop, tpath("mu"), "bad-uidls: line 1: expected \" COUNT "
	    "HOST USER\"", "mpop uidls: no user");
}

static void
test_fetchmail(void)
{
	struct imp_src	 src;
	struct imp_acct	*a;
	char		*cause = NULL, *rc;

	xasprintf(&rc,
	    "# fetchmail\n"
	    "set daemon 300\nset no bouncemail\nset idfile \"%s/ids\"\n"
	    "defaults proto pop3 fetchall\n"
	    "poll mail.example.net with proto pop3 and port 995:\n"
	    "  user 'joe@example.net' there with pass \"p#w\\\"d\\x41\" is joe "
	    "here, options ssl keep no rewrite limit 1000 timeout 30\n"
	    "  user ann password ann-pw is ann here sslfingerprint "
	    "\"AA:BB\" mda \"procmail -d %%T\" fetchlimit 7\n"
	    "poll pop.gw via real.example.org proto apop envelope 1 X-To\n"
	    "  user bob is * here\n"
	    "skip imap.example.com proto imap user x password y folder A B\n"
	    "poll pop.plain service pop3s timeout 0 sslproto '' user zed no "
	    "sslcertck\n",
	    dir);
	put("fetchmailrc", rc, -1);
	free(rc);
	put("ids",
	    "joe@example.net@mail.example.net uid-1\n"
	    "JOE@example.net@MAIL.example.net uid-2 trailing\n"
	    "ann@mail.example.net ann-1\n"
	    "bob@real.example.org bob-1\n"
	    "someone@unknown.example x\n"
	    "\n", -1);
	if (imp_fetchmail(tpath("fetchmailrc"), NULL, &src, &cause) == -1) {
		ok(0, "fetchmail: a typical rc: %s", cause);
		free(cause);
		return;
	}
	a = nth(&src, 0);
	ok(a != NULL && strcmp(a->name, "mail.example.net-joe-example.net") ==
	    0 && strcmp(a->user, "joe@example.net") == 0 && a->tls ==
	    TLSM_IMPLICIT && strcmp(a->port, "995") == 0 && a->keep &&
	    a->fetchall && a->skip_larger == 1000 && a->timeout == 30 &&
	    !a->disabled,
	    "fetchmail: poll/user with noise words, defaults, ssl, keep, "
	    "limit");
	is_str(a->password, "p#w\"dA", "fetchmail: a quoted password with "
	    "escapes");
	ok(a->nuids == 2 && has_key(a, "uid-1") && has_key(a, "uid-2"),
	    "fetchmail: idfile lines matched without regard to case, a user "
	    "holding '@'");
	a = nth(&src, 1);
	ok(strcmp(a->name, "mail.example.net-ann") == 0 && a->tls ==
	    TLSM_STARTTLS && a->fingerprint == NULL &&
	    has_note(a, "sslfingerprint AA:BB") && a->max_messages == 7 &&
	    a->nuids == 1, "fetchmail: the second user of a poll");
	ok(a->mda != NULL && strcmp(a->mda, "procmail -d %u") == 0,
	    "fetchmail: mda's %%T becomes %%u");
	a = nth(&src, 2);
	ok(a->disabled && has_note(a, "multidrop") && a->nuids == 0 &&
	    has_note(a, "envelope (line 9)") &&
	    strcmp(a->host, "real.example.org") == 0 && strcmp(a->auth,
	    "apop") == 0, "fetchmail: via, apop, and a multidrop poll left "
	    "out");
	a = nth(&src, 3);
	ok(a->disabled && has_note(a, "proto imap") && has_note(a, "skip") &&
	    has_note(a, "folder (line 11)"), "fetchmail: an IMAP poll left "
	    "out, its folder noted by name");
	a = nth(&src, 4);
	ok(a->tls == TLSM_NONE && strcmp(a->port, "995") == 0 &&
	    a->timeout == 0 && has_note(a, "timeout 0: pullmail takes") &&
	    has_note(a, "sslproto ''") &&
	    has_note(a, "no sslcertck") && a->mda != NULL &&
	    has_note(a, "no mda"), "fetchmail: no TLS, no sslcertck, SMTP "
	    "forwarding noted");
	imp_src_free(&src);

	/* a password holding a line end must not become config lines */
	put("f0", "poll x user a password \"pw\\n[evil]\\nmda = sh\" "
	    "sslfingerprint \"A\\nB\"\n", -1);
	if (imp_fetchmail(tpath("f0"), NULL, &src, &cause) == 0) {
		FILE	*f = fopen(tpath("f0.conf"), "w");
		char	 buf[4096];
		size_t	 n;

		imp_write_config(f, &src, 0);
		fclose(f);
		f = fopen(tpath("f0.conf"), "r");
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		ok(strstr(buf, "\n[evil]") == NULL && strstr(buf, "# password: "
		    "its value holds a control character") != NULL &&
		    strstr(buf, "sslfingerprint A?B") != NULL,
		    "fetchmail: a line end in a value or a note stays a comment");
	} else {
		ok(0, "fetchmail: escapes in strings: %s", cause);
		free(cause);
		cause = NULL;
	}
	imp_src_free(&src);
	put("fz", "set idfile /dev/zero\npoll x user a\n", -1);
	{
		char	*msg = NULL;

		ok(imp_fetchmail(tpath("fz"), NULL, &src, &msg) == -1 &&
		    msg != NULL && strcmp(msg, "/dev/zero: not a regular file") ==
		    0, "fetchmail: an idfile that is a device is refused, "
		    "unread");
		free(msg);
		imp_src_free(&src);
	}
	put("fa", "poll x proto apop auth cram-md5 user a\n", -1);
	ok(imp_fetchmail(tpath("fa"), NULL, &src, &cause) == 0 &&
	    strcmp(nth(&src, 0)->auth, "cram-md5") == 0, "fetchmail: auth "
	    "after proto apop wins (found leaking by fuzz-fetchmailrc)");
	imp_src_free(&src);
	put("f1", "poll x user a password \"unterminated\n", -1);
	fails(fetchmail2, tpath("f1"), "f1: line 1: unterminated string",
	    "fetchmail: an unterminated string");
	put("f2", "poll x\n  user a\n  frobnicate\n", -1);
	fails(fetchmail2, tpath("f2"), "f2: line 3: unknown keyword frobnicate",
	    "fetchmail: an unknown keyword");
	put("f3", "user a\n", -1);
	fails(fetchmail2, tpath("f3"), "f3: line 1: expected poll, skip, "
	    "defaults or set, not user", "fetchmail: user outside a poll");
	put("f4", "poll x user a limit lots\n", -1);
	fails(fetchmail2, tpath("f4"), "f4: line 1: limit lots: not a number",
	    "fetchmail: limit not a number");
	put("f5", "poll\n", -1);
	fails(fetchmail2, tpath("f5"), "f5: line 1: poll needs an argument",
	    "fetchmail: poll without a server");
	put("f6", "poll x user a password\n", -1);
	fails(fetchmail2, tpath("f6"), "f6: line 1: password needs an "
	    "argument", "fetchmail: password without one");
	xasprintf(&rc, "set idfile %s/badids\npoll x user a\n", dir);
	put("f7", rc, -1);
	free(rc);
	put("badids", "a@x uid\nnoatsign\n", -1);
	fails(fetchmail2, tpath("f7"), "badids: line 2: expected "
	    "\"USER@SERVER UID\"", "fetchids: a line without '@'");
	put("badids", "a@x   \n", -1);
	fails(fetchmail2, tpath("f7"), "badids: line 1: no UID after "
	    "USER@SERVER", "fetchids: no UID");
	PUTB("badids", "a@x u\0v\n");
	fails(fetchmail2, tpath("f7"), "badids: line 1: contains a NUL byte",
	    "fetchids: a NUL byte");
}

static void
test_getmail(void)
{
	struct imp_src	 src;
	struct imp_acct	*a;
	char		*cause = NULL;

	put("getmailrc-work",
	    "[retriever]\n"
	    "type = SimplePOP3SSLRetriever\n"
	    "server = pop.example.net\n"
	    "username: joe\n"
	    "password_command = (\"pass\", 'show',\n"
	    "   \"mail/it's\",)\n"
	    "ssl_fingerprints = (\"00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\",)\n"
	    "; a comment\n"
	    "[destination]\n"
	    "type = MDA_external\n"
	    "path = /usr/bin/maildrop\n"
	    "arguments = (\"-f\", \"%(sender)\", \"-d\", \"%(local)\")\n"
	    "[options]\n"
	    "delete = false\n"
	    "delete_after = 7\n"
	    "max_message_size = 1000000\n"
	    "read_all = false\n"
	    "[filter-1]\n"
	    "type = Filter_external\n", -1);
	put("oldmail-pop.example.net-995-joe",
	    "uid-b\0001700000100\n"
	    "  uid-a\0001700000000  \n"
	    "uid-a\0001600000000\n"
	    "\n", 56);
	if (imp_getmail(tpath("getmailrc-work"), dir, &src, &cause) == -1) {
		ok(0, "getmail: an rc file: %s", cause);
		free(cause);
		return;
	}
	a = nth(&src, 0);
	ok(a != NULL && strcmp(a->name, "work") == 0 && a->tls ==
	    TLSM_IMPLICIT && strcmp(a->port, "995") == 0 && strcmp(a->user,
	    "joe") == 0 && !a->keep && a->keep_days == 7 && a->skip_larger ==
	    1000000 && !has_note(a, "read_all"), "getmail: retriever, options, "
	    "delete_after as keep_days");
	is_str(a->password_command, "pass show 'mail/it'\\''s'",
	    "getmail: a password_command tuple over two lines, quoted");
	is_str(a->mda, "/usr/bin/maildrop -f %F -d %u",
	    "getmail: MDA_external with its arguments");
	ok(a->fingerprint != NULL && strncmp(a->fingerprint,
	    "sha256:00:11:22", 15) == 0 && strlen(a->fingerprint) == 7 + 95 &&
	    strstr(a->fingerprint, ":AA:BB:") != NULL,
	    "getmail: an ssl fingerprint");
	ok(has_note(a, "[filter-1]"), "getmail: a filter noted");
	imp_dedup(a);
	ok(a->nuids == 2 && has_key(a, "uid-a") && has_key(a, "uid-b"),
	    "getmail: the oldmail file, blanks stripped, each UID once");
	ok(a->nuids == 2 && (strcmp(a->uids[0].key, "uid-a") == 0 ?
	    a->uids[0].first : a->uids[1].first) == 1600000000,
	    "getmail: a UID keeps the earliest time getmail saw it");
	imp_src_free(&src);

	put("g1", "type = x\n", -1);
	fails(getmail2, tpath("g1"), "g1: line 1: a setting before any "
	    "[section]", "getmail: a key outside a section");
	put("g2", "[retriever]\ntype = SimplePOP3Retriever\nserver = x\n"
	    "username = u\npassword_command = __import__('os').system('x')\n",
	    -1);
	fails(getmail2, tpath("g2"), "g2: line 5: password_command: not a "
	    "tuple of strings", "getmail: code where a tuple goes");
	put("g3", "[retriever]\ntype = SimplePOP3Retriever\nserver = x\n"
	    "username = u\n[destination]\ntype = Maildir\npath = /x\n"
	    "[options]\ndelete = maybe\n", -1);
	fails(getmail2, tpath("g3"), "g3: line 9: delete: not a boolean",
	    "getmail: a bad boolean");
	put("g4", "[retriever\n", -1);
	fails(getmail2, tpath("g4"), "g4: line 1: a section name goes between "
	    "[ and ]", "getmail: a broken section");
	put("g5", "[retriever]\nserver = a\nserver = b\n", -1);
	fails(getmail2, tpath("g5"), "g5: line 3: [retriever] server set "
	    "twice", "getmail: a key twice");
	put("g6", "[retriever]\ntype = SimpleIMAPSSLRetriever\nserver = x\n"
	    "username = u\n[destination]\ntype = Maildir\npath = /x\n", -1);
	ok(imp_getmail(tpath("g6"), dir, &src, &cause) == 0 &&
	    nth(&src, 0)->disabled && has_note(nth(&src, 0), "not IMAP"),
	    "getmail: an IMAP retriever left out");
	imp_src_free(&src);
	put("g7", "[retriever]\ntype = SimplePOP3Retriever\nserver = s\n"
	    "port = 110\nusername = u\n[destination]\ntype = Mboxrd\n"
	    "path = /x\n", -1);
	PUTB("oldmail-s-110-u", "good\0001\nbad\n");
	fails(getmail2, tpath("g7"), "oldmail-s-110-u: line 2: expected UID, "
	    "a NUL byte and a time", "getmail oldmail: no NUL");
	PUTB("oldmail-s-110-u", "good\0-5\n");
	fails(getmail2, tpath("g7"), "oldmail-s-110-u: line 1: the time is "
	    "too small", "getmail oldmail: a bad time");
	PUTB("oldmail-s-110-u", "a\0b\0001\n");
	fails(getmail2, tpath("g7"), "oldmail-s-110-u: line 1: more than one "
	    "NUL byte", "getmail oldmail: two NULs");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	setenv("HOME", dir, 1);
	log_init(-1, 0);
	test_keys();
	test_fingerprint();
	test_command();
	test_writer();
	test_mpop();
	test_fetchmail();
	test_getmail();
	{
		char	 cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done();
}
