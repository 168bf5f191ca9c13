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
#include <readpassphrase.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "pullmail.h"

/* Run password_command; its first output line is the password. */
static char *
password_from_command(const struct account *a, struct pm_err *err)
{
	char		**argv = NULL, *buf = NULL, *nl;
	const char	 *why;
	size_t		  len = 0;
	ssize_t		  n;
	pid_t		  pid;
	int		  fds[2] = { -1, -1 }, status;

	if (split_words(a->password_command, &argv, &why) == -1) {
		err_set(err, EX_CONFIG, "password_command: %s", why);
		return NULL;
	}
	if (pipe2(fds, O_CLOEXEC) == -1)
		fatalx("pipe: %s", strerror(errno));
	switch ((pid = fork())) {
	case -1:
		fatalx("fork: %s", strerror(errno));
	case 0:
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "pullmail: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	buf = xmalloc(PM_PASS_MAX + 1);
	for (;;) {
		n = read(fds[0], buf + len, PM_PASS_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len == PM_PASS_MAX)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	buf[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			err_set(err, EX_CONFIG, "password_command %s "
			    "exited %d", argv[0], WEXITSTATUS(status));
		else
			err_set(err, EX_CONFIG, "password_command %s "
			    "killed by signal %d", argv[0],
			    WTERMSIG(status));
		goto fail;
	}
	if ((nl = memchr(buf, '\n', len)) != NULL)
		*nl = '\0';
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0) {
		err_set(err, EX_CONFIG, "password_command %s printed no "
		    "password", argv[0]);
		goto fail;
	}
	free_words(argv);
	return buf;
fail:
	free_words(argv);
	freezero(buf, PM_PASS_MAX + 1);
	return NULL;
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
 * The password for an account, allocated; the caller wipes it with
 * freezero_str once the login is done.
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

		buf = xmalloc(PM_PASS_MAX + 1);
		snprintf(prompt, sizeof(prompt), "Password for %s@%s: ",
		    a->user, a->host);
		if (readpassphrase(prompt, buf, PM_PASS_MAX + 1,
		    RPP_REQUIRE_TTY) == NULL || buf[0] == '\0') {
			freezero(buf, PM_PASS_MAX + 1);
			err_set(err, EX_CONFIG, "no password given");
			return NULL;
		}
		return buf;
	}
	err_set(err, EX_CONFIG, "no password: set password or "
	    "password_command, or add the account to ~/.netrc (no terminal "
	    "to ask on)");
	return NULL;
}
