/*
 * Where the password comes from: the config file, a command run without a
 * shell, or a prompt when a person is at the terminal. Never a command
 * line, never a log; wiped after use.
 */

#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <readpassphrase.h>
#include <signal.h>
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
	    "password_command (no terminal to ask on)");
	return NULL;
}
