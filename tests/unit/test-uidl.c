/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* The UIDL cache: journal, reload, torn records, pruning, compaction. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <sys/syscall.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

static char	 dir[] = "/tmp/pm-uidl-XXXXXX";
static char	 path[256];

/* fsync, recording the path of each descriptor it flushes. */
static char	 synced[64][PATH_MAX];
static int	 nsynced;

int
fsync(int fd)
{
	char	 link[64];
	ssize_t	 n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (nsynced < 64 && (n = readlink(link, synced[nsynced],
	    PATH_MAX - 1)) > 0)
		synced[nsynced++][n] = '\0';
	return syscall(SYS_fsync, fd);
}

static int
was_synced(const char *p)
{
	char	 real[PATH_MAX];
	int	 i;

	if (realpath(p, real) == NULL)
		return 0;
	for (i = 0; i < nsynced; i++)
		if (strcmp(synced[i], real) == 0)
			return 1;
	return 0;
}

static char *
slurp(const char *p)
{
	static char	 buf[1 << 20];
	FILE		*f = fopen(p, "r");
	size_t		 n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
spew(const char *p, const char *s)
{
	FILE	*f = fopen(p, "w");

	fputs(s, f);
	fclose(f);
}

int
main(void)
{
	struct uidl	 u;
	struct pm_err	 err = { 0, NULL };
	struct msg	 m[3];
	const struct uidl_ent *e;
	struct stat	 st;
	char		 uid[32], link[300];
	size_t		 i;
	int		 good;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/acct.uidl", dir);

	nsynced = 0;
	ok(uidl_open(&u, path, &err) == 0, "open creates the cache");
	ok(was_synced(path) && was_synced(dir), "a new cache and its directory "
	    "are fsync'd");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "created mode 0600");
	ok(uidl_get(&u, "a") == NULL, "empty cache has nothing");
	uidl_add(&u, "a", 100);
	uidl_add(&u, "b", 200);
	ok(uidl_get(&u, "a") != NULL, "added UID found before commit");
	ok(uidl_commit(&u, &err) == 0, "commit");
	uidl_add(&u, "a", 999);
	ok(uidl_commit(&u, &err) == 0, "adding a known UID is a no-op");
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 2\n+ 100 a\n+ 200 b\n",
	    "journal contents");

	ok(uidl_open(&u, path, &err) == 0, "reopen");
	e = uidl_get(&u, "a");
	ok(e != NULL && e->first_seen == 100, "first-seen time survives");
	ok(uidl_get(&u, "b") != NULL && uidl_get(&u, "c") == NULL,
	    "membership survives");
	uidl_close(&u);

	/* A crash in the middle of an append leaves a torn record. */
	spew(path, "pullmail-uidl 1\n+ 100 a\n+ 200 b\n+ 30");
	ok(uidl_open(&u, path, &err) == 0, "torn last record: opens");
	ok(uidl_get(&u, "a") && uidl_get(&u, "b") && u.nlive == 2,
	    "torn record dropped, the rest kept");
	uidl_add(&u, "c", 300);
	uidl_commit(&u, &err);
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 2\n+ 100 a\n+ 200 b\n+ 300 c\n",
	    "torn record cut before the next append (and version 1 rewritten "
	    "as 2)");

	/*
	 * An append that fails part-way (here: a file size limit, as a full
	 * disk would) leaves no half record behind: the retry appends whole
	 * lines after the last good one.
	 */
	{
		struct rlimit	 rl, small;
		struct stat	 st0;

		ok(uidl_open(&u, path, &err) == 0 && stat(path, &st0) == 0,
		    "short write: open");
		uidl_add(&u, "d-a-long-uid-that-will-not-fit", 400);
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &rl);
		small = rl;
		small.rlim_cur = st0.st_size + 10;
		setrlimit(RLIMIT_FSIZE, &small);
		good = uidl_commit(&u, &err) == -1 && err.status == EX_IOERR;
		setrlimit(RLIMIT_FSIZE, &rl);
		err_clear(&err);
		ok(good, "short write: commit fails");
		ok(stat(path, &st) == 0 && st.st_size == st0.st_size,
		    "short write: the partial record is cut off");
		ok(uidl_commit(&u, &err) == 0, "short write: the retry commits");
		uidl_close(&u);
		is_str(slurp(path), "pullmail-uidl 2\n+ 100 a\n+ 200 b\n+ 300 c\n"
		    "+ 400 d-a-long-uid-that-will-not-fit\n",
		    "short write: whole records only after the retry");
		signal(SIGXFSZ, SIG_DFL);
	}

	/* Read-only (--check, --list): never created, written or repaired. */
	unlink(path);
	ok(uidl_open_ro(&u, path, &err) == 0 && u.nlive == 0 &&
	    uidl_get(&u, "a") == NULL, "read-only, no cache: empty");
	uidl_close(&u);
	ok(access(path, F_OK) == -1, "read-only, no cache: none created");
	{
		char	 sub[320];

		snprintf(sub, sizeof(sub), "%s/nodir/acct.uidl", dir);
		ok(uidl_open_ro(&u, sub, &err) == 0 && u.nlive == 0,
		    "read-only, no state directory: empty");
		uidl_close(&u);
	}
	spew(path, "");
	ok(uidl_open_ro(&u, path, &err) == 0 && u.nlive == 0,
	    "read-only, empty file: opens");
	uidl_close(&u);
	is_str(slurp(path), "", "read-only, empty file: no header written");
	spew(path, "pullmail-uidl 1\n+ 100 a\n+ 200 b\n+ 30");
	ok(uidl_open_ro(&u, path, &err) == 0 && uidl_get(&u, "a") &&
	    uidl_get(&u, "b") && u.nlive == 2, "read-only, torn record: read");
	uidl_add(&u, "c", 300);
	ok(uidl_commit(&u, &err) == -1 && err.status != 0,
	    "read-only: commit refused");
	err_clear(&err);
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 1\n+ 100 a\n+ 200 b\n+ 30",
	    "read-only, torn record: file left as it was");

	/* Empty file (crash right after creation). */
	spew(path, "");
	ok(uidl_open(&u, path, &err) == 0 && u.nlive == 0, "empty file opens");
	uidl_close(&u);

	/* Corruption is reported, not guessed at. */
	spew(path, "pullmail-uidl 1\n+ 100 a\ngarbage here\n+ 1 b\n");
	ok(uidl_open(&u, path, &err) == -1 && err.status == EX_IOERR &&
	    strstr(err.msg, "line 3: corrupt record") != NULL,
	    "corrupt record: error names the line");
	err_clear(&err);
	spew(path, "something else\n");
	ok(uidl_open(&u, path, &err) == -1 &&
	    strstr(err.msg, "not a pullmail UIDL cache") != NULL,
	    "foreign file refused");
	err_clear(&err);
	spew(path, "pullmail-uidl 1\n+ 100 bad\x01uid\n");
	ok(uidl_open(&u, path, &err) == -1, "control character in UID refused");
	err_clear(&err);

	/* A symlink planted in place of the cache is not followed. */
	unlink(path);
	snprintf(link, sizeof(link), "%s/target", dir);
	spew(link, "");
	symlink(link, path);
	ok(uidl_open(&u, path, &err) == -1 &&
	    strstr(err.msg, "symbolic link") != NULL, "symlink refused");
	err_clear(&err);
	unlink(path);
	unlink(link);

	/* Pruning: UIDs that left the server are forgotten. */
	ok(uidl_open(&u, path, &err) == 0, "fresh cache");
	uidl_add(&u, "keep1", 1);
	uidl_add(&u, "gone", 2);
	uidl_add(&u, "keep2", 3);
	uidl_commit(&u, &err);
	memset(m, 0, sizeof(m));
	m[0].uid = (char *)"keep1";
	m[1].uid = (char *)"new";
	m[2].uid = (char *)"keep2";
	ok(uidl_prune(&u, m, 3, &err) == 0, "prune");
	ok(uidl_get(&u, "gone") == NULL && uidl_get(&u, "keep1") &&
	    uidl_get(&u, "keep2") && uidl_get(&u, "new") == NULL,
	    "prune drops only what left the server");
	uidl_close(&u);
	ok(uidl_open(&u, path, &err) == 0 && uidl_get(&u, "gone") == NULL &&
	    u.nlive == 2, "prune is durable");
	/* A pruned UID that comes back is new again, with a new time. */
	uidl_add(&u, "gone", 50);
	uidl_commit(&u, &err);
	e = uidl_get(&u, "gone");
	ok(e != NULL && e->first_seen == 50, "re-added UID gets a new time");
	uidl_close(&u);

	/* Many records, most pruned: compaction rewrites the file. */
	unlink(path);
	uidl_open(&u, path, &err);
	for (i = 0; i < 5000; i++) {
		snprintf(uid, sizeof(uid), "uid-%05zu", i);
		uidl_add(&u, uid, i);
	}
	ok(uidl_commit(&u, &err) == 0, "5000 records committed");
	good = 1;
	for (i = 0; i < 5000; i++) {
		snprintf(uid, sizeof(uid), "uid-%05zu", i);
		e = uidl_get(&u, uid);
		if (e == NULL || e->first_seen != (time_t)i)
			good = 0;
	}
	ok(good, "every one found by hash");
	m[0].uid = (char *)"uid-00007";
	m[1].uid = (char *)"uid-04999";
	ok(uidl_prune(&u, m, 2, &err) == 0, "prune all but two");
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 2\n+ 7 uid-00007\n+ 4999 uid-04999\n",
	    "compacted file holds only the live records");
	ok(access(strcat(strcpy(link, path), ".tmp"), F_OK) == -1,
	    "no temporary file left behind");
	ok(uidl_open(&u, path, &err) == 0 && u.nlive == 2,
	    "compacted file reopens");
	uidl_add(&u, "after", 9);
	ok(uidl_commit(&u, &err) == 0, "append after compaction");
	uidl_close(&u);
	ok(strstr(slurp(path), "+ 9 after\n") != NULL, "appended");

	/* Deletion pending, forgotten, restored; a UID that comes back. */
	unlink(path);
	ok(uidl_open(&u, path, &err) == 0, "states: fresh cache");
	uidl_add(&u, "x", 10);
	uidl_deleting(&u, "x", 500);
	uidl_add(&u, "y", 20);
	uidl_deleting(&u, "nobody", 5);
	ok(uidl_commit(&u, &err) == 0, "states: commit");
	e = uidl_get(&u, "x");
	ok(e != NULL && e->del && e->del_size == 500, "states: deletion pending "
	    "with its size");
	ok(uidl_lookup(&u, "nobody") == NULL, "states: no deletion of a UID "
	    "never delivered");
	uidl_close(&u);
	ok(uidl_open(&u, path, &err) == 0 && (e = uidl_get(&u, "x")) != NULL &&
	    e->del && e->del_size == 500 && e->first_seen == 10,
	    "states: deletion pending survives a reopen");
	uidl_add(&u, "x", 30);
	e = uidl_get(&u, "x");
	ok(e != NULL && !e->del && e->first_seen == 30,
	    "states: re-adding a UID whose deletion was pending starts afresh");
	uidl_forget(&u, "y");
	ok(uidl_get(&u, "y") == NULL, "states: forgotten");
	uidl_commit(&u, &err);
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 2\n+ 10 x\nD 500 x\n+ 20 y\n"
	    "+ 30 x\n- y\n", "states: the journal");
	ok(uidl_open(&u, path, &err) == 0 && uidl_get(&u, "y") == NULL &&
	    (e = uidl_get(&u, "x")) != NULL && e->first_seen == 30 && !e->del,
	    "states: replayed as they were made");

	/* Damaged and accepted: not delivered, but known. */
	uidl_suspect(&u, "d1", 40, 'd', 123);
	uidl_suspect(&u, "o1", 41, 'o', 999);
	uidl_suspect(&u, "x", 42, 'd', 1);
	uidl_accept(&u, "o1");
	ok(uidl_commit(&u, &err) == 0, "suspect: commit");
	ok(uidl_get(&u, "d1") == NULL && (e = uidl_lookup(&u, "d1")) != NULL &&
	    e->suspect == 'd' && e->sus_size == 123 && e->sus_time == 40,
	    "suspect: known, not delivered");
	ok((e = uidl_get(&u, "x")) != NULL && !e->suspect,
	    "suspect: a delivered message is never made suspect");
	uidl_close(&u);
	ok(uidl_open(&u, path, &err) == 0 &&
	    (e = uidl_lookup(&u, "o1")) != NULL && e->suspect == 'o' &&
	    e->accept && uidl_get(&u, "o1") == NULL,
	    "suspect and accepted survive a reopen");
	uidl_add(&u, "o1", 50);
	ok((e = uidl_get(&u, "o1")) != NULL && !e->suspect && !e->accept,
	    "suspect: delivery clears it");
	uidl_commit(&u, &err);
	uidl_close(&u);

	/* Keys with blanks (copies of one UID, odd UIDs). */
	ok(uidl_valid_key("abc 2") && uidl_valid_key("~ 00ff") &&
	    !uidl_valid_key(" a") && !uidl_valid_key("a ") &&
	    !uidl_valid_key("") && !uidl_valid_key("a\tb"),
	    "keys: blanks inside only, printable only");
	unlink(path);
	uidl_open(&u, path, &err);
	uidl_add(&u, "same", 1);
	uidl_add(&u, "same 2", 2);
	uidl_commit(&u, &err);
	uidl_close(&u);
	ok(uidl_open(&u, path, &err) == 0 && uidl_get(&u, "same") &&
	    (e = uidl_get(&u, "same 2")) != NULL && e->first_seen == 2,
	    "keys: with a blank, replayed");
	uidl_close(&u);
	spew(path, "pullmail-uidl 1\n+ 1 same 2\n");
	ok(uidl_open(&u, path, &err) == -1, "keys: blanks not in version 1");
	err_clear(&err);
	spew(path, "pullmail-uidl 1\n+ 1 a\n");
	ok(uidl_open_ro(&u, path, &err) == 0 && uidl_get(&u, "a"),
	    "version 1 read");
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 1\n+ 1 a\n",
	    "version 1 left alone when read-only");
	spew(path, "pullmail-uidl 2\nD x 1\n");
	ok(uidl_open(&u, path, &err) == -1 &&
	    strstr(err.msg, "line 2: corrupt record") != NULL,
	    "corrupt: a D record without its size");
	err_clear(&err);
	{
		char	 big[400];

		memset(big, 'a', sizeof(big));
		memcpy(big, "pullmail-uidl 2\n+ 1 ", 20);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		spew(path, big);
		ok(uidl_open(&u, path, &err) == -1, "corrupt: a key too long");
		err_clear(&err);
	}

	/*
	 * Compaction writes what the journal holds, never what is only
	 * pending in memory (it would record as delivered what is not yet).
	 */
	unlink(path);
	uidl_open(&u, path, &err);
	uidl_add(&u, "durable", 1);
	uidl_commit(&u, &err);
	uidl_add(&u, "pending", 2);
	ok(uidl_compact(&u, &err) == 0, "compact with a record pending");
	is_str(slurp(path), "pullmail-uidl 2\n+ 1 durable\n",
	    "compaction left the pending record out");
	ok(uidl_commit(&u, &err) == 0, "the pending record commits after it");
	is_str(slurp(path), "pullmail-uidl 2\n+ 1 durable\n+ 2 pending\n",
	    "and is appended to the new file");
	uidl_close(&u);

	/* Mostly dead records: compacted when opened. */
	{
		FILE	*f = fopen(path, "w");

		fputs("pullmail-uidl 2\n", f);
		for (i = 0; i < 3000; i++)
			fprintf(f, "+ %zu u%zu\n- u%zu\n", i, i, i);
		fputs("+ 7 live\n", f);
		fclose(f);
	}
	ok(uidl_open(&u, path, &err) == 0 && u.nlive == 1 && u.records == 1,
	    "mostly dead: compacted at open");
	uidl_close(&u);
	is_str(slurp(path), "pullmail-uidl 2\n+ 7 live\n",
	    "mostly dead: only the live record left");

	/* Room for the records of a run. */
	ok(uidl_open(&u, path, &err) == 0 &&
	    uidl_reserve(&u, 100000, &err) == 0, "reserve");
	ok(stat(path, &st) == 0 && st.st_size == 25, "reserve: the size "
	    "stays");
	uidl_close(&u);

	unlink(path);
	rmdir(dir);
	return done();
}
