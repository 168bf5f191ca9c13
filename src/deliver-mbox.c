/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * mbox delivery, in the mboxrd format: a "From sender date" line, the
 * message with ">" added before every line matching ^>*From , a final
 * newline ensured, and a blank line after it.
 *
 * The message is spooled whole first; only then is the mbox locked (a
 * PATH.lock dotlock and an fcntl lock, as mutt, procmail and Dovecot do on
 * Debian), for this one message only, so a mail reader is not locked out
 * for the session. A lock not had within mbox_lock_timeout is a temporary
 * failure: nothing is ever written unlocked. If anything fails while
 * appending, the mbox is truncated back to its old size: never half a
 * message. Signals that would stop us are held off during the append.
 *
 * SIGKILL and crashes cannot be held off. So the spool file has a name
 * (STATEDIR/ACCOUNT.mbox-spool) and, before the first byte is appended,
 * what is about to be written is recorded and fdatasync'd in
 * STATEDIR/ACCOUNT.mbox-append (intent_write); the record is cleared once
 * the mbox is fsync'd. The account's next run, before delivering anything,
 * cuts back what such an append left unfinished, but only bytes that are
 * provably its own (mbox_recover).
 */

#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

#define DOTLOCK_STALE	1024	/* seconds, as procmail's default */
#define RENDER_BUF	65536
#define PREFIX_MAX	512	/* separator and From_ line */
#define INTENT_MAX	(PATH_MAX + 2 * PREFIX_MAX + 256)
#define INTENT_MAGIC	"pullmail-mbox-append 1"

/* The backend's state. */
struct mb {
	int		 ifd;		/* the append record, or -1 */
	char		*intent;	/* its path */
	char		*spool;		/* the spool file's path */
	int		 intent_live;	/* it names an unfinished append */
};
#define MB(d)	((struct mb *)(d)->priv)

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
mboxq_init(struct mboxq *q)
{
	memset(q, 0, sizeof(*q));
	q->bol = 1;
	q->last = -1;
}

static int
emit(struct mboxq *q, const char *s, size_t n, body_sink sink, void *arg)
{
	if (n == 0)
		return 0;
	q->last = (unsigned char)s[n - 1];
	return sink(arg, s, n);
}

static int
emit_gt(struct mboxq *q, size_t n, body_sink sink, void *arg)
{
	static const char gts[] = ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";
	size_t	 k;

	while (n > 0) {
		k = n < sizeof(gts) - 1 ? n : sizeof(gts) - 1;
		if (emit(q, gts, k, sink, arg) == -1)
			return -1;
		n -= k;
	}
	return 0;
}

/* Write out a line start held back while it might have become "From ". */
static int
flush_prefix(struct mboxq *q, body_sink sink, void *arg)
{
	if (emit_gt(q, q->gt, sink, arg) == -1 ||
	    emit(q, "From ", q->matched, sink, arg) == -1)
		return -1;
	q->gt = q->matched = 0;
	return 0;
}

/*
 * Quote a stream for mboxrd. Line starts are matched byte by byte, so a
 * ">>From " split across any number of calls is still seen, in constant
 * memory however long the line or the run of '>'.
 */
int
mboxq_run(struct mboxq *q, const char *in, size_t len, body_sink sink,
    void *arg)
{
	const char	*p = in, *end = in + len, *nl;

	while (p < end) {
		if (q->bol) {
			if (q->matched == 0 && *p == '>') {
				q->gt++;
				p++;
				continue;
			}
			if (*p == "From "[q->matched]) {
				p++;
				if (++q->matched < 5)
					continue;
				if (emit(q, ">", 1, sink, arg) == -1 ||
				    flush_prefix(q, sink, arg) == -1)
					return -1;
				q->bol = 0;
				continue;
			}
			if (flush_prefix(q, sink, arg) == -1)
				return -1;
			q->bol = 0;
		}
		if ((nl = memchr(p, '\n', end - p)) == NULL) {
			if (emit(q, p, end - p, sink, arg) == -1)
				return -1;
			break;
		}
		if (emit(q, p, nl + 1 - p, sink, arg) == -1)
			return -1;
		p = nl + 1;
		q->bol = 1;
	}
	return 0;
}

/* End of message: what is held back, and a final newline if missing. */
int
mboxq_finish(struct mboxq *q, body_sink sink, void *arg)
{
	if (flush_prefix(q, sink, arg) == -1)
		return -1;
	if (q->last != '\n' && emit(q, "\n", 1, sink, arg) == -1)
		return -1;
	return 0;
}

static int
out_sink(void *arg, const char *s, size_t n)
{
	return obuf_write(arg, s, n);
}

/* This host's name, as our dotlocks carry it; "" if unknown. */
static void
host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1)
		buf[0] = '\0';
	buf[len - 1] = '\0';
}

/*
 * What a dotlock of ours holds: "PID:HOST\n", Dovecot's convention (its
 * dotlocks are taken over by the same rule), which liblockfile's readers
 * also take as a pid. Written after the O_EXCL create; if that write fails
 * the lock is empty, which is still a lock, only one that can go stale the
 * old way.
 */
static void
dotlock_fill(int fd)
{
	char	 host[256], *s;
	int	 n;

	host_name(host, sizeof(host));
	n = xasprintf(&s, "%ld:%s\n", (long)getpid(), host);
	if (write(fd, s, n) != n)
		log_debug("cannot write into a lock file: %s", strerror(errno));
	free(s);
}

/*
 * Whether a dotlock's content names a process of this host that no longer
 * runs: "PID:HOST" (a final newline allowed), HOST this host's name, and
 * kill(PID, 0) failing with ESRCH. A lock naming our own pid is left by an
 * earlier process that had it too: we hold no dotlock while waiting for
 * one. A live process with a reused pid only makes the lock wait for
 * DOTLOCK_STALE, as before. *pidp is set to the pid named.
 */
static int
dotlock_orphan(char *buf, size_t len, long long *pidp)
{
	char		 host[256], *colon, *p;
	const char	*errstr;
	long long	 pid;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	if (strlen(buf) != len || (colon = strchr(buf, ':')) == NULL ||
	    colon == buf)
		return 0;
	*colon = '\0';
	for (p = buf; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	pid = strtonum(buf, 1, INT_MAX, &errstr);
	host_name(host, sizeof(host));
	if (errstr != NULL || host[0] == '\0' || strcmp(colon + 1, host) != 0)
		return 0;
	*pidp = pid;
	if (pid == (long long)getpid())
		return 1;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/*
 * A dotlock we could not create: remove it if it is stale, that is left by
 * a process of this host that no longer runs (dotlock_orphan), or, whoever
 * made it, older than DOTLOCK_STALE. Returns 1 if it is gone (try again at
 * once), 0 if it is to be waited for.
 *
 * Two pullmails may find the same stale lock at once. Only the one that
 * gets an flock on the lock file removes it, and only if the path still
 * names the file it examined (which cannot be reused while it is open), so
 * the other cannot remove the fresh lock the first one makes next. Where
 * flock is not supported the inode check alone remains. A lock we cannot
 * open is judged by its age alone, as before.
 */
static int
dotlock_stale(const char *lock)
{
	struct stat	 st, cur;
	char		 buf[512];
	long long	 pid = 0;
	ssize_t		 n;
	int		 fd, orphan = 0, rv = 0;

	fd = open(lock, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == EACCES)
		fd = open(lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 1;
		if (lstat(lock, &st) == 0 &&
		    time(NULL) - st.st_mtime > DOTLOCK_STALE) {
			log_warnx("%s: removing a stale lock file", lock);
			unlink(lock);
			return 1;
		}
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	if ((n = read(fd, buf, sizeof(buf) - 1)) >= 0)
		orphan = dotlock_orphan(buf, n, &pid);
	if (!orphan && time(NULL) - st.st_mtime <= DOTLOCK_STALE)
		goto out;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK)
		goto out;	/* another pullmail is taking it over */
	if (lstat(lock, &cur) == -1) {
		rv = errno == ENOENT;
		goto out;
	}
	if (cur.st_dev != st.st_dev || cur.st_ino != st.st_ino) {
		rv = 1;		/* a new lock: look at it */
		goto out;
	}
	if (orphan)
		log_notice("%s: taking over the lock file of process %lld, "
		    "which no longer runs", lock, pid);
	else
		log_warnx("%s: removing a stale lock file", lock);
	rv = unlink(lock) == 0 || errno == ENOENT;
out:
	close(fd);
	return rv;
}

/*
 * Take PATH.lock and an fcntl write lock on fd, waiting up to timeout
 * seconds; a stale dotlock is removed (dotlock_stale). Where the directory
 * does not let us create a dotlock, the fcntl lock alone is used. *dotlock
 * is set to the lock file's path if taken, else to NULL.
 */
static int
mbox_lock(const char *path, const char *shown, int timeout, int fd,
    char **dotlock, struct pm_err *err)
{
	struct flock	 fl;
	struct timespec	 pause = { 0, 100 * 1000 * 1000 };
	char		*lock;
	double		 deadline = mono_now() + timeout;
	int		 lfd, have_dot = 0, use_dot = 1;

	xasprintf(&lock, "%s.lock", path);
	for (;;) {
		if (use_dot && !have_dot) {
			lfd = open(lock, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
			if (lfd != -1) {
				dotlock_fill(lfd);
				close(lfd);
				have_dot = 1;
			} else if (errno == EACCES || errno == EROFS) {
				use_dot = 0;
			} else if (errno == EEXIST) {
				if (dotlock_stale(lock))
					continue;
			} else {
				err_set(err, EX_IOERR, "%s: %s", lock,
				    strerror(errno));
				goto fail;
			}
		}
		if (have_dot || !use_dot) {
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_SETLK, &fl) == 0)
				break;
			if (errno != EACCES && errno != EAGAIN) {
				err_set(err, EX_IOERR, "%s: cannot lock: %s",
				    shown, strerror(errno));
				goto fail;
			}
		}
		if (mono_now() >= deadline) {
			err_set(err, EX_TEMPFAIL, "%s: still locked by another "
			    "program after %d seconds", shown, timeout);
			goto fail;
		}
		nanosleep(&pause, NULL);
	}
	*dotlock = have_dot ? lock : NULL;
	if (!have_dot)
		free(lock);
	return 0;
fail:
	if (have_dot)
		unlink(lock);
	free(lock);
	return -1;
}

/*
 * What appending the message in the spool file writes: prefix (the blank
 * line or newline that separates it from the previous message, and its
 * From_ line), the message quoted for mboxrd with a final newline ensured,
 * and a blank line. The same bytes are rendered to append them, to measure
 * them and to check what a killed append left.
 */
static int
mbox_render(int spool, const char *prefix, size_t plen, body_sink sink,
    void *arg)
{
	struct mboxq	 q;
	char		*buf;
	off_t		 off;
	ssize_t		 n;
	int		 saved, rv = -1;

	buf = xmalloc(RENDER_BUF);
	if (sink(arg, prefix, plen) == -1)
		goto out;
	mboxq_init(&q);
	for (off = 0; ; off += n) {
		if ((n = pread(spool, buf, RENDER_BUF, off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			goto out;
		}
		if (n == 0)
			break;
		if (mboxq_run(&q, buf, n, sink, arg) == -1)
			goto out;
	}
	if (mboxq_finish(&q, sink, arg) == -1 || sink(arg, "\n", 1) == -1)
		goto out;
	rv = 0;
out:
	saved = errno;
	free(buf);
	errno = saved;
	return rv;
}

static int
count_sink(void *arg, const char *s, size_t n)
{
	*(off_t *)arg += n;
	return 0;
}

/* Compares what is rendered with the mbox from off, up to end. */
struct cmp {
	int	 fd;
	off_t	 off;
	off_t	 end;
	off_t	 total;		/* bytes rendered */
	int	 differ;
	int	 ioerr;		/* errno of a failed read of the mbox */
	char	 buf[RENDER_BUF];
};

static int
cmp_sink(void *arg, const char *s, size_t n)
{
	struct cmp	*c = arg;
	size_t		 k;
	ssize_t		 r;

	c->total += n;
	while (n > 0 && c->off < c->end) {
		k = n < sizeof(c->buf) ? n : sizeof(c->buf);
		if ((off_t)k > c->end - c->off)
			k = c->end - c->off;
		if ((r = pread(c->fd, c->buf, k, c->off)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			c->ioerr = r == -1 ? errno : EIO;
			return -1;
		}
		if (memcmp(c->buf, s, r) != 0) {
			c->differ = 1;
			return -1;
		}
		s += r;
		n -= r;
		c->off += r;
	}
	return 0;
}

/*
 * The append record, STATEDIR/ACCOUNT.mbox-append:
 *
 *	pullmail-mbox-append 1
 *	DEV INO START LENGTH PREFIX
 *	PATH
 *
 * the mbox's device and inode numbers, its size before the append, the
 * length of the append (mbox_render), the bytes before the message proper
 * in hexadecimal, and the mbox's path (the rest of the file, less its final
 * newline). The message itself is STATEDIR/ACCOUNT.mbox-spool.
 */
struct intent {
	unsigned long long	 dev;
	unsigned long long	 ino;
	long long		 start;
	long long		 len;
	char			 prefix[PREFIX_MAX];
	size_t			 plen;
	const char		*path;		/* into the buffer parsed */
};

static int
intent_num(char **pp, unsigned long long *v)
{
	char	*p = *pp, *end;

	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno != 0 || *end != ' ')
		return -1;
	*pp = end + 1;
	return 0;
}

/* Parse a record of len bytes in buf (modified), strictly. */
static int
intent_parse(char *buf, size_t len, struct intent *in)
{
	unsigned long long	 start, n;
	char			*p, *nl;
	size_t			 i;
	int			 hi, lo;

	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\0', len) != NULL)
		return -1;
	buf[len - 1] = '\0';
	if ((nl = strchr(buf, '\n')) == NULL)
		return -1;
	*nl = '\0';
	if (strcmp(buf, INTENT_MAGIC) != 0)
		return -1;
	p = nl + 1;
	if ((nl = strchr(p, '\n')) == NULL || nl[1] == '\0')
		return -1;
	*nl = '\0';
	in->path = nl + 1;
	if (intent_num(&p, &in->dev) == -1 || intent_num(&p, &in->ino) == -1 ||
	    intent_num(&p, &start) == -1 || intent_num(&p, &n) == -1 ||
	    start > LLONG_MAX / 2 || n == 0 || n > LLONG_MAX / 2)
		return -1;
	in->start = start;
	in->len = n;
	if (strlen(p) % 2 != 0 || strlen(p) / 2 > sizeof(in->prefix) ||
	    strlen(p) == 0)
		return -1;
	in->plen = strlen(p) / 2;
	for (i = 0; i < in->plen; i++) {
		if ((hi = hexval(p[2 * i])) == -1 ||
		    (lo = hexval(p[2 * i + 1])) == -1)
			return -1;
		in->prefix[i] = hi << 4 | lo;
	}
	if ((off_t)in->plen >= in->len)
		return -1;
	return 0;
}

/* Remove the record and its spool file: nothing is left to undo. */
static void
intent_drop(const char *intent, const char *spool)
{
	unlink(intent);
	unlink(spool);
}

/*
 * Record, durably, the append about to be made, before any byte of it is
 * written. The record file is created on first use (and its directory
 * fsync'd then); it is overwritten for each message.
 */
static int
intent_write(struct deliver *d, const struct stat *st, off_t start,
    off_t len, const char *prefix, size_t plen, struct pm_err *err)
{
	char		*rec, *hex;
	size_t		 i;
	int		 n, rv = -1;

	hex = xmalloc(plen * 2 + 1);
	for (i = 0; i < plen; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)prefix[i]);
	n = xasprintf(&rec, "%s\n%llu %llu %lld %lld %s\n%s\n", INTENT_MAGIC,
	    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	    (long long)start, (long long)len, hex, d->path);
	free(hex);
	if (MB(d)->ifd == -1) {
		MB(d)->ifd = open(MB(d)->intent, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (MB(d)->ifd == -1 || fsync_parent(MB(d)->intent) == -1)
			goto fail;
	}
	if (pwrite(MB(d)->ifd, rec, n, 0) != n || ftruncate(MB(d)->ifd, n) == -1 ||
	    fdatasync(MB(d)->ifd) == -1)
		goto fail;
	MB(d)->intent_live = 1;
	rv = 0;
	goto out;
fail:
	err_set(err, EX_IOERR, "%s: cannot record the append: %s", MB(d)->intent,
	    strerror(errno));
out:
	free(rec);
	return rv;
}

/*
 * The append is complete and fsync'd, or undone: clear the record. This
 * needs no fsync: a record that a crash brings back describes an append
 * that is complete (the mbox is at least START + LENGTH long) or whose
 * bytes no longer match, and mbox_recover leaves both alone.
 */
static void
intent_clear(struct deliver *d)
{
	if (MB(d)->ifd != -1 && ftruncate(MB(d)->ifd, 0) == -1)
		log_debug("%s: %s", MB(d)->intent, strerror(errno));
	MB(d)->intent_live = 0;
}

/*
 * Undo what an append killed part-way (SIGKILL, a crash) left at the end
 * of an mbox, as recorded by the account's last run. Called before the
 * account delivers anything, whatever its way of delivery now.
 *
 * The mbox named by the record is locked as for an append, and is cut back
 * to START only if it is the same file (DEV and INO), is longer than START
 * and shorter than START + LENGTH, and every byte after START is what the
 * killed append was writing there, rendered again from the spool file
 * (which must give LENGTH bytes). So pullmail cuts only its own unfinished
 * bytes: a complete append (a duplicate at worst: the message was not yet
 * recorded as delivered) is kept, and so is anything another program wrote
 * after the partial message, or a rewritten mbox; that is then reported
 * and left as it is. A cut is reported in one line.
 *
 * Fails (the record is kept for the next run) if the mbox cannot be opened
 * for another reason than being gone, locked, or cut.
 */
int
mbox_recover(const char *statedir, const struct account *a,
    struct pm_err *err)
{
	struct intent	 in;
	struct stat	 st;
	struct cmp	*c = NULL;
	char		*intent, *spool, *shown = NULL, *dotlock = NULL;
	char		 buf[INTENT_MAX + 1];
	ssize_t		 n;
	off_t		 size;
	int		 ifd, fd = -1, sfd = -1, rv = -1, keep = 1;

	xasprintf(&intent, "%s/%s.mbox-append", statedir, a->name);
	xasprintf(&spool, "%s/%s.mbox-spool", statedir, a->name);
	if ((ifd = open(intent, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			rv = 0;
			keep = 0;
		} else
			err_set(err, EX_IOERR, "%s: %s", intent,
			    strerror(errno));
		goto out;
	}
	n = read(ifd, buf, sizeof(buf));
	close(ifd);
	if (n == -1) {
		err_set(err, EX_IOERR, "%s: %s", intent, strerror(errno));
		goto out;
	}
	rv = 0;
	keep = 0;
	if (n == 0)
		goto out;	/* the last append completed */
	if (n > INTENT_MAX || intent_parse(buf, n, &in) == -1) {
		/* Torn while written: the append never began. */
		log_warnx("%s: not an append record: removed", intent);
		goto out;
	}
	shown = path_tilde(in.path);
	if ((fd = open(in.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			goto out;
		rv = -1;
		keep = 1;
		err_set(err, EX_IOERR, "%s: cannot check the end of an "
		    "interrupted append: %s", shown, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_dev != in.dev ||
	    (unsigned long long)st.st_ino != in.ino)
		goto out;	/* replaced since: not ours to touch */
	if (mbox_lock(in.path, shown, a->mbox_lock_timeout, fd, &dotlock,
	    err) == -1) {
		rv = -1;
		keep = 1;
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rv = -1;
		keep = 1;
		err_set(err, EX_IOERR, "%s: %s", shown, strerror(errno));
		goto unlock;
	}
	size = st.st_size;
	if (size <= in.start || size >= in.start + in.len)
		goto unlock;	/* nothing written, or all of it */
	c = xmalloc(sizeof(*c));
	c->fd = fd;
	c->off = in.start;
	c->end = size;
	c->total = 0;
	c->differ = c->ioerr = 0;
	if ((sfd = open(spool, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (mbox_render(sfd, in.prefix, in.plen, cmp_sink, c) == -1 &&
	    !c->differ) || c->ioerr) {
		log_warnx("%s: %lld bytes after offset %lld may be the start "
		    "of a message that pullmail was killed while appending; "
		    "left as they are: cannot compare them: %s", shown,
		    (long long)(size - in.start), in.start, strerror(c->ioerr ?
		    c->ioerr : errno));
		goto unlock;
	}
	if (c->differ || c->total != in.len) {
		log_warnx("%s: %lld bytes after offset %lld left as they are: "
		    "pullmail was killed while appending a message there, but "
		    "they are no longer only its bytes (the message is still "
		    "on the server)", shown,
		    (long long)(size - in.start), in.start);
		goto unlock;
	}
	if (ftruncate(fd, in.start) == -1 || fsync(fd) == -1) {
		rv = -1;
		keep = 1;
		err_set(err, EX_IOERR, "%s: cannot cut back an interrupted "
		    "append to %lld bytes: %s", shown, in.start,
		    strerror(errno));
		goto unlock;
	}
	log_warnx("%s: cut %lld bytes after offset %lld: the start of a "
	    "message that pullmail was killed while appending (it is still "
	    "on the server)", shown, (long long)(size - in.start), in.start);
unlock:
	if (dotlock != NULL)
		unlink(dotlock);
out:
	if (!keep)
		intent_drop(intent, spool);
	if (sfd != -1)
		close(sfd);
	if (fd != -1)
		close(fd);	/* releases the fcntl lock */
	free(c);
	free(dotlock);
	free(shown);
	free(intent);
	free(spool);
	return rv;
}

/*
 * Open the mbox for an append, creating it (mode 0600) if missing; a
 * created mbox's directory is fsync'd, so that it cannot vanish in a power
 * loss with the messages appended to it.
 */
static int
mbox_open_file(struct deliver *d, struct pm_err *err)
{
	struct stat	 st;
	int		 fd, tries;

	for (tries = 0; tries < 10; tries++) {
		fd = open(d->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1 || errno != ENOENT)
			break;
		fd = open(d->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST)
			continue;	/* made meanwhile by another program */
		if (fd == -1)
			break;
		if (fsync_parent(d->path) == -1) {
			err_set(err, EX_IOERR, "%s: cannot sync the directory "
			    "of a new mbox: %s", d->shown, strerror(errno));
			close(fd);
			return -1;
		}
		break;
	}
	if (fd == -1) {
		err_set(err, EX_IOERR, "%s: %s", d->shown, errno == ELOOP ?
		    "is a symbolic link: refusing to follow it" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(err, EX_IOERR, "%s: not a regular file", d->shown);
		close(fd);
		return -1;
	}
	return fd;
}

static int
mbox_commit(struct deliver *d, struct pm_err *err)
{
	struct obuf	*o;
	struct stat	 st;
	sigset_t	 block, saved;
	char		*sender, *dotlock = NULL, tail[2], date[64];
	char		 prefix[PREFIX_MAX];
	time_t		 now = time(NULL);
	off_t		 oldsize = -1, len = 0;
	size_t		 plen = 0;
	int		 fd, rv = -1;

	sender = deliver_sender(d->fd);
	o = xcalloc(1, sizeof(*o));
	if ((fd = mbox_open_file(d, err)) == -1)
		goto out;
	if (mbox_lock(d->path, d->shown, d->acct->mbox_lock_timeout, fd,
	    &dotlock, err) == -1)
		goto out;

	/* From here on, an interruption would leave half a message. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &saved);

	if (fstat(fd, &st) == -1 || (oldsize = st.st_size,
	    lseek(fd, 0, SEEK_END) == -1))
		goto ioerr;
	o->fd = fd;
	/* Separate from the previous message by a blank line. */
	if (oldsize >= 2 && pread(fd, tail, 2, oldsize - 2) == 2) {
		if (tail[1] != '\n')
			prefix[plen++] = '\n';
		if (tail[0] != '\n' || tail[1] != '\n')
			prefix[plen++] = '\n';
	} else if (oldsize == 1)
		prefix[plen++] = '\n';
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", localtime(&now));
	plen += snprintf(prefix + plen, sizeof(prefix) - plen, "From %s %s\n",
	    sender, date);
	if (mbox_render(d->fd, prefix, plen, count_sink, &len) == -1)
		goto ioerr;
	if (intent_write(d, &st, oldsize, len, prefix, plen, err) == -1) {
		oldsize = -1;	/* nothing written */
		goto ioerr;
	}
	if (mbox_render(d->fd, prefix, plen, out_sink, o) == -1 ||
	    obuf_flush(o) == -1)
		goto ioerr;
	if (fsync(fd) == -1)
		goto ioerr;
	intent_clear(d);
	rv = 0;
	goto unlock;
ioerr:
	err_set(err, EX_IOERR, "%s: cannot append: %s", d->shown,
	    strerror(errno));
	if (oldsize >= 0) {
		if (ftruncate(fd, oldsize) == -1 || fsync(fd) == -1)
			log_warnx("%s: cannot truncate back to %lld bytes: %s",
			    d->shown, (long long)oldsize, strerror(errno));
		else
			intent_clear(d);
	}
unlock:
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (dotlock != NULL)
		unlink(dotlock);
	free(dotlock);
out:
	if (fd != -1)
		close(fd);	/* releases the fcntl lock */
	free(o);
	free(sender);
	return rv;
}

/*
 * Ready the account's mbox delivery: the spool file, named so that the
 * next run can check what an interrupted append left (mbox_recover, which
 * deliver_open has called before this).
 */
static int
mbox_open(struct deliver *d, const char *statedir, struct pm_err *err)
{
	MB(d)->ifd = -1;
	xasprintf(&MB(d)->intent, "%s/%s.mbox-append", statedir, d->acct->name);
	xasprintf(&MB(d)->spool, "%s/%s.mbox-spool", statedir, d->acct->name);
	d->fd = open(MB(d)->spool, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (d->fd == -1) {
		err_set(err, EX_IOERR, "%s: cannot create a spool file: %s",
		    MB(d)->spool, strerror(errno));
		return -1;
	}
	return 0;
}

/* Each message was fsync'd while the mbox was locked. */
static int
mbox_sync(struct deliver *d, struct pm_err *err)
{
	return 0;
}

static void
spool_abort(struct deliver *d)
{
}

/*
 * The end of the session: the record and the spool file go, unless an
 * append could not be undone (mbox_recover tries again next run).
 */
static void
mbox_close(struct deliver *d)
{
	if (MB(d)->ifd != -1)
		close(MB(d)->ifd);
	MB(d)->ifd = -1;
	if (MB(d)->intent != NULL && !MB(d)->intent_live)
		intent_drop(MB(d)->intent, MB(d)->spool);
	free(MB(d)->intent);
	free(MB(d)->spool);
	MB(d)->intent = MB(d)->spool = NULL;
}

const struct deliver_backend mbox_backend = {
	.name = "mbox",
	.arg = DARG_PATH,
	.acct_off = offsetof(struct account, mbox),
	.flags = DB_SPOOL,
	.psize = sizeof(struct mb),
	.open = mbox_open,
	.begin = deliver_spool_begin,
	.commit = mbox_commit,
	.sync = mbox_sync,
	.abort = spool_abort,
	.close = mbox_close
};
