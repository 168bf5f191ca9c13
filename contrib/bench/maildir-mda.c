/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * maildir-mda DIR: deliver the message on standard input into the Maildir
 * DIR the way a Maildir writer must (and as pullmail, mpop and getmail6
 * do): write it to DIR/tmp/ under a unique name, fsync it, link it into
 * DIR/new/, remove the tmp/ name.  Used as fetchmail's MDA by run.sh, as
 * the cheapest honest way for fetchmail to deliver into a Maildir (fetchmail
 * itself can only deliver by SMTP/LMTP or to an MDA).  Exit 0 on success,
 * 75 (EX_TEMPFAIL) on any failure, so fetchmail keeps the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "maildir-mda: %s: %s\n", what, strerror(errno));
	exit(75);
}

int
main(int argc, char **argv)
{
	char		 host[256], tmp[4096], fin[4096], buf[65536];
	struct timeval	 tv;
	ssize_t		 n, w, off;
	int		 fd;

	if (argc != 2) {
		fprintf(stderr, "usage: maildir-mda DIR\n");
		return 64;
	}
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	gettimeofday(&tv, NULL);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%lld.M%06ldP%ld.%s", argv[1],
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), host);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		die(tmp);
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		for (off = 0; off < n; off += w)
			if ((w = write(fd, buf + off, n - off)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				die("write");
			}
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		die("fsync");
	snprintf(fin, sizeof(fin), "%s/new/%s", argv[1], strrchr(tmp, '/') + 1);
	if (link(tmp, fin) == -1)
		die(fin);
	unlink(tmp);
	return 0;
}
