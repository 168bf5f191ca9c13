/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* Word splitting, sizes for people, paths, escaping. */

#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

/* netrc_password on path: expect an error holding want (78), or none. */
static void
netrc_err(const char *path, const char *host, const char *want,
    const char *what)
{
	struct pm_err	 err = { 0, NULL };
	char		*p;
	int		 good;

	p = netrc_password(path, host, "joe", &err);
	if (want == NULL)
		good = p == NULL && err.status == 0;
	else
		good = p == NULL && err.status == 78 && err.msg != NULL &&
		    strncmp(err.msg, path, strlen(path)) == 0 &&
		    strstr(err.msg, want) != NULL &&
		    strchr(err.msg, '\n') == NULL;
	ok(good, "%s", what);
	if (!good)
		printf("#   got:  %s (status %d%s)\n#   want: %s\n",
		    err.msg ? err.msg : "(no error)", err.status,
		    p != NULL ? ", a password" : "", want ? want : "no error");
	free(p);
	err_clear(&err);
}

/*
 * password_command cmd (timeout secs) gives want, or fails with status
 * and a message holding msg.
 */
static void
pwcmd(const char *cmd, int secs, const char *want, int status,
    const char *msg, const char *what)
{
	struct account	 a;
	struct pm_err	 err = { 0, NULL };
	char		*p;
	int		 good;

	memset(&a, 0, sizeof(a));
	a.name = (char *)"work";
	a.host = (char *)"pop.example.net";
	a.user = (char *)"joe";
	a.password_command = (char *)cmd;
	a.password_command_timeout = secs;
	p = auth_password(&a, &err);
	if (want != NULL)
		good = p != NULL && strcmp(p, want) == 0 && err.status == 0;
	else
		good = p == NULL && err.status == status && err.msg != NULL &&
		    strstr(err.msg, msg) != NULL &&
		    strchr(err.msg, '\n') == NULL;
	ok(good, "password_command: %s", what);
	if (!good)
		printf("#   got:  %.60s%s (status %d: %s)\n", p ? p : "(null)",
		    p && strlen(p) > 60 ? "..." : "", err.status,
		    err.msg ? err.msg : "no error");
	freezero_str(p);
	err_clear(&err);
}

/* Whether we are in the foreground of a terminal (as auth.c sees it). */
static int
tty_foreground(void)
{
	int	 fd = open("/dev/tty", O_RDWR | O_NOCTTY), r;

	if (fd == -1)
		return 0;
	r = tcgetpgrp(fd) == getpgrp();
	close(fd);
	return r;
}

/* Whether process pid is gone (or a zombie nobody reaps), within 5 s. */
static int
gone(pid_t pid)
{
	char	 path[64], buf[512], *s;
	FILE	*f;
	int	 i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 100; i++) {
		if ((f = fopen(path, "r")) == NULL)
			return 1;
		s = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (s != NULL && (s = strrchr(buf, ')')) != NULL &&
		    (s[2] == 'Z' || s[2] == 'X'))
			return 1;
		usleep(50000);
	}
	return 0;
}

/*
 * log_vis of in (or of its first strlen(cut) bytes, cut being in's
 * beginning) is want.
 */
static void
vis_is(const char *in, const char *cut, const char *want, const char *what)
{
	char	*v = log_vis(in, cut != NULL ? strlen(cut) : strlen(in));

	is_str(v, want, what);
	free(v);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*f;

	unlink(path);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
words(const char *in, const char *want)
{
	char		**w, buf[512] = "";
	const char	 *why;
	size_t		  i;

	if (split_words(in, &w, &why) == -1) {
		is_str(why, want, in);
		return;
	}
	for (i = 0; w[i] != NULL; i++) {
		strlcat(buf, "<", sizeof(buf));
		strlcat(buf, w[i], sizeof(buf));
		strlcat(buf, ">", sizeof(buf));
	}
	free_words(w);
	is_str(buf, want, in);
}

int
main(void)
{
	char	 hs[32], *p;

	words("procmail -d joe", "<procmail><-d><joe>");
	words("  spaced\t out  ", "<spaced><out>");
	words("sh -c 'exec procmail -d \"$USER\"'",
	    "<sh><-c><exec procmail -d \"$USER\">");
	words("a\\ b \"c d\" 'e\\f'", "<a b><c d><e\\f>");
	words("\"x\\\"y\\$z\\q\"", "<x\"y$z\\q>");
	words("''", "<>");
	words("a''b", "<ab>");
	words("'unterminated", "unterminated single quote");
	words("\"unterminated", "unterminated double quote");
	words("trailing\\", "backslash at end of command");
	words("   ", "empty command");

	is_str(human_size(0, hs, sizeof(hs)), "0 B", "0 B");
	is_str(human_size(999, hs, sizeof(hs)), "999 B", "999 B");
	is_str(human_size(1400, hs, sizeof(hs)), "1.4 KB", "1.4 KB");
	is_str(human_size(1400000, hs, sizeof(hs)), "1.4 MB", "1.4 MB");
	is_str(human_size(999999, hs, sizeof(hs)), "1.0 MB", "rounds up a unit");
	is_str(human_size(2500000000ULL, hs, sizeof(hs)), "2.5 GB", "2.5 GB");

	setenv("HOME", "/home/joe", 1);
	p = path_expand("~/Mail");
	is_str(p, "/home/joe/Mail", "~/ expanded");
	free(p);
	p = path_expand("~other/x");
	is_str(p, "~other/x", "~user is left alone");
	free(p);
	p = path_tilde("/home/joe/Mail");
	is_str(p, "~/Mail", "home shown as ~");
	free(p);
	p = path_tilde("/home/joella");
	is_str(p, "/home/joella", "prefix that is not the home");
	free(p);

	p = log_vis("a\x1b[31mb\r\n\x7f\xc3", 11);
	ok(strchr(p, '\x1b') == NULL && strchr(p, '\r') == NULL &&
	    strchr(p, '\n') == NULL && strchr(p, '\x7f') == NULL &&
	    strchr(p, '\xc3') == NULL, "escape sequences neutralised");
	printf("# %s\n", p);
	free(p);

	/* Registered secrets never show in log_vis, raw or cut short. */
	vis_is("-ERR bad password hunter2 for joe", NULL,
	    "-ERR bad password hunter2 for joe", "no secret: text as it is");
	log_secret_add("hunter2");
	log_secret_add("hunter2");	/* the same twice: one entry */
	log_secret_add("");		/* the empty string: no secret */
	log_secret_add("p");		/* too short to hide */
	vis_is("stopped", NULL, "stopped", "a secret of 1 byte is not hidden");
	vis_is("-ERR bad password hunter2 for joe", NULL,
	    "-ERR bad password *** for joe", "a secret is replaced by ***");
	vis_is("hunter2hunter2", NULL, "******", "every occurrence");
	vis_is("-ERR bad password hunter2 for joe", "-ERR bad password hunt",
	    "-ERR bad password ***", "a secret cut short at the end");
	vis_is("-ERR in", NULL, "-ERR in",
	    "three bytes of a secret at the end are left alone");
	vis_is("hunte", NULL, "***", "four or more are not");
	log_secret_add("Pw\\\xc3\xa9x");
	vis_is("-ERR Pw\\\xc3\xa9x!", NULL, "-ERR ***!",
	    "a secret that escaping would change: replaced before");
	vis_is("-ERR Pw\\\xc3\xa9y", NULL, "-ERR Pw\\\\\\303\\251y",
	    "not the secret: escaped as usual");
	log_secret_add("hunter2-long");
	vis_is("hunter2-long", NULL, "***", "the longest secret that matches");
	{
		char	 path[] = "/tmp/pm-log-XXXXXX", buf[256] = "";
		int	 fd = mkstemp(path), saved = dup(STDERR_FILENO);
		ssize_t	 n;

		dup2(fd, STDERR_FILENO);
		log_warnx("%s: the password is %s", "acct", "hunter2-long");
		log_warnx("%s: hunter2 is a word here", "acct");
		dup2(saved, STDERR_FILENO);
		close(saved);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		is_str(buf, "pullmail: acct: the password is ***\n"
		    "pullmail: acct: hunter2 is a word here\n",
		    "a line logged never holds a secret of 8 bytes or more "
		    "either (a shorter one may be a word)");
		close(fd);
		unlink(path);
	}
	log_secret_clear();
	vis_is("-ERR bad password hunter2", NULL,
	    "-ERR bad password hunter2", "cleared: no secret any more");

	/* ~/.netrc */
	{
		char	 dir[] = "/tmp/pm-netrc-XXXXXX", path[300];
		struct pm_err err = { 0, NULL };
		FILE	*f;

		mkdtemp(dir);
		snprintf(path, sizeof(path), "%s/netrc", dir);
		f = fopen(path, "w");
		fputs("default login joe password dflt\n"
		    "machine other.example login joe password nope\n"
		    "macdef init\nmachine pop.example.net password evil\n\n"
		    "machine pop.example.net login ann password annpw\n"
		    "machine POP.example.net\n  login joe\n  password \"s p\"\n",
		    f);
		fclose(f);
		chmod(path, 0600);
		p = netrc_password(path, "pop.example.net", "joe", &err);
		is_str(p, "s p", "netrc: machine and login match, quoted value");
		free(p);
		p = netrc_password(path, "pop.example.net", "ann", &err);
		is_str(p, "annpw", "netrc: the entry for that login");
		free(p);
		p = netrc_password(path, "elsewhere.example", "joe", &err);
		is_str(p, "dflt", "netrc: default entry as the fallback");
		free(p);
		p = netrc_password(path, "elsewhere.example", "bob", &err);
		ok(p == NULL, "netrc: no entry for that login");
		chmod(path, 0644);
		p = netrc_password(path, "pop.example.net", "joe", &err);
		ok(p == NULL && err.status == 78 &&
		    strstr(err.msg, "mode 0644") != NULL,
		    "netrc readable by others: refused");
		err_clear(&err);
		netrc_err(path, "pop.example.net", "run chmod 600", "netrc: "
		    "the message says how to fix it");
		chmod(path, 0640);
		netrc_err(path, "pop.example.net", "mode 0640",
		    "netrc readable by the group: refused, mode named");
		chmod(path, 0620);
		netrc_err(path, "pop.example.net", "mode 0620",
		    "netrc writable by the group: refused");
		chmod(path, 0600);
		{
			char	 link[300], other[300];

			/* A dotfile manager's symlink is followed. */
			snprintf(link, sizeof(link), "%s/link", dir);
			symlink(path, link);
			p = netrc_password(link, "pop.example.net", "joe", &err);
			is_str(p, "s p", "netrc: a symbolic link is followed");
			free(p);
			snprintf(other, sizeof(other), "%s/link2", dir);
			symlink("link", other);
			p = netrc_password(other, "pop.example.net", "joe",
			    &err);
			is_str(p, "s p", "netrc: a chain of links is followed");
			free(p);
			/* Through the link, the target's mode is checked. */
			chmod(path, 0644);
			netrc_err(link, "pop.example.net", "mode 0644",
			    "netrc: mode checked on the link's target");
			chmod(path, 0600);
			unlink(other);
			unlink(link);
			/* A link to nothing: no netrc. */
			symlink("absent", link);
			netrc_err(link, "pop.example.net", NULL,
			    "netrc: a dangling link is no netrc");
			unlink(link);
		}
		/* Not owned by the user: refused, even at mode 0600. */
		if (geteuid() == 0) {
			chown(path, 65534, 65534);
			netrc_err(path, "pop.example.net", "owned by uid 65534",
			    "netrc owned by another user: refused");
			chown(path, 0, 0);
		} else
			skip("netrc owned by another user: refused",
			    "not root: cannot give a file away");
		/* Mode and owner matter only when a password is used. */
		write_file(path, "machine other.example login joe password x\n",
		    0644);
		netrc_err(path, "pop.example.net", NULL, "netrc: no entry for "
		    "the host, readable by others: nothing, no error");
		write_file(path, "machine pop.example.net login joe\n", 0644);
		netrc_err(path, "pop.example.net", NULL, "netrc: entry without "
		    "a password, readable by others: nothing, no error");
		if (geteuid() == 0) {
			chown(path, 65534, 65534);
			netrc_err(path, "pop.example.net", NULL, "netrc: "
			    "another user's, no password used: no error");
			chown(path, 0, 0);
		} else
			skip("netrc: another user's, no password used: no error",
			    "not root: cannot give a file away");
		/* Unreadable: an error, not "no netrc". */
		chmod(path, 0);
		if (geteuid() != 0)
			netrc_err(path, "pop.example.net", "Permission denied",
			    "netrc unreadable: error naming the file");
		else {
			/* Root reads any file: look as nobody instead. */
			pid_t	 pid;
			int	 status = -1;

			fflush(stdout);
			if ((pid = fork()) == 0) {
				struct pm_err	 e = { 0, NULL };
				char		*pw;

				if (setgid(65534) == -1 || setuid(65534) == -1)
					_exit(2);
				pw = netrc_password(path, "pop.example.net",
				    "joe", &e);
				_exit(pw == NULL && e.status == 78 &&
				    e.msg != NULL &&
				    strncmp(e.msg, path, strlen(path)) == 0 &&
				    strstr(e.msg, "Permission denied") != NULL ?
				    0 : 1);
			}
			if (pid > 0)
				waitpid(pid, &status, 0);
			ok(pid > 0 && WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0,
			    "netrc unreadable (looked at as nobody): error "
			    "naming the file");
		}
		/* Too large, and the size limit is checked on the descriptor. */
		{
			int	 fd;

			chmod(path, 0600);
			fd = open(path, O_WRONLY | O_TRUNC);
			ftruncate(fd, 1024 * 1024 + 1);
			close(fd);
			netrc_err(path, "pop.example.net", "larger than 1 MB",
			    "netrc over 1 MB: error");
			fd = open(path, O_WRONLY | O_TRUNC);
			ftruncate(fd, 1024 * 1024);
			close(fd);
			netrc_err(path, "pop.example.net", NULL,
			    "netrc of exactly 1 MB (of NULs): read, no entry");
		}
		/* A long file whose entry is at the end: read to EOF. */
		{
			FILE	*f2;
			int	 i;

			f2 = fopen(path, "w");
			for (i = 0; i < 20000; i++)
				fprintf(f2, "machine m%d.example login joe "
				    "password pw%d\n", i, i);
			fputs("machine pop.example.net login joe password "
			    "last\n", f2);
			fclose(f2);
			chmod(path, 0600);
			p = netrc_password(path, "pop.example.net", "joe", &err);
			is_str(p, "last", "netrc: a large file read to its end");
			free(p);
		}
		unlink(path);
		/* A directory and a FIFO: errors, and a FIFO does not hang. */
		mkdir(path, 0700);
		netrc_err(path, "pop.example.net", "not a regular file",
		    "netrc that is a directory: error");
		rmdir(path);
		mkfifo(path, 0600);
		signal(SIGALRM, SIG_DFL);
		alarm(10);
		netrc_err(path, "pop.example.net", "not a regular file",
		    "netrc that is a FIFO: error, at once");
		alarm(0);
		unlink(path);
		netrc_err(path, "pop.example.net", NULL,
		    "no netrc: nothing, no error");
		/* A path through a file: an error, not "no netrc". */
		write_file(path, "", 0600);
		{
			char	 sub[310];

			snprintf(sub, sizeof(sub), "%s/x", path);
			netrc_err(sub, "pop.example.net", "Not a directory",
			    "netrc path through a file: error");
		}
		unlink(path);

		/* auth_password: ~/.netrc, then on to the next source. */
		{
			struct account	 a;
			char		 home[300];
			int		 nul;

			memset(&a, 0, sizeof(a));
			a.host = (char *)"pop.example.net";
			a.user = (char *)"joe";
			a.name = (char *)"work";
			snprintf(home, sizeof(home), "%s/.netrc", dir);
			write_file(home, "machine pop.example.net login joe "
			    "password frometrc\n", 0600);
			setenv("HOME", dir, 1);
			/* No terminal: the last source is an error. */
			nul = open("/dev/null", O_RDONLY);
			dup2(nul, STDIN_FILENO);
			close(nul);
			p = auth_password(&a, &err);
			is_str(p, "frometrc", "auth_password: from ~/.netrc");
			free(p);
			a.host = (char *)"elsewhere.example";
			p = auth_password(&a, &err);
			ok(p == NULL && err.status == 78 &&
			    strstr(err.msg, "no password") != NULL,
			    "auth_password: no netrc entry for the host: on to "
			    "the next source (here: no terminal, an error)");
			if (err.msg != NULL)
				printf("# %s\n", err.msg);
			err_clear(&err);
			a.host = (char *)"pop.example.net";
			chmod(home, 0604);
			p = auth_password(&a, &err);
			ok(p == NULL && err.status == 78 &&
			    strstr(err.msg, ".netrc: holds a password but is "
			    "mode 0604") != NULL,
			    "auth_password: an unsafe ~/.netrc is an error, "
			    "not passed over");
			err_clear(&err);
			a.password_command = (char *)"echo fromcmd";
			a.password_command_timeout = 10;
			p = auth_password(&a, &err);
			is_str(p, "fromcmd", "auth_password: password_command "
			    "comes before ~/.netrc");
			free(p);
			a.password_command = NULL;
			unlink(home);
			mkdir(home, 0700);
			p = auth_password(&a, &err);
			ok(p == NULL && err.status == 78 &&
			    strstr(err.msg, "/.netrc: not a regular file") !=
			    NULL, "auth_password: a ~/.netrc directory is an "
			    "error");
			err_clear(&err);
			rmdir(home);
			setenv("HOME", "/home/joe", 1);
		}
		rmdir(dir);
	}
	/* password_command: its first line, or one clear error. */
	{
		char	 big[65536 + 3], cmd[256], pidfile[] = "/tmp/pm-pw-XXXXXX";
		FILE	*f;
		long	 pid = 0;
		int	 fd;

		pwcmd("echo s3cret", 10, "s3cret", 0, NULL, "its first line");
		pwcmd("printf 'pw\\r\\nnotes\\n'", 10, "pw", 0, NULL,
		    "CRLF; the lines after the first are not the password");
		pwcmd("sh -c 'echo pw; head -c 300000 /dev/zero'", 10, "pw", 0,
		    NULL, "300 KB after the first line: read to the end");
		pwcmd("printf 'ab\\ncd\\000ef\\n'", 10, "ab", 0, NULL,
		    "a NUL byte after the first line does not matter");
		pwcmd("true", 10, NULL, 78, "password_command true printed "
		    "nothing", "no output: an error");
		pwcmd("printf '\\nsecond'", 10, NULL, 78, "printed an empty "
		    "first line", "an empty first line: an error");
		pwcmd("sh -c 'echo pw; exit 3'", 10, NULL, 78,
		    "password_command sh exited 3", "exit status 3: an error "
		    "naming it");
		pwcmd("sh -c 'exit 78'", 10, NULL, 78, "exited 78 (EX_CONFIG)",
		    "exit status 78: named as a sysexits.h status");
		pwcmd("sh -c 'echo pw; kill -TERM $$'", 10, NULL, 78,
		    "was killed by signal 15", "killed by a signal: an error "
		    "naming it");
		pwcmd("/nonexistent/pwcmd", 10, NULL, 78, "password_command "
		    "/nonexistent/pwcmd: cannot run it: No such file or "
		    "directory", "cannot be started: an error saying why");
		pwcmd("printf 'ab\\000cd\\n'", 10, NULL, 78, "printed a NUL "
		    "byte in its first line", "a NUL byte in the password: "
		    "refused");
		pwcmd("sh -c 'head -c 65537 /dev/zero | tr \"\\\\000\" x'", 10,
		    NULL, 78, "printed a first line longer than 65536 bytes",
		    "65537 bytes without a line end: refused, not cut");
		pwcmd("sh -c 'head -c 65537 /dev/zero | tr \"\\\\000\" x; "
		    "echo'", 10, NULL, 78, "longer than 65536 bytes",
		    "a line of 65537 bytes: refused");
		pwcmd("sh -c 'head -c 200000 /dev/zero | tr \"\\\\000\" x'",
		    10, NULL, 78, "longer than 65536 bytes",
		    "200 KB without a line end: refused");
		memset(big, 'x', 65536);
		big[65536] = '\0';
		pwcmd("sh -c 'head -c 65536 /dev/zero | tr \"\\\\000\" x; "
		    "printf \"\\\\r\\\\n\"'", 10, big, 0, NULL,
		    "a token of 65536 bytes and CRLF: taken whole");
		pwcmd("sleep 30", 1, NULL, 75, "password_command sleep did not "
		    "finish in 1 seconds (password_command_timeout) and was "
		    "killed", "hangs: killed after password_command_timeout");
		pwcmd("sh -c 'echo pw; exec >&-; sleep 30'", 1, NULL, 75,
		    "did not finish in 1 seconds", "closes its output but "
		    "does not exit: killed after the timeout");
		/* What it started goes too, with its process group. */
		fd = mkstemp(pidfile);
		close(fd);
		snprintf(cmd, sizeof(cmd), "sh -c 'sleep 30 & echo $! >%s; "
		    "wait'", pidfile);
		pwcmd(cmd, 1, NULL, 75, "did not finish", "hangs in a child: "
		    "killed");
		if ((f = fopen(pidfile, "r")) != NULL) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (tty_foreground())
			skip("password_command: its child is killed too",
			    "in the foreground of a terminal: no group of its "
			    "own");
		else
			ok(pid > 0 && gone(pid), "password_command: its child "
			    "is killed too (its process group)");
		unlink(pidfile);
	}
	return done();
}
