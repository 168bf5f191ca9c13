/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * mboxrd quoting at every split, envelope senders, MDA arguments; mbox
 * appends killed part-way (a fault point in write) and what the next run
 * cuts back or leaves.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

struct out {
	char	 buf[4096];
	size_t	 len;
};

/*
 * Fault injection, replacing the C library's write for the code linked in
 * from libpullmail.a: once kill_path is set, a write to that file that
 * would go past kill_after more bytes writes only up to there and the
 * process kills itself with SIGKILL, like a kill -9 in mid-append.
 * kill_at_fsync does the same at the first fsync of that file, with every
 * byte written.
 */
static const char	*kill_path;
static long long	 kill_after = -1;
static int		 kill_at_fsync;

static int
is_kill_path(int fd)
{
	char	 link[64], target[PATH_MAX];
	ssize_t	 n;

	if (kill_path == NULL)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, kill_path) == 0;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	if (kill_after >= 0 && is_kill_path(fd)) {
		if ((long long)n >= kill_after) {
			syscall(SYS_write, fd, buf, (size_t)kill_after);
			kill(getpid(), SIGKILL);
		}
		kill_after -= n;
	}
	return syscall(SYS_write, fd, buf, n);
}

/* Set when the mbox's directory is fsync'd while the mbox exists. */
static int	 dir_synced;
static char	 dir[PATH_MAX], state[PATH_MAX + 8], mbox[PATH_MAX + 8];

int
fsync(int fd)
{
	char	 link[64], target[PATH_MAX];
	ssize_t	 n;

	if (kill_at_fsync && is_kill_path(fd))
		kill(getpid(), SIGKILL);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, target, sizeof(target) - 1)) > 0) {
		target[n] = '\0';
		if (strcmp(target, dir) == 0 && access(mbox, F_OK) == 0)
			dir_synced = 1;
	}
	return syscall(SYS_fsync, fd);
}

static int
collect(void *arg, const char *s, size_t n)
{
	struct out	*o = arg;

	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

static void
quote(const char *in, const char *want)
{
	size_t		 len = strlen(in), a, b;
	struct mboxq	 q;
	struct out	 o;
	int		 bad = 0;

	for (a = 0; a <= len && !bad; a++)
		for (b = a; b <= len && !bad; b++) {
			o.len = 0;
			mboxq_init(&q);
			mboxq_run(&q, in, a, collect, &o);
			mboxq_run(&q, in + a, b - a, collect, &o);
			mboxq_run(&q, in + b, len - b, collect, &o);
			mboxq_finish(&q, collect, &o);
			o.buf[o.len] = '\0';
			if (strcmp(o.buf, want) != 0) {
				printf("# split %zu/%zu: got \"%s\"\n", a, b,
				    o.buf);
				bad = 1;
			}
		}
	ok(!bad, "mboxrd quoting of \"%.20s...\", every split", in);
}

static struct account macct;

/* Deliver one message into the test mbox, in this process. */
static int
deliver_one(const char *msg, size_t len)
{
	struct deliver	 d;
	struct pm_err	 err = { 0, NULL };
	int		 rv = -1;

	if (deliver_open(&d, &macct, state, &err) == 0 &&
	    deliver_begin(&d, &err) == 0 &&
	    deliver_write(&d, msg, len, &err) == 0 &&
	    deliver_commit(&d, &err) == 0)
		rv = 0;
	if (err.msg != NULL)
		printf("# %s\n", err.msg);
	deliver_close(&d);
	err_clear(&err);
	return rv;
}

/*
 * Deliver one message in a child that kills itself after writing
 * after bytes of it to the mbox (-1: at its fsync). Returns whether it
 * died by SIGKILL.
 */
static int
deliver_killed(const char *msg, size_t len, long long after)
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		kill_path = mbox;
		if (after >= 0)
			kill_after = after;
		else
			kill_at_fsync = 1;
		deliver_one(msg, len);
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL;
}

static char *
slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	int		 fd;

	*lenp = 0;
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	fstat(fd, &st);
	buf = xmalloc(st.st_size + 1);
	*lenp = read(fd, buf, st.st_size);
	close(fd);
	return buf;
}

static int
same_as(const char *path, const char *want, size_t wlen)
{
	size_t	 len;
	char	*got = slurp(path, &len);
	int	 r = got != NULL && len == wlen && memcmp(got, want, len) == 0;

	if (!r)
		printf("# %s: %zu bytes, expected %zu\n", path, len, wlen);
	free(got);
	return r;
}

/* Whether the state directory holds that file. */
static int
exists(const char *name)
{
	char	*p;
	int	 r;

	xasprintf(&p, "%s/%s", state, name);
	r = access(p, F_OK) == 0;
	free(p);
	return r;
}

/* Open and close the account's delivery: what a new run does first. */
static int
reopen(double *secs)
{
	struct deliver	 d;
	struct pm_err	 err = { 0, NULL };
	double		 t0 = mono_now();
	int		 r;

	r = deliver_open(&d, &macct, state, &err);
	*secs = mono_now() - t0;
	if (err.msg != NULL)
		printf("# %s\n", err.msg);
	deliver_close(&d);
	err_clear(&err);
	return r;
}

static void
killed_appends(void)
{
	static const char foreign[] = "From someone@example.org Mon Jan  1 "
	    "00:00:00 2024\nSubject: appended by another program\n\nhi\n\n";
	char		*big, *clean, *lock, *p, *copy, host[256], want[300];
	size_t		 blen, clen, len, i;
	double		 secs;
	struct stat	 st, st2;
	int		 fd;

	realpath("/tmp", dir);
	strlcat(dir, "/pm-mbox-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(mbox, sizeof(mbox), "%s/inbox", dir);
	mkdir(state, 0700);
	memset(&macct, 0, sizeof(macct));
	macct.name = (char *)"work";
	macct.mbox = mbox;
	macct.mbox_lock_timeout = 30;

	dir_synced = 0;
	ok(deliver_one("Subject: first\n\nbody\n", 22) == 0,
	    "a first message appended");
	ok(dir_synced, "the new mbox's directory fsync'd after it was made");
	ok(!exists("work.mbox-append") &&
	    !exists("work.mbox-spool"),
	    "a session that ends leaves no append record or spool file");
	clean = slurp(mbox, &clen);

	/* ~300 KB with "From " lines to quote: several 64 KB writes. */
	blen = 300000;
	big = xmalloc(blen);
	p = big + snprintf(big, blen, "Return-Path: <big@example.org>\n"
	    "Subject: big\n\n");
	for (i = 0; p + 80 < big + blen; i++)
		p += snprintf(p, big + blen - p, "%sline %zu of a long "
		    "message\n", i % 7 == 0 ? "From " : "", i);
	blen = p - big;

	ok(deliver_killed(big, blen, 100000), "killed after 100000 bytes of "
	    "the append");
	stat(mbox, &st);
	ok(st.st_size == (off_t)clen + 100000, "the mbox holds the partial "
	    "message (%lld bytes)", (long long)st.st_size);
	xasprintf(&lock, "%s.lock", mbox);
	host[0] = '\0';
	gethostname(host, sizeof(host));
	p = slurp(lock, &len);
	ok(p != NULL && len > 0 && p[len - 1] == '\n' &&
	    strchr(p, ':') != NULL && strncmp(strchr(p, ':') + 1, host,
	    strlen(host)) == 0, "its dotlock is left, holding PID:HOST");
	free(p);
	ok(exists("work.mbox-append") &&
	    exists("work.mbox-spool"),
	    "the append record and the spool file are left");
	ok(reopen(&secs) == 0, "the next run opens the account");
	ok(secs < 5, "without waiting for the dead process's dotlock (%.1f s)",
	    secs);
	ok(same_as(mbox, clean, clen), "the partial message is cut off, the "
	    "rest untouched");
	ok(access(lock, F_OK) == -1, "no dotlock left");
	ok(!exists("work.mbox-append"), "the record is gone");
	ok(deliver_one(big, blen) == 0, "the message appended again");
	p = slurp(mbox, &len);
	snprintf(want, sizeof(want), "From big@example.org ");
	ok(len > clen && memcmp(p, clean, clen) == 0 &&
	    strncmp(p + clen, want, strlen(want)) == 0 &&
	    memcmp(p + len - 2, "\n\n", 2) == 0,
	    "whole, right after the first message");
	free(clean);
	clean = p;
	clen = len;

	/* Another program appended after the partial message: left alone. */
	ok(deliver_killed(big, blen, 70000), "killed after 70000 bytes");
	unlink(lock);		/* the other program took it over */
	fd = open(mbox, O_WRONLY | O_APPEND);
	write(fd, foreign, strlen(foreign));
	close(fd);
	stat(mbox, &st);
	ok(reopen(&secs) == 0, "foreign bytes after the partial message: "
	    "the next run opens the account");
	stat(mbox, &st2);
	ok(st2.st_size == st.st_size, "foreign bytes after the partial "
	    "message: nothing cut");
	ok(!exists("work.mbox-append"), "foreign bytes after the "
	    "partial message: the record is gone");
	truncate(mbox, clen);

	/* One byte of the partial message changed: left alone. */
	ok(deliver_killed(big, blen, 150000), "killed after 150000 bytes");
	fd = open(mbox, O_WRONLY);
	pwrite(fd, "X", 1, clen + 1000);
	close(fd);
	ok(reopen(&secs) == 0 && stat(mbox, &st) == 0 &&
	    st.st_size == (off_t)clen + 150000, "a changed byte in the "
	    "partial message: nothing cut");
	truncate(mbox, clen);

	/* The mbox replaced (a mail reader rewrote it): left alone. */
	ok(deliver_killed(big, blen, 90000), "killed after 90000 bytes");
	p = slurp(mbox, &len);
	xasprintf(&copy, "%s.new", mbox);
	fd = open(copy, O_WRONLY | O_CREAT, 0600);
	write(fd, p, len);
	close(fd);
	rename(copy, mbox);	/* a new inode: made while the old one lived */
	free(copy);
	ok(reopen(&secs) == 0 && same_as(mbox, p, len),
	    "a replaced mbox: nothing cut");
	free(p);
	truncate(mbox, clen);

	/* Killed with every byte written, before the fsync: kept whole. */
	ok(deliver_killed(big, blen, -1), "killed at the fsync");
	stat(mbox, &st);
	ok(reopen(&secs) == 0 && stat(mbox, &st2) == 0 &&
	    st2.st_size == st.st_size && st.st_size > (off_t)clen,
	    "a complete append is kept (%lld bytes)", (long long)st.st_size);
	ok(!exists("work.mbox-append"), "a complete append: the "
	    "record is gone");
	truncate(mbox, clen);

	/* A torn record: removed, nothing touched. */
	ok(deliver_killed(big, blen, 20000), "killed after 20000 bytes");
	xasprintf(&p, "%s/work.mbox-append", state);
	truncate(p, 30);
	free(p);
	ok(reopen(&secs) == 0 && stat(mbox, &st) == 0 &&
	    st.st_size == (off_t)clen + 20000 &&
	    !exists("work.mbox-append"),
	    "a torn record: removed, nothing cut");

	free(clean);
	free(big);
	free(lock);
	xasprintf(&p, "rm -rf %s", dir);
	system(p);
	free(p);
}

int
main(void)
{
	struct account	 a;
	char		*tmpl[] = { (char *)"deliver", (char *)"-u", (char *)"%u",
			    (char *)"--from=%F", (char *)"%a%%", (char *)"%x",
			    NULL };
	char		**argv, *s;

	quote("Subject: x\n\nFrom me\n", "Subject: x\n\n>From me\n");
	quote(">From a\n>>From b\n", ">>From a\n>>>From b\n");
	quote("From the start\n", ">From the start\n");
	quote("Fromage\nFrom\n From x\n", "Fromage\nFrom\n From x\n");
	quote(">>>Fro\nFrom: header\n", ">>>Fro\nFrom: header\n");
	quote("no final newline", "no final newline\n");
	quote("ends in >>Fro", "ends in >>Fro\n");
	quote(">", ">\n");
	quote("\n\nFrom \n", "\n\n>From \n");
	quote("", "\n");

	s = deliver_sender_parse("From: x\nReturn-Path: <joe@example.org>\n"
	    "\nReturn-Path: <body@x>\n", 60);
	is_str(s, "joe@example.org", "Return-Path gives the sender");
	free(s);
	s = deliver_sender_parse("Return-path:   <a.b+c@d.e>\n\n", 28);
	is_str(s, "a.b+c@d.e", "header name case and blanks");
	free(s);
	s = deliver_sender_parse("Return-Path: <>\n\n", 17);
	is_str(s, "MAILER-DAEMON", "null sender");
	free(s);
	s = deliver_sender_parse("Subject: x\n\nReturn-Path: <body@x>\n", 34);
	is_str(s, "MAILER-DAEMON", "a Return-Path in the body is ignored");
	free(s);
	s = deliver_sender_parse("Return-Path: <a b@c>\n\n", 22);
	is_str(s, "MAILER-DAEMON", "blank in the address refused");
	free(s);
	s = deliver_sender_parse("Return-Path: <x@y;rm -rf ~>\n\n", 29);
	is_str(s, "MAILER-DAEMON", "no blank can be smuggled in");
	free(s);
	s = deliver_sender_parse("Return-Path: <x\x1b[31m@y>\n\n", 25);
	is_str(s, "MAILER-DAEMON", "control characters refused");
	free(s);

	memset(&a, 0, sizeof(a));
	a.name = (char *)"work";
	argv = mda_args(tmpl, &a, "evil; rm -rf / @x");
	ok(strcmp(argv[0], "deliver") == 0 && strcmp(argv[1], "-u") == 0 &&
	    strlen(argv[2]) > 0 && strchr(argv[2], '%') == NULL,
	    "%%u is the local user");
	is_str(argv[3], "--from=evil; rm -rf / @x",
	    "%F stays inside one argument");
	is_str(argv[4], "work%", "%a and %%");
	is_str(argv[5], "%x", "unknown % sequence kept");
	ok(argv[6] == NULL, "argument count unchanged");
	free_words(argv);

	killed_appends();
	return done();
}
