/*
 * Delivery through an MDA (procmail, maildrop, dovecot-lda, ...). The
 * message is spooled whole first, so a dropped connection never hands a
 * truncated message to the MDA; then the command runs, without a shell,
 * with the spool file as its standard input. Exit 0 is delivered; 75
 * (EX_TEMPFAIL) leaves the message on the server for the next run; any
 * other status or a signal is a delivery failure. An MDA that hangs is
 * killed after mda_timeout.
 */

#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

static const char *
local_user(void)
{
	struct passwd	*pw;
	const char	*u;

	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_name;
	if ((u = getenv("USER")) != NULL)
		return u;
	return "unknown";
}

/*
 * The MDA's argument vector with %u (local user), %a (account), %F
 * (envelope sender) and %% replaced. Each word stays one argument: a value
 * is never split or seen by a shell.
 */
char **
mda_args(char **tmpl, const struct account *a, const char *sender)
{
	char		**argv;
	const char	 *p, *val;
	char		 *w;
	size_t		  n, i, len;

	for (n = 0; tmpl[n] != NULL; n++)
		;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (i = 0; i < n; i++) {
		len = 1;
		for (p = tmpl[i]; *p != '\0'; p++)
			len += p[0] == '%' && p[1] != '\0' ? 256 +
			    strlen(sender) + strlen(a->name) : 1;
		w = argv[i] = xmalloc(len);
		*w = '\0';
		for (p = tmpl[i]; *p != '\0'; p++) {
			val = NULL;
			if (p[0] == '%') {
				switch (p[1]) {
				case 'u':
					val = local_user();
					break;
				case 'a':
					val = a->name;
					break;
				case 'F':
					val = sender;
					break;
				case '%':
					val = "%";
					break;
				}
			}
			if (val != NULL) {
				strlcat(argv[i], val, len);
				p++;
			} else {
				size_t l = strlen(argv[i]);
				argv[i][l] = *p;
				argv[i][l + 1] = '\0';
			}
		}
	}
	return argv;
}

static int
mda_commit(struct deliver *d, struct pm_err *err)
{
	struct timespec	 pause = { 0, 1000 * 1000 };
	char		**argv, *sender;
	double		  deadline;
	pid_t		  pid;
	int		  status, killed = 0, rv = -1;

	sender = deliver_sender(d->fd);
	argv = mda_args(d->argv, d->acct, sender);
	free(sender);
	if (lseek(d->fd, 0, SEEK_SET) == -1) {
		err_set(err, EX_IOERR, "spool file: %s", strerror(errno));
		goto out;
	}
	fflush(stderr);
	switch ((pid = fork())) {
	case -1:
		err_set(err, EX_OSERR, "fork: %s", strerror(errno));
		goto out;
	case 0:
		/* Its own process group, so a timeout kills all of it. */
		setpgid(0, 0);
		/* stdin is the message; stdout joins stderr, for cron. */
		if (dup2(d->fd, STDIN_FILENO) == -1 ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(EX_OSERR);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "pullmail: mda %s: %s\n", argv[0],
		    strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid);	/* also here: no race with the child */
	deadline = mono_now() + d->acct->mda_timeout;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR) {
			err_set(err, EX_OSERR, "waitpid: %s", strerror(errno));
			goto out;
		}
		if (!killed && mono_now() >= deadline) {
			kill(-pid, SIGTERM);
			killed = 1;
			deadline = mono_now() + 5;
		} else if (killed == 1 && mono_now() >= deadline) {
			kill(-pid, SIGKILL);
			killed = 2;
		}
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 50 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
	if (killed) {
		/* What the hung MDA started, in its group, goes with it. */
		kill(-pid, SIGKILL);
		err_set(err, EX_IOERR, "mda %s did not finish in %d seconds "
		    "and was killed; the message stays on the server", argv[0],
		    d->acct->mda_timeout);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rv = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == EX_TEMPFAIL) {
		err_set(err, EX_TEMPFAIL, "mda %s exited 75 (EX_TEMPFAIL); the "
		    "message stays on the server for the next run", argv[0]);
	} else if (WIFEXITED(status)) {
		const char *name = sysexit_name(WEXITSTATUS(status));
		err_set(err, EX_IOERR, "mda %s exited %d%s%s%s; the message "
		    "stays on the server", argv[0], WEXITSTATUS(status),
		    *name ? " (" : "", name, *name ? ")" : "");
	} else {
		err_set(err, EX_IOERR, "mda %s was killed by signal %d (%s); "
		    "the message stays on the server", argv[0],
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	}
out:
	free_words(argv);
	return rv;
}

static int
mda_sync(struct deliver *d, struct pm_err *err)
{
	return 0;	/* exit 0 from the MDA is its promise of durability */
}

static void
mda_abort(struct deliver *d)
{
}

const struct deliver_ops mda_ops = {
	"mda",
	deliver_spool_begin,
	mda_commit,
	mda_sync,
	mda_abort,
	NULL
};
