/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Delivery through an MDA (procmail, maildrop, dovecot-lda, ...). The
 * message is spooled whole first, so a dropped connection never hands a
 * truncated message to the MDA; then the command runs, without a shell,
 * with a pipe as its standard input, through which the spool file is fed
 * to it. Exit 0, having read the whole message, is delivered; 75
 * (EX_TEMPFAIL) leaves the message on the server for the next run; any
 * other status or a signal is a delivery failure, and so is exit 0 with
 * part of the message unread, unless mda_partial_read allows it. An MDA
 * that hangs is killed after mda_timeout.
 *
 * A pipe, not the spool file itself: what an MDA read of a file it shares
 * with us would show in the file offset, but an MDA may read its input
 * with pread (dovecot-lda does), which leaves the offset at 0. Through a
 * pipe, what it read is what we wrote less what is still in the pipe when
 * it exits, however it reads.
 */

#include "config.h"

#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

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
					val = deliver_local_user();
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

/* The MDA's state: its command, split once. */
struct mda {
	char	**argv;
};

static int
mda_open(struct deliver *d, const char *statedir, struct pm_err *err)
{
	struct mda	*m = d->priv;
	const char	*why;

	if (split_words(d->acct->mda, &m->argv, &why) == -1) {
		err_set(err, EX_CONFIG, "mda: %s", why);
		return -1;
	}
	d->path = xstrdup(m->argv[0]);
	d->shown = xstrdup(m->argv[0]);
	return deliver_spool_open(d, statedir, err);
}

/* A failure to feed the MDA: it must not see the end of a partial message. */
static void
mda_feed_error(pid_t pid, const char *what, struct pm_err *err)
{
	err_set(err, EX_IOERR, "%s: %s; the message stays on the server", what,
	    strerror(errno));
	kill(-pid, SIGKILL);
}

static int
mda_commit(struct deliver *d, struct pm_err *err)
{
	struct pollfd	 pfd;
	struct stat	 st;
	char		**argv, *sender, *buf = NULL;
	double		  deadline;
	off_t		  size, sent = 0, got;
	size_t		  blen = 0, boff = 0;
	ssize_t		  n;
	pid_t		  pid = -1, r;
	int		  p[2] = { -1, -1 }, status, killed = 0, failed = 0;
	int		  wait_ms = 1, unread = 0, rv = -1;

	sender = deliver_sender(d->fd);
	argv = mda_args(((struct mda *)d->priv)->argv, d->acct, sender);
	free(sender);
	if (fstat(d->fd, &st) == -1) {
		err_set(err, EX_IOERR, "spool file: %s", strerror(errno));
		goto out;
	}
	size = st.st_size;
	if (pipe(p) == -1 || fcntl(p[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFL, O_NONBLOCK) == -1) {
		err_set(err, EX_OSERR, "pipe: %s", strerror(errno));
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
		if (dup2(p[0], STDIN_FILENO) == -1 ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(EX_OSERR);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "pullmail: mda %s: %s\n", argv[0],
		    strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid);	/* also here: no race with the child */
	buf = xmalloc(PM_WBUF);
	deadline = mono_now() + d->acct->mda_timeout;
	for (;;) {
		/* As much of the message as the pipe takes; then its end. */
		while (p[1] != -1 && !failed) {
			if (boff == blen && sent == size) {
				close(p[1]);
				p[1] = -1;
				break;
			}
			if (boff == blen) {
				n = pread(d->fd, buf, PM_WBUF, sent);
				if (n == -1 && errno == EINTR)
					continue;
				if (n <= 0) {
					if (n == 0)
						errno = EIO;	/* it shrank */
					mda_feed_error(pid, "spool file", err);
					failed = 1;
					break;
				}
				boff = 0;
				blen = n;
			}
			n = write(p[1], buf + boff, blen - boff);
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					break;
				mda_feed_error(pid, "pipe to the mda", err);
				failed = 1;
				break;
			}
			boff += n;
			sent += n;
		}
		r = waitpid(pid, &status, WNOHANG);
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
		/* Woken as soon as the pipe has room, else after wait_ms. */
		pfd.fd = p[1];
		pfd.events = POLLOUT;
		poll(&pfd, p[1] != -1 && !failed ? 1 : 0, wait_ms);
		if (wait_ms < 50)
			wait_ms *= 2;
	}
	/* What the MDA did not read is still in the pipe. */
	if (ioctl(p[0], FIONREAD, &unread) == -1)
		unread = 0;
	got = sent - unread;
	if (failed) {
		/* What hangs on, in its group, goes with it. */
		kill(-pid, SIGKILL);
	} else if (killed) {
		kill(-pid, SIGKILL);
		err_set(err, EX_IOERR, "mda %s did not finish in %d seconds "
		    "and was killed; the message stays on the server", argv[0],
		    d->acct->mda_timeout);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (got == size)
			rv = 0;
		else if (d->acct->mda_partial_read) {
			log_debug("mda %s read %lld of %lld bytes "
			    "(mda_partial_read)", argv[0], (long long)got,
			    (long long)size);
			rv = 0;
		} else
			err_set(err, EX_IOERR, "mda %s exited 0 but read only "
			    "%lld of the message's %lld bytes; the message "
			    "stays on the server (mda_partial_read = yes "
			    "accepts this)", argv[0], (long long)got,
			    (long long)size);
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
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	free(buf);
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

static void
mda_close(struct deliver *d)
{
	struct mda	*m = d->priv;

	free_words(m->argv);
	m->argv = NULL;
}

static char *
mda_label(const char *value)
{
	return xstrdup("the mda");
}

const struct deliver_backend mda_backend = {
	.name = "mda",
	.arg = DARG_CMD,
	.acct_off = offsetof(struct account, mda),
	.flags = DB_SPOOL,
	.psize = sizeof(struct mda),
	.label = mda_label,
	.open = mda_open,
	.begin = deliver_spool_begin,
	.commit = mda_commit,
	.sync = mda_sync,
	.abort = mda_abort,
	.close = mda_close
};
