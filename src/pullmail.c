/*
 * pullmail: fetch mail from POP3 servers into local mailboxes.
 *
 * main parses the command line, loads the configuration, runs each
 * account in turn and decides the exit status: that of the first account
 * that failed, every account being tried.
 */

#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "pullmail.h"

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: pullmail [options] [ACCOUNT...]\n"
"Fetch mail from POP3 servers; with no ACCOUNT, every account in the config.\n"
"\n"
"  -C, --config FILE   configuration file (default ~/.config/pullmail/config)\n"
"  -k, --keep          leave the messages on the server this run\n"
"  -a, --fetchall      also fetch messages already fetched before\n"
"  -c, --check         only count new messages; exit 0 if any, 1 if none\n"
"      --mark-seen     record every message now on the server as seen,\n"
"                      without downloading it\n"
"      --wait          wait for another pullmail on the same account\n"
"      --dump-config   print each account's effective settings and exit\n"
"  -v, --verbose       say more; -vv adds a protocol trace (secrets hidden)\n"
"  -q, --quiet         print errors only\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Exit status: 0 success (also no new mail; with -c: new mail), 1 with -c:\n"
"no new mail, 64 usage, 78 configuration,\n"
"75 temporary failure, 77 authentication or certificate refused,\n"
"76 protocol violation, 74 local I/O or delivery failure.\n"
"See pullmail(1) and pullmail.conf(5).\n");
	exit(status);
}

static void
summary(const struct account *a, const struct fetch_stats *st,
    const struct run_opts *opts)
{
	char	 hs[32], *shown;

	if (opts->check) {
		printf("%s: %u new of %u (%s new)\n", a->name, st->fresh,
		    st->listed, human_size(st->fresh_bytes, hs, sizeof(hs)));
		fflush(stdout);
		return;
	}
	if (opts->mark_seen) {
		printf("%s: %u message%s marked as seen\n", a->name,
		    st->marked, st->marked == 1 ? "" : "s");
		fflush(stdout);
		return;
	}
	shown = a->mda != NULL ? xstrdup("the mda") :
	    path_tilde(a->maildir != NULL ? a->maildir : a->mbox);
	if (st->fetched == 0)
		printf("%s: no new messages", a->name);
	else
		printf("%s: %u new message%s (%s) delivered to %s", a->name,
		    st->fetched, st->fetched == 1 ? "" : "s",
		    human_size(st->bytes, hs, sizeof(hs)), shown);
	if (st->deleted > 0)
		printf(", %u deleted from the server", st->deleted);
	if (st->deferred > 0)
		printf(", %u left for the next run", st->deferred);
	if (st->too_big > 0)
		printf(", %u too large left on the server", st->too_big);
	printf("\n");
	fflush(stdout);
	free(shown);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'C' },
		{ "keep",	no_argument,		NULL, 'k' },
		{ "fetchall",	no_argument,		NULL, 'a' },
		{ "check",	no_argument,		NULL, 'c' },
		{ "mark-seen",	no_argument,		NULL, 'S' },
		{ "wait",	no_argument,		NULL, 'W' },
		{ "dump-config", no_argument,		NULL, 'D' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct config		 conf;
	struct account		*a;
	struct fetch_stats	 st;
	struct pm_err		 err = { 0, NULL };
	struct run_opts		 opts;
	char			*path = NULL, *statedir;
	int			 ch, verbose = 0, quiet = 0, status = 0, s, i;
	int			 show, anynew = 0, dump = 0;

	memset(&opts, 0, sizeof(opts));
	while ((ch = getopt_long(argc, argv, "C:kacvqhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'k':
			opts.nodelete = 1;
			break;
		case 'a':
			opts.fetchall = 1;
			break;
		case 'c':
			opts.check = 1;
			break;
		case 'S':
			opts.mark_seen = 1;
			break;
		case 'W':
			opts.wait = 1;
			break;
		case 'D':
			dump = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("pullmail %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (opts.check + opts.mark_seen + opts.fetchall > 1) {
		fprintf(stderr, "pullmail: -c, -a and --mark-seen cannot be "
		    "combined\n");
		return EX_USAGE;
	}
	if (quiet && verbose) {
		fprintf(stderr, "pullmail: -q and -v cannot be combined\n");
		return EX_USAGE;
	}
	log_init(quiet ? -1 : verbose, 0);
	signal(SIGPIPE, SIG_IGN);

	if (path == NULL)
		path = conf_default_path();
	if (conf_load(path, &conf, &err) == -1) {
		log_warnx("%s", err.msg);
		err_clear(&err);
		free(path);
		return EX_CONFIG;
	}
	free(path);
	for (i = 0; i < argc; i++)
		if (conf_find(&conf, argv[i]) == NULL) {
			char *v = log_vis(argv[i], strlen(argv[i]));
			log_warnx("%s: no account [%s]", conf.path, v);
			free(v);
			conf_free(&conf);
			return EX_USAGE;
		}

	if (dump) {
		conf_dump(stdout, &conf);
		conf_free(&conf);
		return 0;
	}
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
	statedir = conf_state_dir();
	/* On a terminal a person wants to see what happened; cron does not. */
	show = !quiet && (verbose > 0 || opts.check ||
	    isatty(STDOUT_FILENO));
	TAILQ_FOREACH(a, &conf.accounts, entry) {
		if (argc > 0) {
			for (i = 0; i < argc; i++)
				if (strcasecmp(argv[i], a->name) == 0)
					break;
			if (i == argc)
				continue;
		}
		s = fetch_account(a, statedir, &opts, &st);
		if (s == 0 && show)
			summary(a, &st, &opts);
		if (s == 0 && st.fresh > 0)
			anynew = 1;
		if (s != 0 && status == 0)
			status = s;
	}
	/* -c answers a script's question: is there new mail? */
	if (opts.check && status == 0 && !anynew)
		status = 1;
	free(statedir);
	conf_free(&conf);
	return status;
}
