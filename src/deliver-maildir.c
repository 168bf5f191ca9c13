/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Maildir delivery, with group commit. Each message is written to tmp/
 * under a unique name; commit ends the write and keeps the file open and
 * pending (the fetch loop bounds a batch to PM_BATCH_MSGS files, so at most
 * that many descriptors). Once per batch, sync, before the batch's UIDs are
 * recorded and before any DELE:
 *
 *	1. flushes every pending file's data with as few flushes as possible
 *	   (one syncfs, or one fdatasync per file issued after all the
 *	   writes: see maildir_flush_mode for the choice);
 *	2. only then links each into new/ (never overwriting: on EEXIST
 *	   another name; rename where hard links are not supported) and
 *	   removes its tmp/ name, so a name in new/ always names a message
 *	   whose data is on disk, even after a crash;
 *	3. fsyncs new/ once.
 *
 * If any step fails (ENOSPC, EIO...) the whole batch fails: every pending
 * tmp/ file is removed, the names already made in new/ are removed again,
 * and the caller records and deletes none of the batch; the next run
 * fetches it again. A crash before 3 completes can leave a message in
 * tmp/ (removed by a later run after 36 hours, as the Maildir
 * specification allows) or in new/ unrecorded (a duplicate), never lose
 * one that was recorded.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/utsname.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

/* A Maildir message written to tmp/ and kept open until the batch's sync. */
struct mdpend {
	int		 fd;
	char		*tmpname;
	uint64_t	 size;
};

/* The backend's state. */
struct md {
	char		*tmpname;	/* the message being written */
	struct mdpend	*pend;		/* committed, not yet synced */
	size_t		 npend;		/* at most PM_BATCH_MSGS */
	int		 flush;		/* 0 undecided, MD_SYNCFS... */
	char		*hostname;
	unsigned long	 seq;
};
#define MD(d)	((struct md *)(d)->priv)

/*
 * The host name part of a Maildir file name, with '/' and ':' encoded as
 * the Maildir specification asks.
 */
char *
maildir_host(void)
{
	char	 host[256], *out, *o;
	size_t	 i;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	out = o = xmalloc(strlen(host) * 4 + 1);
	for (i = 0; host[i] != '\0'; i++) {
		if (host[i] == '/') {
			memcpy(o, "\\057", 4);
			o += 4;
		} else if (host[i] == ':') {
			memcpy(o, "\\072", 4);
			o += 4;
		} else
			*o++ = host[i];
	}
	*o = '\0';
	return out;
}

/* time.MusecPpidQseq.host: unique per host, process and delivery. */
char *
maildir_name(const char *host, time_t sec, long usec, pid_t pid,
    unsigned long seq)
{
	char	*name;

	xasprintf(&name, "%lld.M%06ldP%ldQ%lu.%s", (long long)sec, usec,
	    (long)pid, seq, host);
	return name;
}

static int
maildir_begin(struct deliver *d, struct pm_err *err)
{
	struct timeval	 tv;
	char		*name, *path;
	int		 tries;

	for (tries = 0; tries < 100; tries++) {
		gettimeofday(&tv, NULL);
		name = maildir_name(MD(d)->hostname, tv.tv_sec, tv.tv_usec,
		    getpid(), ++MD(d)->seq);
		xasprintf(&path, "%s/tmp/%s", d->path, name);
		free(name);
		d->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (d->fd != -1) {
			free(MD(d)->tmpname);
			MD(d)->tmpname = path;
			return 0;
		}
		free(path);
		if (errno != EEXIST)
			break;
	}
	err_set(err, EX_IOERR, "%s: cannot create a file in tmp/: %s",
	    d->shown, strerror(errno));
	return -1;
}

static void	 maildir_abort(struct deliver *);
static void	 maildir_drop_pending(struct deliver *);

/* The message is whole in tmp/: keep it open until the batch's sync. */
static int
maildir_commit(struct deliver *d, struct pm_err *err)
{
	struct mdpend	*p;

	if (MD(d)->npend == PM_BATCH_MSGS) {
		/* The fetch loop syncs a full batch: a bug if reached. */
		err_set(err, EX_SOFTWARE, "%s: more than %d messages pending",
		    d->shown, PM_BATCH_MSGS);
		maildir_abort(d);
		return -1;
	}
	if (MD(d)->pend == NULL)
		MD(d)->pend = xreallocarray(NULL, PM_BATCH_MSGS, sizeof(*MD(d)->pend));
	p = &MD(d)->pend[MD(d)->npend++];
	p->fd = d->fd;
	p->tmpname = MD(d)->tmpname;
	p->size = d->size;
	d->fd = -1;
	MD(d)->tmpname = NULL;
	return 0;
}

/*
 * How to flush a batch, decided once per run from the first pending file.
 *
 * syncfs flushes the whole filesystem in one call: one journal commit and
 * one device cache flush for the batch instead of one per message. It is
 * used only where that is known to be correct:
 *   - Linux 5.8 or later, where syncfs returns writeback errors (earlier
 *     kernels return 0 even when writing a page failed, which would let a
 *     lost message be recorded as delivered);
 *   - a local disk filesystem we know (ext2/3/4, XFS, Btrfs, F2FS) or tmpfs
 *     (nothing to flush). On NFS, FUSE, CIFS and the rest syncfs may not
 *     mean durable on the server, or may flush far more than our files.
 * Everywhere else, one fdatasync per file, all issued after every write of
 * the batch, which still lets the filesystem write the batch together.
 * The cost of syncfs: it also flushes other programs' dirty data on the
 * same filesystem, and reports their write errors too (a failed batch is
 * fetched again: a delay, never a loss).
 */
int
maildir_flush_mode(int fd)
{
	static const long	 local[] = {
		0xEF53,		/* ext2, ext3, ext4 */
		0x58465342,	/* XFS */
		0x9123683E,	/* Btrfs */
		0xF2F52010,	/* F2FS */
		0x01021994	/* tmpfs */
	};
	struct utsname		 u;
	struct statfs		 sfs;
	unsigned int		 maj = 0, min = 0;
	size_t			 i;

	if (uname(&u) == -1 || strcmp(u.sysname, "Linux") != 0 ||
	    sscanf(u.release, "%u.%u", &maj, &min) != 2 ||
	    (maj < 5 || (maj == 5 && min < 8)))
		return MD_FDATASYNC;
	if (fstatfs(fd, &sfs) == -1)
		return MD_FDATASYNC;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if ((long)sfs.f_type == local[i])
			return MD_SYNCFS;
	return MD_FDATASYNC;
}

/* Step 1: the data of every pending file on disk. */
static int
maildir_flush(struct deliver *d, struct pm_err *err)
{
	size_t	 i;

	if (MD(d)->flush == 0)
		MD(d)->flush = maildir_flush_mode(MD(d)->pend[0].fd);
	/*
	 * syncfs through the oldest file: it was opened before any write of
	 * the batch, so a writeback error on any of them is reported to it.
	 */
	if (MD(d)->flush == MD_SYNCFS) {
		if (syncfs(MD(d)->pend[0].fd) == -1)
			goto fail;
	} else
		for (i = 0; i < MD(d)->npend; i++)
			if (fdatasync(MD(d)->pend[i].fd) == -1)
				goto fail;
	for (i = 0; i < MD(d)->npend; i++) {
		int fd = MD(d)->pend[i].fd;

		MD(d)->pend[i].fd = -1;
		if (close(fd) == -1)
			goto fail;
	}
	return 0;
fail:
	err_set(err, EX_IOERR, "%s: cannot write the messages to disk: %s",
	    d->shown, strerror(errno));
	return -1;
}

/* Step 2 for one file: link it into new/ under a free name. */
static char *
maildir_link(struct deliver *d, const struct mdpend *p, struct pm_err *err)
{
	char	*base, *final;
	int	 tries;

	base = strrchr(p->tmpname, '/') + 1;
	for (tries = 0; tries < 100; tries++) {
		if (tries == 0)
			xasprintf(&final, "%s/new/%s,S=%llu", d->path, base,
			    (unsigned long long)p->size);
		else
			xasprintf(&final, "%s/new/%s_%d,S=%llu", d->path, base,
			    tries, (unsigned long long)p->size);
		if (link(p->tmpname, final) == 0) {
			unlink(p->tmpname);
			return final;
		}
		if (errno == EEXIST) {
			free(final);
			continue;
		}
		/* Filesystems without hard links: rename cannot clobber a
		 * unique name in practice. */
		if ((errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS) &&
		    access(final, F_OK) == -1 && rename(p->tmpname, final) == 0)
			return final;
		err_set(err, EX_IOERR, "%s: cannot move a message into new/: "
		    "%s", d->shown, strerror(errno));
		free(final);
		return NULL;
	}
	err_set(err, EX_IOERR, "%s: no free name in new/", d->shown);
	return NULL;
}

static int
maildir_sync(struct deliver *d, struct pm_err *err)
{
	char	**made, *dir;
	size_t	  i, nmade = 0;
	int	  rv = -1;

	made = xreallocarray(NULL, MD(d)->npend + 1, sizeof(*made));
	if (MD(d)->npend > 0 && maildir_flush(d, err) == -1)
		goto out;
	for (i = 0; i < MD(d)->npend; i++) {
		if ((made[nmade] = maildir_link(d, &MD(d)->pend[i], err)) == NULL)
			goto out;
		nmade++;
		free(MD(d)->pend[i].tmpname);
		MD(d)->pend[i].tmpname = NULL;
	}
	xasprintf(&dir, "%s/new", d->path);
	rv = fsync_dir(dir);
	if (rv == -1)
		err_set(err, EX_IOERR, "%s: cannot sync new/: %s", d->shown,
		    strerror(errno));
	free(dir);
out:
	if (rv == -1) {
		/* None of the batch is delivered: take back what was made. */
		for (i = 0; i < nmade; i++)
			unlink(made[i]);
	}
	for (i = 0; i < nmade; i++)
		free(made[i]);
	free(made);
	maildir_drop_pending(d);
	return rv;
}

/* Close and remove every pending file still in tmp/. */
static void
maildir_drop_pending(struct deliver *d)
{
	size_t	 i;

	for (i = 0; i < MD(d)->npend; i++) {
		if (MD(d)->pend[i].fd != -1)
			close(MD(d)->pend[i].fd);
		if (MD(d)->pend[i].tmpname != NULL)
			unlink(MD(d)->pend[i].tmpname);
		free(MD(d)->pend[i].tmpname);
	}
	MD(d)->npend = 0;
}

/* The message being written, and only it. */
static void
maildir_abort(struct deliver *d)
{
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	if (MD(d)->tmpname != NULL)
		unlink(MD(d)->tmpname);
	free(MD(d)->tmpname);
	MD(d)->tmpname = NULL;
}

/* The end without a sync: nothing pending becomes visible. */
static void
maildir_close(struct deliver *d)
{
	maildir_abort(d);
	maildir_drop_pending(d);
	free(MD(d)->pend);
	MD(d)->pend = NULL;
	free(MD(d)->hostname);
	MD(d)->hostname = NULL;
}

/* Create the Maildir if needed, and clean its tmp/ of what crashes left. */
static int
maildir_open(struct deliver *d, const char *statedir, struct pm_err *err)
{
	int	 n;

	MD(d)->hostname = maildir_host();
	if (maildir_create(d->path, d->shown, err) == -1)
		return -1;
	n = maildir_clean_tmp(d->path, time(NULL));
	if (n > 0)
		log_debug("%s: removed %d file%s older than 36 hours "
		    "from tmp/", d->shown, n, n == 1 ? "" : "s");
	return 0;
}

/* For the unit tests: flush batches this way (MD_SYNCFS, MD_FDATASYNC). */
void
maildir_set_flush(struct deliver *d, int mode)
{
	MD(d)->flush = mode;
}

const struct deliver_backend maildir_backend = {
	.name = "maildir",
	.arg = DARG_PATH,
	.acct_off = offsetof(struct account, maildir),
	.flags = DB_BATCH,
	.psize = sizeof(struct md),
	.open = maildir_open,
	.begin = maildir_begin,
	.commit = maildir_commit,
	.sync = maildir_sync,
	.abort = maildir_abort,
	.close = maildir_close
};

/*
 * Remove the files of tmp/ not modified for 36 hours: what a crash left
 * (the Maildir specification's rule). Errors are ignored: this is
 * housekeeping. Returns how many files were removed.
 */
int
maildir_clean_tmp(const char *path, time_t now)
{
	DIR		*dp;
	struct dirent	*de;
	struct stat	 st;
	char		*dir;
	int		 dfd, n = 0;

	xasprintf(&dir, "%s/tmp", path);
	dp = opendir(dir);
	free(dir);
	if (dp == NULL)
		return 0;
	dfd = dirfd(dp);
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > now - 36 * 3600)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(dp);
	return n;
}

/*
 * Create the Maildir and its three subdirectories if missing, durably
 * (mkdir_p fsyncs each directory it makes into its parent).
 */
int
maildir_create(const char *path, const char *shown, struct pm_err *err)
{
	static const char	*sub[] = { "tmp", "new", "cur" };
	struct stat		 st;
	char			*p;
	size_t			 i;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR;	/* so a failed mkdir reports errno */
	for (i = 0; i < 3; i++) {
		xasprintf(&p, "%s/%s", path, sub[i]);
		if (mkdir_p(p, 0700) == -1 || stat(p, &st) == -1 ||
		    !S_ISDIR(st.st_mode)) {
			err_set(err, EX_IOERR, "%s: cannot create %s/: %s",
			    shown, sub[i], S_ISDIR(st.st_mode) ?
			    strerror(errno) : "not a directory");
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}
