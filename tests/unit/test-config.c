/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* Config loading: values, inheritance, and every error users can make. */

#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

static char	 dir[] = "/tmp/pm-conf-XXXXXX";
static char	 path[256];

static void
write_conf(const char *text, mode_t mode)
{
	FILE	*f;

	snprintf(path, sizeof(path), "%s/config", dir);
	unlink(path);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Load text; expect an error containing want (or success if want NULL). */
static void
expect(const char *name, const char *text, mode_t mode, const char *want)
{
	struct config	 conf;
	struct pm_err	 err = { 0, NULL };
	int		 r;

	write_conf(text, mode);
	r = conf_load(path, &conf, &err);
	if (want == NULL) {
		ok(r == 0, "%s: loads", name);
		if (r == 0)
			conf_free(&conf);
		else
			printf("#   error: %s\n", err.msg);
	} else {
		int good = r == -1 && err.status == EX_CONFIG &&
		    strstr(err.msg, want) != NULL &&
		    strchr(err.msg, '\n') == NULL &&
		    strncmp(err.msg, path, strlen(path)) == 0;
		ok(good, "%s: error", name);
		if (!good)
			printf("#   got:  %s\n#   want: ...%s...\n",
			    err.msg ? err.msg : "(success)", want);
	}
	err_clear(&err);
}

/* As expect, and the error must not contain secret. */
static void
expect_lacks(const char *name, const char *text, mode_t mode,
    const char *want, const char *secret)
{
	struct config	 conf;
	struct pm_err	 err = { 0, NULL };

	expect(name, text, mode, want);
	write_conf(text, mode);
	if (conf_load(path, &conf, &err) == 0)
		conf_free(&conf);
	ok(err.msg == NULL || strstr(err.msg, secret) == NULL,
	    "%s: the error does not quote the line", name);
	err_clear(&err);
}

#define BASE "[work]\nhost = pop.example.net\nuser = joe\nmaildir = /tmp/md\n"

int
main(void)
{
	struct config	 conf;
	struct pm_err	 err = { 0, NULL };
	struct account	*a;
	char		 want[512], ca[300], text[2048];

	if (mkdtemp(dir) == NULL)
		return 1;
	/* The home holds ca.pem, which the full config names as ~/ca.pem. */
	setenv("HOME", dir, 1);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	fclose(fopen(ca, "w"));

	/* A full config: defaults inherited, overridden, parsed. */
	write_conf(
	    "# comment\n"
	    "; another\n"
	    "[defaults]\n"
	    "tls = starttls\n"
	    "timeout = 30\n"
	    "keep = yes\n"
	    "ca_file = ~/ca.pem\n"
	    "\n"
	    "[Work]\n"
	    "host = pop.example.net\n"
	    "user = joe@example.net\n"
	    "password = \"se;cr#et\"\n"
	    "maildir = ~/Mail/work\n"
	    "KEEP = no ; inline comment after a blank\n"
	    "[home]\n"
	    "host = 192.0.2.1\n"
	    "port = 1995\n"
	    "tls = implicit\n"
	    "user = joe\n"
	    "password_command = pass show 'mail/home'\n"
	    "maildir = /var/mail/joe\n"
	    "allow_plaintext = true\n", 0600);
	if (ok(conf_load(path, &conf, &err) == 0, "full config loads")) {
		a = TAILQ_FIRST(&conf.accounts);
		is_str(a->name, "work", "section names are lowercased");
		is_str(a->port, "110", "starttls defaults to port 110");
		ok(a->tls == TLSM_STARTTLS, "tls inherited from defaults");
		ok(a->timeout == 30, "timeout inherited");
		ok(a->keep == 0, "keep overridden, trailing comment ignored");
		is_str(a->password, "se;cr#et", "quoted password kept whole");
		snprintf(want, sizeof(want), "%s/Mail/work", dir);
		is_str(a->maildir, want, "~ expanded");
		is_str(a->ca_file, ca, "ca_file ~ expanded");
		a = TAILQ_NEXT(a, entry);
		is_str(a->name, "home", "second account in file order");
		is_str(a->port, "1995", "explicit port");
		ok(a->tls == TLSM_IMPLICIT, "tls overridden");
		ok(a->keep == 1, "keep inherited");
		ok(a->allow_plaintext == 1, "true is a boolean");
		is_str(a->password_command, "pass show 'mail/home'",
		    "password_command kept as written");
		ok(TAILQ_NEXT(a, entry) == NULL, "two accounts");
		ok(conf_find(&conf, "HOME") != NULL, "find is case-insensitive");
		ok(conf_find(&conf, "nope") == NULL, "find unknown");
		conf_free(&conf);
	} else
		printf("#   %s\n", err.msg);
	err_clear(&err);

	/* The account's own delivery overrides the inherited one. */
	write_conf("[defaults]\nmaildir = ~/Maildir\n[x]\nhost = h\n"
	    "user = u\nmda = procmail -d %u\n[y]\nhost = h\nuser = u\n",
	    0644);
	if (ok(conf_load(path, &conf, &err) == 0, "inherited delivery")) {
		a = TAILQ_FIRST(&conf.accounts);
		ok(a->maildir == NULL && a->mda != NULL &&
		    strcmp(a->mda, "procmail -d %u") == 0,
		    "account's mda overrides the maildir of [defaults]");
		a = TAILQ_NEXT(a, entry);
		ok(a->maildir != NULL && a->mda == NULL,
		    "maildir inherited where the account has none");
		conf_free(&conf);
	} else
		printf("#   %s\n", err.msg);
	err_clear(&err);

	/* LMTP and SMTP: the backend table's rows, and their keys. */
	write_conf("[defaults]\nmaildir = ~/Maildir\n[x]\nhost = h\n"
	    "user = u\nlmtp = [::1]:24\ndeliver_to = \"ann bob\"\n"
	    "[y]\nhost = h\nuser = u\nsmtp = mail.example.org\n"
	    "smtp_tls = yes\nsmtp_user = joe\n", 0644);
	if (ok(conf_load(path, &conf, &err) == 0, "lmtp and smtp load")) {
		a = TAILQ_FIRST(&conf.accounts);
		ok(a->maildir == NULL && a->lmtp != NULL &&
		    deliver_backend_of(a) == &lmtp_backend &&
		    strcmp(a->deliver_to, "ann bob") == 0,
		    "lmtp overrides the maildir of [defaults]");
		a = TAILQ_NEXT(a, entry);
		ok(deliver_backend_of(a) == &smtp_backend && a->smtp_tls == 1 &&
		    strcmp(a->smtp_user, "joe") == 0, "smtp and its keys");
		{
			char *l = deliver_label(a);

			is_str(l, "SMTP mail.example.org", "the summary's label");
			free(l);
		}
		conf_free(&conf);
	} else
		printf("#   %s\n", err.msg);
	err_clear(&err);

	write_conf("[x]\nhost = h\nuser = u\nmaildir = /m\n", 0644);
	if (ok(conf_load(path, &conf, &err) == 0, "minimal config")) {
		a = TAILQ_FIRST(&conf.accounts);
		is_str(a->port, "995", "implicit TLS is the default, port 995");
		ok(a->tls == TLSM_IMPLICIT && a->timeout == 60 && !a->keep &&
		    !a->allow_plaintext && a->received_header &&
		    a->mbox_lock_timeout == 30 && a->mda_timeout == 300 &&
		    a->password_command_timeout == 60,
		    "defaults");
		conf_free(&conf);
	}

	expect("empty file", "", 0600, "no account");
	{
		uint64_t sz;
		ok(conf_parse_size("10M", &sz) == 0 && sz == 10485760, "10M");
		ok(conf_parse_size("512", &sz) == 0 && sz == 512, "512");
		ok(conf_parse_size("2KB", &sz) == 0 && sz == 2048, "2KB");
		ok(conf_parse_size("0", &sz) == -1, "0 is not a size");
		ok(conf_parse_size("M", &sz) == -1, "M alone");
		ok(conf_parse_size("1.5M", &sz) == -1, "no fractions");
		ok(conf_parse_size("9999999999G", &sz) == -1, "too large");
	}
	expect("bad port", BASE "port = 99999\n", 0600,
	    "[work] port: \"99999\" is not a port number");
	expect("port zero", BASE "port = 0\n", 0600, "is not a port number");
	expect("port text", BASE "port = pop3s\n", 0600,
	    "is not a port number");
	expect("leading-zero port is fine", BASE "port = 0995\n", 0600, NULL);
	expect("bad tls", BASE "tls = ssl\n", 0600,
	    "[work] tls: \"ssl\" is not one of implicit, starttls, none");
	expect("bad bool", BASE "keep = maybe\n", 0600,
	    "[work] keep: \"maybe\" is not yes or no");
	expect("bad timeout", BASE "timeout = 0\n", 0600,
	    "[work] timeout: \"0\" is not a number of seconds");
	expect("timeout text", BASE "timeout = 10s\n", 0600,
	    "[work] timeout:");
	expect("password_command_timeout", BASE "password_command_timeout = "
	    "5\n", 0600, NULL);
	expect("bad password_command_timeout", BASE "password_command_timeout "
	    "= 0\n", 0600, "[work] password_command_timeout: \"0\" is not a "
	    "number of seconds from 1 to 86400");
	expect("password_command_timeout too large", BASE
	    "password_command_timeout = 86401\n", 0600,
	    "password_command_timeout: \"86401\" is not a number of seconds");
	expect("unknown key", BASE "hots = x\n", 0600,
	    "[work] hots: unknown key (did you mean \"host\"?)");
	expect("misspelt key, one letter dropped", BASE "maildi = /m\n", 0600,
	    "[work] maildi: unknown key (did you mean \"maildir\"?)");
	expect("misspelt key, two letters swapped", BASE "kepe_days = 3\n",
	    0600, "(did you mean \"keep_days\"?)");
	expect("unknown key far from any: no guess", BASE "colour = red\n",
	    0600, "[work] colour: unknown key");
	expect_lacks("unknown key far from any: no guess", BASE
	    "colour = red\n", 0600, "unknown key", "did you mean");
	expect("comment after a section header", BASE "[b]   # c\nhost = b\n"
	    "user = b\nmaildir = /m\n", 0600, "line 5: [b]: nothing may follow "
	    "the ] of a section line, not even a comment");
	expect("comment after a key is fine", BASE "[b]\nhost = b   # c\n"
	    "user = b\nmaildir = /m\n", 0600, NULL);
	expect("[default] without host", "[default]\nport = 995\n" BASE,
	    0600, "[default]: no host, so not an account: did you mean "
	    "[defaults]?");
	expect("[defualts] without host", "[defualts]\nkeep = yes\n" BASE,
	    0600, "did you mean [defaults]?");
	expect("an account named default is an account", "[default]\n"
	    "host = h\nuser = u\nmaildir = /m\n", 0600, NULL);
	{
		struct config	 mconf;
		struct pm_err	 merr = { 0, NULL };
		char		 missing[4096];

		snprintf(missing, sizeof(missing), "%s.absent", path);
		ok(conf_load(missing, &mconf, &merr) == -1 &&
		    merr.status == EX_CONFIG && merr.msg != NULL &&
		    strstr(merr.msg, "no such file: to start one, copy ") &&
		    strstr(merr.msg, PM_EXAMPLE_CONFIG) &&
		    strstr(merr.msg, "pullmail.conf(5)"),
		    "missing config: says how to start one");
		if (merr.msg != NULL)
			printf("#   %s\n", merr.msg);
		err_clear(&merr);
	}
	expect("bad value in defaults is blamed on defaults",
	    "[defaults]\nport = x\n" BASE, 0600, "[defaults] port: \"x\"");
	expect("unknown key in defaults", "[defaults]\nkep = yes\n" BASE, 0600,
	    "[defaults] kep: unknown key");
	expect("missing host", "[work]\nuser = u\nmaildir = /m\n", 0600,
	    "[work] host: missing");
	expect("missing user", "[work]\nhost = h\nmaildir = /m\n", 0600,
	    "[work] user: missing");
	expect("missing maildir", "[work]\nhost = h\nuser = u\n", 0600,
	    "[work] maildir: missing");
	expect("empty value", BASE "port =\n", 0600, "[work] port: empty value");
	expect("maildir and mbox", BASE "mbox = /tmp/mb\n", 0600,
	    "[work] maildir, mbox: only one of maildir, mbox, mda, lmtp and "
	    "smtp may be set");
	expect("maildir and lmtp", BASE "lmtp = /run/dovecot/lmtp\n", 0600,
	    "[work] maildir, lmtp: only one of");
	expect("lmtp without a port", "[work]\nhost = h\nuser = u\n"
	    "lmtp = localhost\n", 0600, "[work] lmtp: expected a unix socket "
	    "(an absolute path) or HOST:PORT");
	expect("lmtp, bad port", "[work]\nhost = h\nuser = u\n"
	    "lmtp = localhost:0\n", 0600, "[work] lmtp: not a port number");
	expect("smtp, IPv6 without brackets", "[work]\nhost = h\nuser = u\n"
	    "smtp = ::1:25\n", 0600, "[work] smtp: an IPv6 address goes in [ ]");
	expect("smtp from defaults, bad", "[defaults]\nsmtp = bad/host\n"
	    "[work]\nhost = h\nuser = u\n", 0600,
	    "[defaults] smtp: not a host name or address");
	expect("mbox and mda in defaults", "[defaults]\nmbox = /a\nmda = b\n"
	    "[work]\nhost = h\nuser = u\n", 0600,
	    "[defaults] mbox, mda: only one");
	expect("no delivery at all", "[work]\nhost = h\nuser = u\n", 0600,
	    "set one of maildir, mbox, mda, lmtp or smtp)");
	expect("bad mda quoting", "[work]\nhost = h\nuser = u\n"
	    "mda = \"procmail\n", 0600,
	    "[work] mda: the value's opening \" quote is never closed");
	expect("bad mda quoting inside", "[work]\nhost = h\nuser = u\n"
	    "mda = procmail -d \"%u\n", 0600,
	    "[work] mda: unterminated double quote");
	expect("bad mbox_lock_timeout", BASE "mbox_lock_timeout = -1\n",
	    0600, "[work] mbox_lock_timeout: \"-1\" is not a number");
	expect("bad size", BASE "skip_larger_than = 10X\n", 0600,
	    "[work] skip_larger_than: \"10X\" is not a size");
	expect("size suffixes", BASE "skip_larger_than = 10M\n"
	    "delete_larger_than = 1g\nmax_bytes = 500kB\n", 0600, NULL);
	expect("bad keep_days", BASE "keep_days = 0\n", 0600,
	    "[work] keep_days: \"0\" is not a number of days");
	expect("bad max_messages", BASE "max_messages = many\n", 0600,
	    "[work] max_messages: \"many\" is not a count");
	expect("both password sources", BASE "password = a\n"
	    "password_command = b\n", 0600,
	    "[work] password, password_command: only one");
	expect("unquoted #", BASE "password = pass#word\n", 0600,
	    "[work] password: value contains '#'");
	expect("unquoted ;", BASE "password = pass;word\n", 0600,
	    "[work] password: value contains ';'");
	expect("key twice", BASE "host = other\n", 0600,
	    "[work] host: set twice (lines 2 and 5)");
	expect("section twice", BASE "[work]\nport = 1\n", 0600,
	    "[work]: section appears twice");
	expect("key before any section", "host = h\n" BASE, 0600,
	    "line 1: host: key outside any section");
	expect("bad account name", "[my mail]\nhost = h\nuser = u\n"
	    "maildir = /m\n", 0600, "[my mail]: an account name must start");
	expect("no accounts", "[defaults]\nhost = h\n", 0600, "no account");
	expect("password in a readable file", BASE "password = x\n", 0644,
	    "contains a password but is mode 0644");
	expect("password in a group-readable file", BASE "password = x\n",
	    0640, "run chmod 600");
	expect("password_command in a readable file is fine",
	    BASE "password_command = pass x\n", 0644, NULL);
	expect("unterminated quote in command",
	    BASE "password_command = pass 'x\n", 0600,
	    "[work] password_command: unterminated single quote");
	expect("syntax error", BASE "this line has no equals sign\n", 0600,
	    "line 5: syntax error");
	expect("syntax error: empty key", BASE " = value\n", 0600,
	    "line 5: syntax error");
	expect("syntax error: no ]", BASE "[other\n", 0600,
	    "line 5: syntax error: a section name goes between [ and ]");
	expect("syntax error: []", BASE "[ ]\n", 0600,
	    "line 5: syntax error");
	/* The error never quotes the line: it may be the password's. */
	expect_lacks("syntax error on the password line",
	    BASE "password \"Sup3rS3cret\"\n", 0600, "line 5: syntax error",
	    "Sup3rS3cret");
	expect_lacks("syntax error, password: form",
	    BASE "password: Sup3rS3cret\n", 0600, "line 5: syntax error",
	    "Sup3rS3cret");
	/* Backslash continuations are joined as iniparser joins them. */
	expect("continuation joins a value", BASE "password_command = pass \\\n"
	    "  show mail\n", 0644, NULL);
	expect("continuation builds the key password",
	    BASE "pass\\\nword = x\n", 0644,
	    "contains a password but is mode 0644");
	expect("continuation after a comment swallows the next line",
	    BASE "# old: \\\npassword = x\n", 0644, NULL);
	expect("continuation: the error names the first line",
	    BASE "a \\\n b \\\n c\n", 0600, "line 5: syntax error");
	expect("set twice across a continuation",
	    BASE "po\\\nrt = 110\nport = 995\n", 0600,
	    "[work] port: set twice (lines 5 and 7)");

	/*
	 * TLS paths: checked at load, each error naming the key, its section
	 * and the expanded path.
	 */
	snprintf(text, sizeof(text), BASE "ca_file = %s\nca_path = %s\n"
	    "client_cert = %s\nclient_key = ~/ca.pem\n", ca, dir, ca);
	expect("ca_file, ca_path, client_cert, client_key that exist", text,
	    0600, NULL);
	expect("ca_file missing", BASE "ca_file = /nonexistent/ca.pem\n",
	    0600, "[work] ca_file: /nonexistent/ca.pem: No such file or "
	    "directory");
	snprintf(want, sizeof(want), "[work] ca_file: %s/nope.pem: No such "
	    "file or directory", dir);
	expect("ca_file missing, ~ expanded in the message",
	    BASE "ca_file = ~/nope.pem\n", 0600, want);
	snprintf(text, sizeof(text), BASE "ca_file = %s\n", dir);
	snprintf(want, sizeof(want), "[work] ca_file: %s: is a directory",
	    dir);
	expect("ca_file a directory", text, 0600, want);
	snprintf(text, sizeof(text), BASE "ca_path = %s\n", ca);
	snprintf(want, sizeof(want), "[work] ca_path: %s: not a directory", ca);
	expect("ca_path a file", text, 0600, want);
	expect("ca_path missing", BASE "ca_path = /nonexistent\n", 0600,
	    "[work] ca_path: /nonexistent: No such file or directory");
	snprintf(text, sizeof(text), BASE "client_key = %s\n"
	    "client_cert = /nonexistent/c.pem\n", ca);
	expect("client_cert missing", text, 0600,
	    "[work] client_cert: /nonexistent/c.pem: No such file");
	snprintf(text, sizeof(text), BASE "client_cert = %s\n"
	    "client_key = /dev/null\n", ca);
	expect("client_key a device", text, 0600,
	    "[work] client_key: /dev/null: not a regular file");
	snprintf(text, sizeof(text), BASE "client_cert = %s\n"
	    "client_key = %s/ca.pem/k\n", ca, dir);
	snprintf(want, sizeof(want), "[work] client_key: %s/ca.pem/k: Not a "
	    "directory", dir);
	expect("client_key below a file", text, 0600, want);
	expect("ca_file missing in [defaults] is blamed on [defaults]",
	    "[defaults]\nca_file = /nonexistent/ca.pem\n" BASE, 0600,
	    "[defaults] ca_file: /nonexistent/ca.pem: No such file");
	{
		char	 link[300];

		snprintf(link, sizeof(link), "%s/ca-link.pem", dir);
		symlink("ca.pem", link);
		snprintf(text, sizeof(text), BASE "ca_file = %s\n", link);
		expect("ca_file a symlink to a file", text, 0600, NULL);
		unlink(link);
		symlink("absent.pem", link);
		snprintf(want, sizeof(want), "[work] ca_file: %s: No such file",
		    link);
		expect("ca_file a dangling symlink", text, 0600, want);
		unlink(link);
	}
	/* OAuth2: presets fill what the account leaves out; mistakes named. */
	{
		static const struct { const char *name, *text, *want; } oc[] = {
			{ "oauth2 google", "oauth2 = google\n"
			    "oauth2_client_id = id\n", NULL },
			{ "oauth2 microsoft with a tenant", "oauth2 = Microsoft\n"
			    "oauth2_client_id = id\noauth2_tenant = consumers\n",
			    NULL },
			{ "oauth2 unknown provider", "oauth2 = yahoo\n"
			    "oauth2_client_id = id\n",
			    "[work] oauth2: must be google, microsoft or custom" },
			{ "oauth2 without a client", "oauth2 = google\n",
			    "[work] oauth2_client_id: missing" },
			{ "oauth2 custom without a token URL", "oauth2 = custom\n"
			    "oauth2_client_id = id\noauth2_scope = s\n"
			    "oauth2_auth_url = https://a/\n",
			    "[work] oauth2_token_url: missing" },
			{ "oauth2 custom without a scope", "oauth2 = custom\n"
			    "oauth2_client_id = id\n"
			    "oauth2_token_url = https://a/t\n"
			    "oauth2_device_url = https://a/d\n",
			    "[work] oauth2_scope: missing" },
			{ "oauth2 custom with no way to sign in",
			    "oauth2 = custom\noauth2_client_id = id\n"
			    "oauth2_token_url = https://a/t\noauth2_scope = s\n",
			    "[work] oauth2_auth_url: missing" },
			{ "oauth2 http endpoint", "oauth2 = custom\n"
			    "oauth2_client_id = id\noauth2_scope = s\n"
			    "oauth2_token_url = http://a/t\n"
			    "oauth2_device_url = https://a/d\n",
			    "[work] oauth2_token_url: http://a/t is not an "
			    "https:// URL" },
			{ "oauth2 with a password", "oauth2 = google\n"
			    "oauth2_client_id = id\npassword = x\n",
			    "[work] password: not with oauth2" },
			{ "oauth2 with a password mechanism", "oauth2 = google\n"
			    "oauth2_client_id = id\nauth = plain\n",
			    "[work] auth: plain cannot carry an OAuth2 token" },
			{ "oauth2 tenant for google", "oauth2 = google\n"
			    "oauth2_client_id = id\noauth2_tenant = common\n",
			    "[work] oauth2_tenant: only for oauth2 = microsoft" },
			{ "oauth2 hostile tenant", "oauth2 = microsoft\n"
			    "oauth2_client_id = id\noauth2_tenant = a/../b\n",
			    "[work] oauth2_tenant: not a tenant" },
			{ "oauth2 key without oauth2", "oauth2_client_id = id\n",
			    "[work] oauth2_client_id: set only with oauth2" },
			{ "oauth2 client secret in a readable file",
			    "oauth2 = google\noauth2_client_id = id\n"
			    "oauth2_client_secret = s3cret\n",
			    "contains a password but is mode 0644" },
		};
		size_t	 i;

		for (i = 0; i < sizeof(oc) / sizeof(oc[0]); i++) {
			snprintf(text, sizeof(text), BASE "%s", oc[i].text);
			expect(oc[i].name, text, strstr(oc[i].text,
			    "secret") != NULL ? 0644 : 0600, oc[i].want);
		}
		snprintf(text, sizeof(text), BASE "oauth2 = microsoft\n"
		    "oauth2_client_id = id\noauth2_tenant = contoso.com\n"
		    "oauth2_client_secret = s3cret\n"
		    "oauth2_token_url = https://t.example/tok\n");
		write_conf(text, 0600);
		ok(conf_load(path, &conf, &err) == 0, "oauth2 preset: loads");
		a = TAILQ_FIRST(&conf.accounts);
		ok(a != NULL && strcmp(a->oauth2_auth_url, "https://login."
		    "microsoftonline.com/contoso.com/oauth2/v2.0/authorize") ==
		    0 && strcmp(a->oauth2_device_url, "https://login."
		    "microsoftonline.com/contoso.com/oauth2/v2.0/devicecode") ==
		    0 && strcmp(a->oauth2_token_url, "https://t.example/tok") ==
		    0 && strstr(a->oauth2_scope, "POP.AccessAsUser.All "
		    "offline_access") != NULL, "oauth2 preset: the tenant's "
		    "endpoints, the account's own token URL, the scope");
		{
			char	*buf = NULL;
			size_t	 blen = 0;
			FILE	*mf = open_memstream(&buf, &blen);

			conf_dump(mf, &conf, NULL, 0);
			fclose(mf);
			ok(strstr(buf, "s3cret") == NULL && strstr(buf,
			    "# oauth2_client_secret = ***") != NULL,
			    "oauth2: --dump-config hides the client secret");
			free(buf);
		}
		conf_free(&conf);
		err_clear(&err);
	}

	unlink(ca);

	/* A file that does not exist. */
	snprintf(path, sizeof(path), "%s/absent", dir);
	ok(conf_load(path, &conf, &err) == -1 && err.status == EX_CONFIG &&
	    strstr(err.msg, "no such file: to start one") != NULL, "absent file: error");
	err_clear(&err);

	snprintf(path, sizeof(path), "%s/config", dir);
	unlink(path);
	rmdir(dir);
	return done();
}
