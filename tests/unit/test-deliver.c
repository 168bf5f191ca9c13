/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Maildir names and delivery: directories made durably; exact bytes,
 * nothing visible on abort; group commit (nothing in new/ before sync,
 * everything after; a failed flush or link fails the whole batch and
 * leaves nothing behind); tmp/ cleanup.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <utime.h>

#include "../../src/pullmail.h"
#include "tap.h"

/*
 * Fault injection: these replace the C library's for the code linked in
 * from libpullmail.a. fail_flush makes every flush fail with that errno;
 * fail_link_at makes the link with that number (from 1) fail with ENOSPC.
 */
static int	 n_syncfs, n_fdatasync, n_link, fail_flush, fail_link_at;

int
syncfs(int fd)
{
	n_syncfs++;
	if (fail_flush) {
		errno = fail_flush;
		return -1;
	}
	return syscall(SYS_syncfs, fd);
}

int
fdatasync(int fd)
{
	n_fdatasync++;
	if (fail_flush) {
		errno = fail_flush;
		return -1;
	}
	return syscall(SYS_fdatasync, fd);
}

int
link(const char *from, const char *to)
{
	if (++n_link == fail_link_at) {
		errno = ENOSPC;
		return -1;
	}
	return linkat(AT_FDCWD, from, AT_FDCWD, to, 0);
}

/*
 * Directory durability: mkdir and fsync are recorded here (with the path
 * each fsync'd descriptor names), so the test can check that every
 * directory made is followed by an fsync of its parent.
 */
#define NEVENTS	64
static struct {
	int	 mkdir;		/* else an fsync */
	char	 path[PATH_MAX];
} events[NEVENTS];
static int	 nevents;

int
mkdir(const char *path, mode_t mode)
{
	int	 r = syscall(SYS_mkdirat, AT_FDCWD, path, mode);

	if (r == 0 && nevents < NEVENTS) {
		events[nevents].mkdir = 1;
		realpath(path, events[nevents++].path);
	}
	return r;
}

int
fsync(int fd)
{
	char	 link[64];
	ssize_t	 n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (nevents < NEVENTS && (n = readlink(link, events[nevents].path,
	    PATH_MAX - 1)) > 0) {
		events[nevents].path[n] = '\0';
		events[nevents++].mkdir = 0;
	}
	return syscall(SYS_fsync, fd);
}

/* Every directory made is fsync'd into its parent afterwards. */
static int
dirs_durable(int want)
{
	char	 parent[PATH_MAX], *slash;
	int	 i, j, made = 0, bad = 0;

	for (i = 0; i < nevents; i++) {
		if (!events[i].mkdir)
			continue;
		made++;
		strlcpy(parent, events[i].path, sizeof(parent));
		if ((slash = strrchr(parent, '/')) != NULL)
			*slash = '\0';
		for (j = i + 1; j < nevents; j++)
			if (!events[j].mkdir &&
			    strcmp(events[j].path, parent) == 0)
				break;
		if (j == nevents) {
			printf("# made %s, then no fsync of %s\n",
			    events[i].path, parent);
			bad = 1;
		}
	}
	if (made != want)
		printf("# %d directories made, expected %d\n", made, want);
	return !bad && made == want;
}

static int
count(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *
only_file(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		*p = NULL;

	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			xasprintf(&p, "%s/%s", dir, de->d_name);
	closedir(d);
	return p;
}

int
main(void)
{
	char		 dir[] = "/tmp/pm-deliver-XXXXXX", md[300], sub[320];
	char		*a, *b, *f, buf[256], big[100000];
	struct account	 acct;
	struct deliver	 d;
	struct pm_err	 err = { 0, NULL };
	struct stat	 st;
	regex_t		 re;
	FILE		*fp;
	struct utimbuf	 ut;
	size_t		 n, i;
	int		 good, mode;

	mkdtemp(dir);

	a = maildir_name("host", 1700000000, 42, 123, 7);
	b = maildir_name("host", 1700000000, 42, 123, 8);
	is_str(a, "1700000000.M000042P123Q7.host", "maildir name format");
	ok(strcmp(a, b) != 0, "sequence makes names unique");
	free(a);
	free(b);
	a = maildir_host();
	ok(strchr(a, '/') == NULL && strchr(a, ':') == NULL && *a != '\0',
	    "host part has no / or :");
	free(a);

	snprintf(md, sizeof(md), "%s/mail/box", dir);
	memset(&acct, 0, sizeof(acct));
	acct.name = (char *)"work";
	acct.maildir = md;
	nevents = 0;
	ok(deliver_open(&d, &acct, dir, &err) == 0, "open creates the Maildir");
	ok(dirs_durable(5), "mail/, mail/box/, its tmp/, new/ and cur/: each "
	    "fsync'd into its parent once made");
	snprintf(sub, sizeof(sub), "%s/cur", md);
	ok(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700, "cur/ created 0700");

	/* One message, delivered in pieces, with 8-bit bytes. */
	ok(deliver_begin(&d, &err) == 0, "begin");
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(count(sub) == 1, "message is in tmp/ while written");
	deliver_write(&d, "Subject: caf\xc3\xa9\n\n", 16, &err);
	deliver_write(&d, "From here\n.\n\xff\n", 14, &err);
	ok(deliver_commit(&d, &err) == 0, "commit");
	ok(count(sub) == 1, "still in tmp/ after commit (pending)");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(count(sub) == 0, "nothing in new/ before sync");
	ok(deliver_sync(&d, &err) == 0, "sync");
	ok(count(sub) == 1, "one message in new/ after sync");
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(count(sub) == 0, "tmp/ empty after sync");
	snprintf(sub, sizeof(sub), "%s/new", md);
	f = only_file(sub);
	fp = fopen(f, "r");
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	ok(n == 30 && memcmp(buf, "Subject: caf\xc3\xa9\n\nFrom here\n.\n\xff\n",
	    30) == 0, "bytes exactly as written");
	regcomp(&re, "/new/[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+\\.[^/:]+,S=30$",
	    REG_EXTENDED | REG_NOSUB);
	ok(regexec(&re, f, 0, NULL, 0) == 0, "final name carries S=size");
	regfree(&re);
	stat(f, &st);
	ok((st.st_mode & 0777) == 0600, "message mode 0600");
	unlink(f);
	free(f);

	/* A large message passes through the buffer intact. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = i % 251;
	deliver_begin(&d, &err);
	for (i = 0; i < 30; i++)
		deliver_write(&d, big, sizeof(big), &err);
	deliver_commit(&d, &err);
	deliver_sync(&d, &err);
	f = only_file(sub);
	stat(f, &st);
	good = st.st_size == 30 * (off_t)sizeof(big);
	fp = fopen(f, "r");
	for (i = 0; i < 30 && good; i++) {
		static char chk[sizeof(big)];
		good = fread(chk, 1, sizeof(chk), fp) == sizeof(chk) &&
		    memcmp(chk, big, sizeof(big)) == 0;
	}
	fclose(fp);
	ok(good, "3 MB message intact");
	unlink(f);
	free(f);

	/* Abort leaves nothing anywhere. */
	deliver_begin(&d, &err);
	deliver_write(&d, "partial", 7, &err);
	deliver_abort(&d);
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(count(sub) == 0, "abort removes the tmp/ file");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(count(sub) == 0, "abort puts nothing in new/");

	/* Group commit, both ways of flushing. */
	for (mode = MD_SYNCFS; mode <= MD_FDATASYNC; mode++) {
		const char *how = mode == MD_SYNCFS ? "syncfs" : "fdatasync";

		maildir_set_flush(&d, mode);
		n_syncfs = n_fdatasync = 0;
		for (i = 0; i < 5; i++) {
			snprintf(buf, sizeof(buf), "Subject: %zu\n\nbody %zu\n",
			    i, i);
			deliver_begin(&d, &err);
			deliver_write(&d, buf, strlen(buf), &err);
			if (deliver_commit(&d, &err) == -1)
				break;
		}
		ok(i == 5, "%s: five messages committed", how);
		snprintf(sub, sizeof(sub), "%s/tmp", md);
		ok(count(sub) == 5, "%s: five pending in tmp/", how);
		snprintf(sub, sizeof(sub), "%s/new", md);
		ok(count(sub) == 0, "%s: none in new/ before sync", how);
		ok(deliver_sync(&d, &err) == 0, "%s: sync", how);
		ok(count(sub) == 5, "%s: five in new/ after sync", how);
		snprintf(sub, sizeof(sub), "%s/tmp", md);
		ok(count(sub) == 0, "%s: tmp/ empty after sync", how);
		ok(mode == MD_SYNCFS ? n_syncfs == 1 && n_fdatasync == 0 :
		    n_syncfs == 0 && n_fdatasync == 5,
		    "%s: flushed with %d syncfs, %d fdatasync", how, n_syncfs,
		    n_fdatasync);
		snprintf(sub, sizeof(sub), "rm -f %s/new/*", md);
		system(sub);
	}

	/* A flush that fails (EIO, ENOSPC): the whole batch fails. */
	for (mode = MD_SYNCFS; mode <= MD_FDATASYNC; mode++) {
		const char *how = mode == MD_SYNCFS ? "syncfs" : "fdatasync";

		maildir_set_flush(&d, mode);
		for (i = 0; i < 3; i++) {
			deliver_begin(&d, &err);
			deliver_write(&d, "x\n", 2, &err);
			deliver_commit(&d, &err);
		}
		fail_flush = mode == MD_SYNCFS ? EIO : ENOSPC;
		ok(deliver_sync(&d, &err) == -1 && err.status == EX_IOERR &&
		    strstr(err.msg, md) != NULL &&
		    strstr(err.msg, strerror(fail_flush)) != NULL,
		    "%s fails: error names the Maildir and the cause", how);
		printf("# %s\n", err.msg ? err.msg : "(no error)");
		err_clear(&err);
		fail_flush = 0;
		snprintf(sub, sizeof(sub), "%s/tmp", md);
		ok(count(sub) == 0, "%s fails: every pending tmp/ file removed",
		    how);
		snprintf(sub, sizeof(sub), "%s/new", md);
		ok(count(sub) == 0, "%s fails: nothing in new/", how);
		ok(deliver_sync(&d, &err) == 0 && count(sub) == 0,
		    "%s fails: nothing left to sync after", how);
	}

	/* A link that fails halfway: the names made are taken back. */
	for (i = 0; i < 4; i++) {
		deliver_begin(&d, &err);
		deliver_write(&d, "y\n", 2, &err);
		deliver_commit(&d, &err);
	}
	n_link = 0;
	fail_link_at = 3;
	ok(deliver_sync(&d, &err) == -1 && err.status == EX_IOERR &&
	    strstr(err.msg, md) != NULL, "link fails on the third: sync fails");
	printf("# %s\n", err.msg ? err.msg : "(no error)");
	err_clear(&err);
	fail_link_at = 0;
	ok(count(sub) == 0, "link fails: the two linked are gone from new/");
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(count(sub) == 0, "link fails: tmp/ empty");

	/* Abort takes only the message being written; close takes all. */
	deliver_begin(&d, &err);
	deliver_write(&d, "z\n", 2, &err);
	deliver_commit(&d, &err);
	deliver_begin(&d, &err);
	deliver_write(&d, "partial", 7, &err);
	deliver_abort(&d);
	ok(count(sub) == 1, "abort keeps the pending message");
	deliver_begin(&d, &err);
	deliver_write(&d, "partial", 7, &err);
	deliver_close(&d);
	ok(count(sub) == 0, "close removes pending and partial files");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(count(sub) == 0, "close puts nothing in new/");

	/* tmp/ files older than 36 hours go when the Maildir is opened. */
	snprintf(sub, sizeof(sub), "%s/tmp/old", md);
	fp = fopen(sub, "w");
	fclose(fp);
	ut.actime = ut.modtime = time(NULL) - 37 * 3600;
	utime(sub, &ut);
	snprintf(sub, sizeof(sub), "%s/tmp/young", md);
	fp = fopen(sub, "w");
	fclose(fp);
	ut.actime = ut.modtime = time(NULL) - 35 * 3600;
	utime(sub, &ut);
	ok(deliver_open(&d, &acct, dir, &err) == 0, "open again");
	snprintf(sub, sizeof(sub), "%s/tmp/old", md);
	ok(access(sub, F_OK) == -1, "tmp/ file of 37 hours removed");
	snprintf(sub, sizeof(sub), "%s/tmp/young", md);
	ok(access(sub, F_OK) == 0, "tmp/ file of 35 hours kept");
	unlink(sub);
	deliver_close(&d);

	/* A Maildir that cannot be created is a delivery error. */
	snprintf(md, sizeof(md), "%s/file", dir);
	fp = fopen(md, "w");
	fclose(fp);
	strlcat(md, "/box", sizeof(md));
	acct.maildir = md;
	ok(deliver_open(&d, &acct, dir, &err) == -1 && err.status == EX_IOERR &&
	    strstr(err.msg, "cannot create tmp/") != NULL,
	    "uncreatable Maildir: error");
	err_clear(&err);
	deliver_close(&d);

	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	return system(sub) == 0 ? done() : 1;
}
