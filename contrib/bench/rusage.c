/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * rusage OUTFILE COMMAND [ARG...]: run COMMAND, wait for it with wait4 and
 * write "status utime stime maxrss_kb" (seconds with microseconds) to
 * OUTFILE; exit with COMMAND's exit status.
 *
 * Why not measure from Python directly: Linux carries a process's peak RSS
 * across execve, so a child forked from the Python driver (~20 MB) would
 * report at least the driver's size.  Forked from this small program, the
 * command's ru_maxrss is its own (plus this program's ~1 MB at most).
 * utime and stime include every descendant the command waited for.
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage	 ru;
	FILE		*f;
	pid_t		 pid;
	int		 status, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUTFILE COMMAND [ARG...]\n");
		return 125;
	}
	if ((pid = fork()) == -1) {
		perror("rusage: fork");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR) {
			perror("rusage: wait4");
			return 125;
		}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if ((f = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 125;
	}
	fprintf(f, "%d %ld.%06ld %ld.%06ld %ld\n", rc,
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	    (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
	fclose(f);
	return rc;
}
