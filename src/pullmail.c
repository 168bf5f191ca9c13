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
"  -v, --verbose       say more; -vv adds a protocol trace (secrets hidden)\n"
"  -q, --quiet         print errors only\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Exit status: 0 success (also no new mail), 64 usage, 78 configuration,\n"
"75 temporary failure, 77 authentication or certificate refused,\n"
"76 protocol violation, 74 local I/O or delivery failure.\n"
"See pullmail(1) and pullmail.conf(5).\n");
	exit(status);
}

static void
summary(const struct account *a, const struct fetch_stats *st)
{
	char	 hs[32], *shown;

	shown = a->mda != NULL ? xstrdup("the mda") :
	    path_tilde(a->maildir != NULL ? a->maildir : a->mbox);
	if (st->fetched == 0)
		printf("%s: no new messages", a->name);
	else
		printf("%s: %u new message%s (%s) delivered to %s", a->name,
		    st->fetched, st->fetched == 1 ? "" : "s",
		    human_size(st->bytes, hs, sizeof(hs)), shown);
	if (st->deleted > 0 && !a->keep)
		printf(", %u deleted from the server", st->deleted);
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
	char			*path = NULL, *statedir;
	int			 ch, verbose = 0, quiet = 0, keep = 0;
	int			 fetchall = 0, status = 0, s, i, show;

	while ((ch = getopt_long(argc, argv, "C:kavqhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'k':
			keep = 1;
			break;
		case 'a':
			fetchall = 1;
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

	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
	statedir = conf_state_dir();
	/* On a terminal a person wants to see what happened; cron does not. */
	show = !quiet && (verbose > 0 || isatty(STDOUT_FILENO));
	TAILQ_FOREACH(a, &conf.accounts, entry) {
		if (argc > 0) {
			for (i = 0; i < argc; i++)
				if (strcasecmp(argv[i], a->name) == 0)
					break;
			if (i == argc)
				continue;
		}
		if (keep)
			a->keep = 1;
		if (fetchall)
			a->fetchall = 1;
		s = fetch_account(a, statedir, &st);
		if (s == 0 && show)
			summary(a, &st);
		if (s != 0 && status == 0)
			status = s;
	}
	free(statedir);
	conf_free(&conf);
	return status;
}
