/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Where the password comes from: the config file, a command run without a
 * shell, or a prompt when a person is at the terminal. Never a command
 * line, never a log; wiped after use.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <readpassphrase.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

#define PWCMD_SLICE_MS	1000	/* a wait looks at fetch_stop this often */

/*
 * Whether we are in the foreground of our controlling terminal. A
 * password_command may then ask for a passphrase on it, which it can do
 * only in our process group: in a group of its own, reading the terminal
 * or setting its modes would stop it (SIGTTIN, SIGTTOU).
 */
static int
tty_foreground(void)
{
	pid_t	 pg;
	int	 fd;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return 0;
	pg = tcgetpgrp(fd);
	close(fd);
	return pg != -1 && pg == getpgrp();
}

/* Milliseconds left until deadline, at most PWCMD_SLICE_MS; 0 if none. */
static int
slice_ms(double deadline)
{
	double	 left = (deadline - mono_now()) * 1000;

	if (left <= 0)
		return 0;
	return left > PWCMD_SLICE_MS ? PWCMD_SLICE_MS : (int)left + 1;
}

/*
 * Run password_command; its first output line (without its line end) is
 * the password, at most PM_PASS_MAX bytes, and holds no NUL byte. What
 * follows that line is read (a command must not die of SIGPIPE) and wiped.
 * The command runs without a shell, in a process group of its own (killed
 * whole if it does not finish within password_command_timeout) unless
 * pullmail is in the foreground of a terminal, where the command may ask
 * for a passphrase. Returns the password, allocated to its size, or NULL
 * with err set: 75 if it timed out or a signal stopped us, 71 if it could
 * not be started for want of resources, 78 otherwise.
 */
static char *
password_from_command(const struct account *a, struct pm_err *err)
{
	char		**argv = NULL, *buf = NULL, *pw = NULL, *nl;
	char		  scratch[4096];
	const char	 *why;
	size_t		  len = 0, size = PM_PASS_MAX + 3, line;
	ssize_t		  n;
	struct timespec	  pause = { 0, 1000 * 1000 };
	struct pollfd	  pfd;
	double		  deadline;
	pid_t		  pid, r;
	int		  out[2] = { -1, -1 }, ex[2] = { -1, -1 }, status = 0;
	int		  group, eol = 0, exerr = 0, timedout = 0, stopped = 0;
	int		  toolong = 0, done = 0;

	if (split_words(a->password_command, &argv, &why) == -1) {
		err_set(err, EX_CONFIG, "password_command: %s", why);
		return NULL;
	}
	/* ex: the child's errno if exec fails; closed by a successful exec. */
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(ex, O_CLOEXEC) == -1) {
		err_set(err, EX_OSERR, "password_command %s: cannot start it: "
		    "pipe: %s", argv[0], strerror(errno));
		goto fail;
	}
	group = !tty_foreground();
	fflush(stderr);
	switch ((pid = fork())) {
	case -1:
		err_set(err, EX_OSERR, "password_command %s: cannot start it: "
		    "fork: %s", argv[0], strerror(errno));
		goto fail;
	case 0:
		if (group)
			setpgid(0, 0);
		if (dup2(out[1], STDOUT_FILENO) != -1) {
			signal(SIGPIPE, SIG_DFL);
			execvp(argv[0], argv);
		}
		exerr = errno;
		if (write(ex[1], &exerr, sizeof(exerr)) == -1)
			_exit(127);
		_exit(127);
	}
	if (group)
		setpgid(pid, pid);	/* also here: no race with the child */
	close(out[1]);
	close(ex[1]);
	out[1] = ex[1] = -1;
	while ((n = read(ex[0], &exerr, sizeof(exerr))) == -1 &&
	    errno == EINTR)
		;
	if (n != sizeof(exerr))
		exerr = 0;

	buf = xmalloc(size);
	deadline = mono_now() + a->password_command_timeout;
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (!exerr) {
		if (fetch_stop) {
			stopped = 1;
			break;
		}
		if (slice_ms(deadline) == 0) {
			timedout = 1;
			break;
		}
		if ((n = poll(&pfd, 1, slice_ms(deadline))) == -1 &&
		    errno != EINTR)
			fatalx("poll: %s", strerror(errno));
		if (n <= 0)
			continue;	/* a signal, or a slice gone by */
		if (eol)
			n = read(out[0], scratch, sizeof(scratch));
		else
			n = read(out[0], buf + len, size - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the end (or an error: the same) */
		if (eol) {
			explicit_bzero(scratch, n);
			continue;
		}
		eol = memchr(buf + len, '\n', n) != NULL;
		len += n;
		if (!eol && len == size - 1) {
			toolong = 1;
			break;
		}
	}
	/* Its output is closed: now it ends, or is ended. */
	while (!exerr && !stopped && !timedout && !toolong) {
		if ((r = waitpid(pid, &status, WNOHANG)) == pid) {
			done = 1;
			break;
		}
		if (r == -1 && errno != EINTR)
			fatalx("waitpid: %s", strerror(errno));
		if (fetch_stop)
			stopped = 1;
		else if (slice_ms(deadline) == 0)
			timedout = 1;
		else {
			nanosleep(&pause, NULL);
			if (pause.tv_nsec < 50 * 1000 * 1000)
				pause.tv_nsec *= 2;
		}
	}
	if (!done) {
		/* What it started in its group goes with it. */
		kill(group ? -pid : pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}

	if (exerr)
		err_set(err, EX_CONFIG, "password_command %s: cannot run it: "
		    "%s", argv[0], strerror(exerr));
	else if (stopped)
		err_set(err, EX_TEMPFAIL, "password_command %s: stopped by a "
		    "signal", argv[0]);
	else if (timedout)
		err_set(err, EX_TEMPFAIL, "password_command %s did not finish "
		    "in %d seconds (password_command_timeout) and was killed",
		    argv[0], a->password_command_timeout);
	else if (toolong)
		err_set(err, EX_CONFIG, "password_command %s printed a first "
		    "line longer than %d bytes, the limit for a password or "
		    "token", argv[0], PM_PASS_MAX);
	else if (WIFSIGNALED(status))
		err_set(err, EX_CONFIG, "password_command %s was killed by "
		    "signal %d (%s)", argv[0], WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0) {
		const char *name = sysexit_name(WEXITSTATUS(status));

		err_set(err, EX_CONFIG, "password_command %s exited %d%s%s%s",
		    argv[0], WEXITSTATUS(status), *name ? " (" : "", name,
		    *name ? ")" : "");
	}
	if (err->status != 0)
		goto fail;
	line = (nl = memchr(buf, '\n', len)) != NULL ? (size_t)(nl - buf) :
	    len;
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	if (len == 0)
		err_set(err, EX_CONFIG, "password_command %s printed nothing",
		    argv[0]);
	else if (line == 0)
		err_set(err, EX_CONFIG, "password_command %s printed an empty "
		    "first line", argv[0]);
	else if (line > PM_PASS_MAX)
		err_set(err, EX_CONFIG, "password_command %s printed a first "
		    "line longer than %d bytes, the limit for a password or "
		    "token", argv[0], PM_PASS_MAX);
	else if (memchr(buf, '\0', line) != NULL)
		err_set(err, EX_CONFIG, "password_command %s printed a NUL "
		    "byte in its first line (a password cannot hold one)",
		    argv[0]);
	else
		pw = xstrndup(buf, line);
fail:
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (ex[0] != -1)
		close(ex[0]);
	if (ex[1] != -1)
		close(ex[1]);
	if (buf != NULL)
		freezero(buf, size);
	explicit_bzero(scratch, sizeof(scratch));
	free_words(argv);
	return pw;
}

/* The next token of a .netrc: blank-separated, or in double quotes. */
static char *
netrc_token(char **sp)
{
	char	*s = *sp, *start;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0') {
		*sp = s;
		return NULL;
	}
	if (*s == '"') {
		start = ++s;
		while (*s != '"' && *s != '\0')
			s++;
	} else {
		start = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			s++;
	}
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return start;
}

struct netrc_entry {
	int	 used;		/* a machine or default entry is open */
	int	 isdefault;
	char	*machine;
	char	*login;
	char	*password;
};

/*
 * A finished entry: 1 if it is the one for host and user (a machine entry
 * wins at once), with *fallback set from the first usable default entry.
 */
static int
netrc_consider(const struct netrc_entry *e, const char *host, const char *user,
    const char **best, const char **fallback)
{
	if (!e->used || e->password == NULL ||
	    (e->login != NULL && strcmp(e->login, user) != 0))
		return 0;
	if (!e->isdefault && e->machine != NULL &&
	    strcasecmp(e->machine, host) == 0) {
		*best = e->password;
		return 1;
	}
	if (e->isdefault && *fallback == NULL)
		*fallback = e->password;
	return 0;
}

#define NETRC_MAX	(1024 * 1024)

/*
 * Read the whole of an open .netrc, NUL-terminated, into *bufp (*sizep
 * bytes allocated, for freezero). Every step that can fail is an error
 * naming the file: a .netrc that is there but unusable is never passed
 * over in silence.
 */
static int
netrc_read(int fd, const char *path, struct stat *st, char **bufp,
    size_t *sizep, struct pm_err *err)
{
	char		*buf;
	size_t		 size, len = 0;
	ssize_t		 n;
	int		 flags;

	if (fstat(fd, st) == -1) {
		err_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		err_set(err, EX_CONFIG, "%s: not a regular file", path);
		return -1;
	}
	if (st->st_size > NETRC_MAX) {
		err_set(err, EX_CONFIG, "%s: larger than 1 MB, too large "
		    "for a .netrc", path);
		return -1;
	}
	/* Opened without blocking (a FIFO would have hung): block again. */
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		err_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * What fstat saw, read in as many reads as it takes (a file that
	 * grows meanwhile is read as it was).
	 */
	size = st->st_size + 1;
	buf = xmalloc(size);
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, EX_CONFIG, "%s: %s", path, strerror(errno));
			freezero(buf, size);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*sizep = size;
	return 0;
}

/*
 * The password for host and user from a .netrc: a "machine" entry whose
 * login matches or is absent, else a "default" entry; NULL if none (and
 * err untouched), or NULL with err set. No .netrc at all is not an error;
 * one that is there but is no regular file, or cannot be read, is. As ftp
 * and curl do, a password is only taken from a .netrc of the user's own
 * that nobody else may read or write. A symbolic link is followed (dotfile
 * managers make them); every check is on the opened file.
 */
char *
netrc_password(const char *path, const char *host, const char *user,
    struct pm_err *err)
{
	struct netrc_entry	 e;
	struct stat		 st;
	const char		*best = NULL, *fallback = NULL;
	char			*buf, *s, *t, *found = NULL;
	size_t			 size;
	int			 fd;

	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			err_set(err, EX_CONFIG, "%s: %s", path,
			    strerror(errno));
		return NULL;
	}
	if (netrc_read(fd, path, &st, &buf, &size, err) == -1) {
		close(fd);
		return NULL;
	}
	close(fd);
	memset(&e, 0, sizeof(e));
	for (s = buf; (t = netrc_token(&s)) != NULL; ) {
		if (strcmp(t, "machine") == 0 || strcmp(t, "default") == 0) {
			if (netrc_consider(&e, host, user, &best, &fallback))
				break;
			memset(&e, 0, sizeof(e));
			e.used = 1;
			e.isdefault = strcmp(t, "default") == 0;
			if (!e.isdefault)
				e.machine = netrc_token(&s);
		} else if (strcmp(t, "login") == 0)
			e.login = netrc_token(&s);
		else if (strcmp(t, "password") == 0)
			e.password = netrc_token(&s);
		else if (strcmp(t, "macdef") == 0) {
			/* A macro runs to the next blank line. */
			char *end = strstr(s, "\n\n");
			s = end != NULL ? end + 2 : s + strlen(s);
		}
	}
	if (best == NULL)
		netrc_consider(&e, host, user, &best, &fallback);
	if (best == NULL)
		best = fallback;
	if (best != NULL && (st.st_mode & 077) != 0)
		err_set(err, EX_CONFIG, "%s: holds a password but is mode %04o: "
		    "run chmod 600 %s", path, (unsigned int)(st.st_mode & 07777),
		    path);
	else if (best != NULL && st.st_uid != geteuid())
		err_set(err, EX_CONFIG, "%s: holds a password but is owned by "
		    "uid %u, not you (uid %u)", path, (unsigned int)st.st_uid,
		    (unsigned int)geteuid());
	else if (best != NULL)
		found = xstrdup(best);
	freezero(buf, size);
	return found;
}

/*
 * The password for an account, allocated to its size (no byte of it is
 * left elsewhere in memory); the caller wipes it with freezero_str once
 * the login is done.
 */
char *
auth_password(const struct account *a, struct pm_err *err)
{
	char	*buf;

	if (a->password != NULL)
		return xstrdup(a->password);
	if (a->password_command != NULL)
		return password_from_command(a, err);
	{
		char *home = path_expand("~"), *path;

		xasprintf(&path, "%s/.netrc", home);
		buf = netrc_password(path, a->host, a->user, err);
		free(path);
		free(home);
		if (buf != NULL || err->status != 0)
			return buf;
	}
	if (isatty(STDIN_FILENO)) {
		char prompt[512];

		char *pw = NULL;

		/* One byte more than a password may have: too long shows. */
		buf = xmalloc(PM_PASS_MAX + 2);
		snprintf(prompt, sizeof(prompt), "Password for %s@%s: ",
		    a->user, a->host);
		if (readpassphrase(prompt, buf, PM_PASS_MAX + 2,
		    RPP_REQUIRE_TTY) == NULL || buf[0] == '\0')
			err_set(err, EX_CONFIG, "no password given");
		else if (strlen(buf) > PM_PASS_MAX)
			err_set(err, EX_CONFIG, "the password typed is longer "
			    "than %d bytes", PM_PASS_MAX);
		else
			pw = xstrdup(buf);
		freezero(buf, PM_PASS_MAX + 2);
		return pw;
	}
	err_set(err, EX_CONFIG, "no password: set password or "
	    "password_command, or add the account to ~/.netrc (no terminal "
	    "to ask on)");
	return NULL;
}
