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

static int
mbox_commit(struct deliver *d, struct pm_err *err)
{
	struct obuf	*o;
	struct mboxq	 q;
	struct stat	 st;
	sigset_t	 block, saved;
	char		*sender, *dotlock = NULL, tail[2], date[64], buf[65536];
	time_t		 now = time(NULL);
	off_t		 oldsize = -1, off;
	ssize_t		 n;
	int		 fd, rv = -1;

	sender = deliver_sender(d->fd);
	o = xcalloc(1, sizeof(*o));
	fd = open(d->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		err_set(err, EX_IOERR, "%s: %s", d->shown, errno == ELOOP ?
		    "is a symbolic link: refusing to follow it" :
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(err, EX_IOERR, "%s: not a regular file", d->shown);
		goto out;
	}
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
			out_sink(o, "\n\n", 2);
		else if (tail[0] != '\n')
			out_sink(o, "\n", 1);
	} else if (oldsize == 1)
		out_sink(o, "\n", 1);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", localtime(&now));
	out_sink(o, "From ", 5);
	out_sink(o, sender, strlen(sender));
	out_sink(o, " ", 1);
	out_sink(o, date, strlen(date));
	out_sink(o, "\n", 1);
	mboxq_init(&q);
	for (off = 0; ; off += n) {
		if ((n = pread(d->fd, buf, sizeof(buf), off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			goto ioerr;
		}
		if (n == 0)
			break;
		if (mboxq_run(&q, buf, n, out_sink, o) == -1)
			goto ioerr;
	}
	if (mboxq_finish(&q, out_sink, o) == -1 || out_sink(o, "\n", 1) == -1 ||
	    obuf_flush(o) == -1)
		goto ioerr;
	if (fsync(fd) == -1)
		goto ioerr;
	rv = 0;
	goto unlock;
ioerr:
	err_set(err, EX_IOERR, "%s: cannot append: %s", d->shown,
	    strerror(errno));
	if (oldsize >= 0 && (ftruncate(fd, oldsize) == -1 || fsync(fd) == -1))
		log_warnx("%s: cannot truncate back to %lld bytes: %s",
		    d->shown, (long long)oldsize, strerror(errno));
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

const struct deliver_ops mbox_ops = {
	"mbox",
	deliver_spool_begin,
	mbox_commit,
	mbox_sync,
	spool_abort,
	NULL
};
