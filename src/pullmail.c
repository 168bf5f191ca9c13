/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * pullmail: fetch mail from POP3 servers into local mailboxes.
 *
 * main parses the command line, loads the configuration, runs each
 * account in turn and decides the exit status: that of the first account
 * that failed, every account being tried.
 */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "pullmail.h"

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = stdout;

	if (status != 0) {
		fprintf(stderr, "usage: pullmail [options] [ACCOUNT...] "
		    "(pullmail --help for more)\n");
		exit(status);
	}
	fprintf(f,
"usage: pullmail [options] [ACCOUNT...]\n"
"       pullmail import [-n] [-C CONFIG] fetchmail|mpop|getmail [FILE]\n"
"Fetch mail from POP3 servers; with no ACCOUNT, every account in the config.\n"
"\"pullmail import\" switches from another downloader (pullmail import -h).\n"
"\n"
"  -C, --config FILE   configuration file (default ~/.config/pullmail/config)\n"
"  -k, --keep          leave the messages on the server this run\n"
"  -a, --fetchall      also fetch messages already fetched before\n"
"  -c, --check         only count new messages; exit 0 if any, 1 if none\n"
"  -l, --list          list the messages on the server; change nothing\n"
"      --mark-seen     record every message now on the server as seen,\n"
"                      without downloading it\n"
"      --accept UID    fetch this message of the one ACCOUNT named as the\n"
"                      server sends it, although it arrived damaged or far\n"
"                      larger than announced before (repeatable)\n"
"      --wait          wait for another pullmail on the same account\n"
"      --dump-config   print each account's effective settings and exit\n"
"      --serverinfo    show what each server offers (TLS, certificate and\n"
"                      its fingerprint, capabilities); does not log in\n"
"      --authorize     sign the one ACCOUNT named in with OAuth2 and save\n"
"                      its tokens (accounts with oauth2 set)\n"
"      --flow FLOW     how --authorize signs in: device (a code to enter on\n"
"                      the provider's page), browser (a redirect back to\n"
"                      127.0.0.1) or paste (paste the browser's last address)\n"
"  -d, --daemon SECS   fetch every SECS seconds until SIGTERM; SIGHUP re-reads\n"
"                      the config, SIGUSR1 fetches now\n"
"      --syslog        log to syslog (facility mail) instead of stderr\n"
"  -j, --jobs N        fetch up to N accounts at once (default 1, or jobs\n"
"                      in [defaults])\n"
"  -v, --verbose       say more; -vv adds a protocol trace (secrets hidden)\n"
"  -q, --quiet         print errors only\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Exit status: 0 success (also no new mail; with -c: new mail), 1 with -c:\n"
"no new mail, 64 usage, 78 configuration,\n"
"75 temporary failure, 77 authentication or certificate refused,\n"
"76 protocol violation, 74 local I/O or delivery failure, 71 system\n"
"error, 70 internal error.\n"
"See pullmail(1) and pullmail.conf(5).\n"
"Report bugs: %s\n", PACKAGE_BUGREPORT[0] != '\0' ? PACKAGE_BUGREPORT :
	    "see \"Reporting bugs\" in the README");
	exit(status);
}

/* -V: the version, the OpenSSL in use and the config file -C or the
 * environment chose (whether it exists: the first thing to check). */
static void
show_version(const char *path)
{
	struct stat	 st;

	printf("pullmail %s\n", PACKAGE_VERSION);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("config: %s%s\n", path, stat(path, &st) == 0 ? "" :
	    " (does not exist)");
}

static int	 use_syslog;
static volatile sig_atomic_t	 got_hup, got_usr1, got_stop;

/*
 * -j: the children running now, for on_signal to pass SIGTERM and SIGINT
 * on to. Each child has a process group of its own, so a ^C on the
 * terminal reaches only the parent, which passes it on once.
 */
#define MAX_KIDS	64
static volatile sig_atomic_t	 kids[MAX_KIDS];

/* One line per account: printed on a terminal, or logged with --syslog. */
static void
summary(const struct account *a, const struct fetch_stats *st,
    const struct run_opts *opts)
{
	char	 line[512], hs[32], *shown;
	size_t	 n;

	if (opts->check) {
		char	 tok[256], *dir;

		/* An OAuth2 account: how its sign-in stands, too. */
		dir = conf_state_dir();
		oauth2_describe(a, dir, tok, sizeof(tok));
		free(dir);
		snprintf(line, sizeof(line), "%s: %u new of %u (%s new)%s%s",
		    a->name, st->fresh, st->listed,
		    human_size(st->fresh_bytes, hs, sizeof(hs)),
		    tok[0] != '\0' ? "; OAuth2: " : "", tok);
	}
	else if (opts->mark_seen)
		snprintf(line, sizeof(line), "%s: %u message%s marked as seen",
		    a->name, st->marked, st->marked == 1 ? "" : "s");
	else {
		shown = deliver_label(a);
		if (st->fetched == 0)
			snprintf(line, sizeof(line), "%s: no new messages",
			    a->name);
		else
			snprintf(line, sizeof(line), "%s: %u new message%s "
			    "(%s) delivered to %s", a->name, st->fetched,
			    st->fetched == 1 ? "" : "s",
			    human_size(st->bytes, hs, sizeof(hs)), shown);
		free(shown);
		n = strlen(line);
		if (st->deleted > 0)
			n += snprintf(line + n, sizeof(line) - n, ", %u deleted "
			    "from the server", st->deleted);
		if (st->deferred > 0 && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, ", %u left "
			    "for the next run", st->deferred);
		if (st->too_big > 0 && n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, ", %u too "
			    "large left on the server", st->too_big);
		if (st->damaged > 0 && n < sizeof(line))
			snprintf(line + n, sizeof(line) - n, ", %u damaged "
			    "left on the server", st->damaged);
	}
	if (use_syslog)
		log_notice("%s", line);
	else {
		printf("%s\n", line);
		fflush(stdout);
	}
}

/*
 * One pass over the accounts (those named, or all). Returns the status of
 * the first account that failed; *anynew says whether any had new mail.
 */
static int
run_once(struct config *conf, char **names, int nnames, const char *statedir,
    const struct run_opts *opts, int show, int *anynew)
{
	struct account		*a;
	struct fetch_stats	 st;
	int			 i, s, status = 0;

	*anynew = 0;
	TAILQ_FOREACH(a, &conf->accounts, entry) {
		if (fetch_stop)
			break;
		if (nnames > 0) {
			for (i = 0; i < nnames; i++)
				if (strcasecmp(names[i], a->name) == 0)
					break;
			if (i == nnames)
				continue;
		}
		s = fetch_account(a, statedir, opts, &st);
		if (s == 0 && !opts->list && (show > 1 || (show == 1 && (st.fetched > 0 ||
		    st.deleted > 0 || opts->check || opts->mark_seen))))
			summary(a, &st, opts);
		if (s == 0 && st.fresh > 0)
			*anynew = 1;
		if (s != 0 && status == 0)
			status = s;
	}
	return status;
}

static int
selected(const struct account *a, char **names, int nnames)
{
	int	 i;

	if (nnames == 0)
		return 1;
	for (i = 0; i < nnames; i++)
		if (strcasecmp(names[i], a->name) == 0)
			return 1;
	return 0;
}

/* Wait for one child of run_parallel; record its status by account. */
static void
reap(pid_t *pids, int *statuses, int n, int *running)
{
	pid_t	 pid;
	int	 st, i;

	while ((pid = wait(&st)) == -1 && errno == EINTR)
		;
	if (pid == -1)
		fatalx("wait: %s", strerror(errno));
	for (i = 0; i < MAX_KIDS; i++)
		if (kids[i] == pid)
			kids[i] = 0;
	for (i = 0; i < n; i++)
		if (pids[i] == pid) {
			statuses[i] = WIFEXITED(st) ? WEXITSTATUS(st) :
			    EX_SOFTWARE;
			pids[i] = 0;
			(*running)--;
			return;
		}
}

/*
 * -j: a password to be asked on the terminal is asked here, before the
 * fork, one account at a time, so that prompts never overlap and no child
 * reads the terminal. NULL with *status 0: nothing to ask here.
 */
static char *
ask_first(const struct account *a, int *status)
{
	struct pm_err	 err = { 0, NULL };
	char		*pw;

	*status = 0;
	if (a->password != NULL || a->password_command != NULL ||
	    a->oauth2 != NULL || a->auth == AUTH_EXTERNAL ||
	    !isatty(STDIN_FILENO))
		return NULL;
	if ((pw = auth_password(a, &err)) == NULL) {
		log_warnx("%s: %s", a->name, err.msg);
		*status = err.status;
		err_clear(&err);
	}
	return pw;
}

/*
 * -j: up to jobs accounts at once, one process each, each with its own
 * lock and state. Each process writes whole lines, so the output stays
 * readable; the status is, as in a sequential run, that of the first
 * account (in file order) that failed.
 */
static int
run_parallel(struct config *conf, char **names, int nnames,
    const char *statedir, const struct run_opts *opts, int show, int jobs)
{
	struct account		*a;
	struct fetch_stats	 st;
	pid_t			*pids, pid;
	sigset_t		 block, old;
	char			*pw;
	int			*statuses, n = 0, i = 0, running = 0, s, status = 0;
	int			 k;

	TAILQ_FOREACH(a, &conf->accounts, entry)
		n++;
	pids = xcalloc(n, sizeof(*pids));
	statuses = xcalloc(n, sizeof(*statuses));
	if (jobs > MAX_KIDS)
		jobs = MAX_KIDS;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	TAILQ_FOREACH(a, &conf->accounts, entry) {
		if (fetch_stop)
			break;
		if (!selected(a, names, nnames)) {
			i++;
			continue;
		}
		while (running >= jobs)
			reap(pids, statuses, n, &running);
		if (fetch_stop)
			break;
		if ((pw = ask_first(a, &s)) == NULL && s != 0) {
			statuses[i++] = s;
			continue;
		}
		fflush(stdout);
		fflush(stderr);
		/* No signal between the fork and the child's entry in kids. */
		sigprocmask(SIG_BLOCK, &block, &old);
		if ((pid = fork()) == -1)
			fatalx("fork: %s", strerror(errno));
		if (pid == 0) {
			setpgid(0, 0);
			for (k = 0; k < MAX_KIDS; k++)
				kids[k] = 0;
			sigprocmask(SIG_SETMASK, &old, NULL);
			if (pw != NULL)
				a->password = pw;
			s = fetch_account(a, statedir, opts, &st);
			if (s == 0 && (show > 1 || (show == 1 &&
			    (st.fetched > 0 || st.deleted > 0))))
				summary(a, &st, opts);
			fflush(stdout);
			_exit(s);
		}
		setpgid(pid, pid);
		for (k = 0; k < MAX_KIDS; k++)
			if (kids[k] == 0) {
				kids[k] = pid;
				break;
			}
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pw != NULL)
			freezero_str(pw);
		pids[i++] = pid;
		running++;
	}
	while (running > 0)
		reap(pids, statuses, n, &running);
	for (i = 0; i < n && status == 0; i++)
		status = statuses[i];
	free(pids);
	free(statuses);
	return status;
}

static void
on_signal(int sig)
{
	int	 k, save = errno;

	switch (sig) {
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGUSR1:
		got_usr1 = 1;
		break;
	default:
		/*
		 * The first SIGTERM or SIGINT lets the message in hand finish
		 * and the session end cleanly; a second one ends us at once,
		 * which loses nothing either: without QUIT the server keeps
		 * every message.
		 */
		for (k = 0; k < MAX_KIDS; k++)
			if (kids[k] != 0)
				kill(kids[k], sig);
		if (got_stop)
			_exit(EX_TEMPFAIL);
		got_stop = 1;
		fetch_stop = 1;
		break;
	}
	errno = save;
}

static void
signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/*
	 * No SA_RESTART: a signal must interrupt a poll on a silent server
	 * (conn.c), so that SIGTERM stops a session at once.
	 */
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Wait up to secs seconds, or until a signal asks for something. Signals
 * are blocked while the flags are tested and let in only inside ppoll, so
 * none is missed between the test and the wait.
 */
static void
daemon_sleep(int secs)
{
	sigset_t	 block, old;
	struct timespec	 ts, end, now;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	for (;;) {
		if (got_stop || got_hup || got_usr1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			break;
		ts.tv_sec = end.tv_sec - now.tv_sec;
		ts.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (ts.tv_nsec < 0) {
			ts.tv_sec--;
			ts.tv_nsec += 1000000000L;
		}
		ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'C' },
		{ "keep",	no_argument,		NULL, 'k' },
		{ "fetchall",	no_argument,		NULL, 'a' },
		{ "check",	no_argument,		NULL, 'c' },
		{ "list",	no_argument,		NULL, 'l' },
		{ "mark-seen",	no_argument,		NULL, 'S' },
		{ "wait",	no_argument,		NULL, 'W' },
		{ "accept",	required_argument,	NULL, 'A' },
		{ "dump-config", no_argument,		NULL, 'D' },
		{ "serverinfo",	no_argument,		NULL, 'I' },
		{ "authorize",	no_argument,		NULL, 'O' },
		{ "flow",	required_argument,	NULL, 'F' },
		{ "daemon",	required_argument,	NULL, 'd' },
		{ "syslog",	no_argument,		NULL, 'L' },
		{ "jobs",	required_argument,	NULL, 'j' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct config		 conf;
	struct pm_err		 err = { 0, NULL };
	struct run_opts		 opts;
	char			*path = NULL, *statedir;
	int			 ch, verbose = 0, quiet = 0, version = 0, status = 0, i;
	int			 show, anynew = 0, dump = 0, interval = 0;
	int			 info = 0, jobs = 0, cli_jobs, naccept = 0;
	int			 authorize = 0;
	const char		*flow = NULL;
	char			*accept[16];
	const char		*errstr;

	memset(&opts, 0, sizeof(opts));
	/* A core dump would hold passwords and tokens. */
	{
		struct rlimit	 rl = { 0, 0 };

		setrlimit(RLIMIT_CORE, &rl);
	}
	/* getopt's own messages then start "pullmail: ", like ours. */
	if (argc > 0)
		argv[0] = (char *)"pullmail";
	/* "pullmail import TOOL [FILE]" (an account named import: "--"). */
	if (argc > 1 && strcmp(argv[1], "import") == 0) {
		log_init(0, 0);
		return import_main(argc - 1, argv + 1, NULL);
	}
	/* ... and "pullmail -C FILE import ...", as fetchmail users type. */
	if (argc > 3 && (strcmp(argv[1], "-C") == 0 ||
	    strcmp(argv[1], "--config") == 0) &&
	    strcmp(argv[3], "import") == 0) {
		log_init(0, 0);
		return import_main(argc - 3, argv + 3, argv[2]);
	}
	if (argc > 2 && (strncmp(argv[1], "--config=", 9) == 0 ||
	    (strncmp(argv[1], "-C", 2) == 0 && argv[1][2] != '\0')) &&
	    strcmp(argv[2], "import") == 0) {
		log_init(0, 0);
		return import_main(argc - 2, argv + 2, argv[1][1] == 'C' ?
		    argv[1] + 2 : argv[1] + 9);
	}
	while ((ch = getopt_long(argc, argv, "C:kacld:j:vqhV", longopts,
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
		case 'l':
			opts.list = 1;
			break;
		case 'S':
			opts.mark_seen = 1;
			break;
		case 'W':
			opts.wait = 1;
			break;
		case 'A':
			if (naccept == (int)(sizeof(accept) / sizeof(accept[0]))) {
				fprintf(stderr, "pullmail: at most %zu --accept\n",
				    sizeof(accept) / sizeof(accept[0]));
				return EX_USAGE;
			}
			accept[naccept++] = optarg;
			break;
		case 'D':
			dump = 1;
			break;
		case 'O':
			authorize = 1;
			break;
		case 'F':
			if (strcmp(optarg, "device") != 0 &&
			    strcmp(optarg, "browser") != 0 &&
			    strcmp(optarg, "paste") != 0) {
				fprintf(stderr, "pullmail: --flow: device, "
				    "browser or paste\n");
				return EX_USAGE;
			}
			flow = optarg;
			break;
		case 'I':
			info = 1;
			break;
		case 'd':
			interval = strtonum(optarg, 1, 86400 * 7, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "pullmail: -d %s: not a number "
				    "of seconds from 1 to 604800\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'L':
			use_syslog = 1;
			break;
		case 'j':
			jobs = strtonum(optarg, 1, 64, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "pullmail: -j %s: not a number "
				    "from 1 to 64\n", optarg);
				return EX_USAGE;
			}
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
			version = 1;
			break;
		default:
			usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (opts.check + opts.list + opts.mark_seen + opts.fetchall > 1) {
		fprintf(stderr, "pullmail: -c, -l, -a and --mark-seen cannot "
		    "be combined\n");
		return EX_USAGE;
	}
	if (naccept > 0 && (argc != 1 || opts.check + opts.list +
	    opts.mark_seen + opts.fetchall + opts.nodelete > 0 || interval > 0)) {
		fprintf(stderr, "pullmail: --accept needs exactly one ACCOUNT, "
		    "and no other action\n");
		return EX_USAGE;
	}
	if (authorize && (argc != 1 || opts.check + opts.list +
	    opts.mark_seen + opts.fetchall + opts.nodelete + naccept > 0 ||
	    interval > 0 || info || dump)) {
		fprintf(stderr, "pullmail: --authorize needs exactly one "
		    "ACCOUNT, and no other action\n");
		return EX_USAGE;
	}
	if (flow != NULL && !authorize) {
		fprintf(stderr, "pullmail: --flow goes with --authorize\n");
		return EX_USAGE;
	}
	if (quiet && verbose) {
		fprintf(stderr, "pullmail: -q and -v cannot be combined\n");
		return EX_USAGE;
	}
	if (interval > 0 && (opts.check || opts.list || opts.mark_seen)) {
		fprintf(stderr, "pullmail: -d cannot be combined with -c, -l "
		    "or --mark-seen\n");
		return EX_USAGE;
	}
	log_init(quiet ? -1 : verbose, use_syslog);

	if (path != NULL)
		oauth2_set_config(path);
	if (path == NULL)
		path = conf_default_path();
	if (version) {
		show_version(path);
		free(path);
		return 0;
	}
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
		conf_dump(stdout, &conf, argv, argc);
		conf_free(&conf);
		return 0;
	}
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
	signals();
	if (info) {
		struct account	*a;

		TAILQ_FOREACH(a, &conf.accounts, entry) {
			for (i = 0; i < argc; i++)
				if (strcasecmp(argv[i], a->name) == 0)
					break;
			if (argc > 0 && i == argc)
				continue;
			if (fetch_serverinfo(a, &err) == -1) {
				log_warnx("%s: %s", a->name, err.msg);
				if (status == 0)
					status = err.status;
				err_clear(&err);
			}
		}
		conf_free(&conf);
		return status;
	}
	statedir = conf_state_dir();
	if (authorize) {
		status = oauth2_authorize(conf_find(&conf, argv[0]), statedir,
		    flow);
		free(statedir);
		conf_free(&conf);
		return status;
	}
	if (naccept > 0) {
		status = fetch_accept(conf_find(&conf, argv[0]), statedir,
		    accept, naccept, opts.wait);
		free(statedir);
		conf_free(&conf);
		return status;
	}
	/*
	 * On a terminal a person wants a line per account; cron wants
	 * silence. show: 0 never, 1 when something happened, 2 always.
	 */
	if (quiet)
		show = 0;
	else if (verbose > 0 || opts.check || (isatty(STDOUT_FILENO) &&
	    interval == 0))
		show = 2;
	else
		show = interval > 0 || use_syslog ? 1 : 0;

	opts.progress = !quiet && verbose == 0 && !use_syslog &&
	    interval == 0 && isatty(STDERR_FILENO);
	cli_jobs = jobs;
	if (jobs == 0)
		jobs = conf.jobs;
	/* -c, -l and --mark-seen answer for all accounts: one at a time. */
	if (opts.check || opts.list || opts.mark_seen)
		jobs = 1;
	/* Several progress lines cannot share one terminal line. */
	if (jobs > 1)
		opts.progress = 0;
	if (interval == 0 && jobs > 1) {
		status = run_parallel(&conf, argv, argc, statedir, &opts, show,
		    jobs);
	} else if (interval == 0) {
		status = run_once(&conf, argv, argc, statedir, &opts, show,
		    &anynew);
		/* -c answers a script's question: is there new mail? */
		if (opts.check && status == 0 && !anynew)
			status = 1;
	} else {
		log_info("polling every %d seconds", interval);
		while (!got_stop) {
			got_usr1 = 0;
			if (jobs > 1)
				run_parallel(&conf, argv, argc, statedir,
				    &opts, show, jobs);
			else
				run_once(&conf, argv, argc, statedir, &opts,
				    show, &anynew);
			daemon_sleep(interval);
			if (got_hup && !got_stop) {
				struct config	 fresh;

				got_hup = 0;
				if (conf_load(conf.path, &fresh, &err) == -1) {
					log_warnx("%s (keeping the previous "
					    "configuration)", err.msg);
					err_clear(&err);
				} else {
					/* A TAILQ head cannot be copied: move. */
					conf_free(&conf);
					conf.path = fresh.path;
					TAILQ_INIT(&conf.accounts);
					TAILQ_CONCAT(&conf.accounts,
					    &fresh.accounts, entry);
					conf.jobs = fresh.jobs;
					if (cli_jobs == 0)
						jobs = conf.jobs;
					log_info("configuration re-read");
				}
			}
		}
		log_info("stopped");
		status = 0;
	}
	free(statedir);
	conf_free(&conf);
	return status;
}
