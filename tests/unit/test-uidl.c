/* The UIDL cache: journal, reload, torn records, pruning, compaction. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <fcntl.h>
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

	ok(uidl_open(&u, path, &err) == 0, "open creates the cache");
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
	is_str(slurp(path), "pullmail-uidl 1\n+ 100 a\n+ 200 b\n",
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
	is_str(slurp(path), "pullmail-uidl 1\n+ 100 a\n+ 200 b\n+ 300 c\n",
	    "torn record cut before the next append");

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
		is_str(slurp(path), "pullmail-uidl 1\n+ 100 a\n+ 200 b\n+ 300 c\n"
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
	is_str(slurp(path), "pullmail-uidl 1\n+ 7 uid-00007\n+ 4999 uid-04999\n",
	    "compacted file holds only the live records");
	ok(access(strcat(strcpy(link, path), ".tmp"), F_OK) == -1,
	    "no temporary file left behind");
	ok(uidl_open(&u, path, &err) == 0 && u.nlive == 2,
	    "compacted file reopens");
	uidl_add(&u, "after", 9);
	ok(uidl_commit(&u, &err) == 0, "append after compaction");
	uidl_close(&u);
	ok(strstr(slurp(path), "+ 9 after\n") != NULL, "appended");

	unlink(path);
	rmdir(dir);
	return done();
}
