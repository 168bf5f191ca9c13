/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * One account's session, and the ordering that makes it lossless:
 *
 *	1. RETR, streamed into the delivery backend (Maildir tmp/).
 *	2. commit: the message is whole (Maildir: in tmp/, still open and
 *	   pending; mbox: appended and fsync'd; MDA: exited 0).
 *	3. Once per batch (at most PM_BATCH_MSGS messages or about
 *	   PM_BATCH_BYTES): the backend is synced (Maildir: the batch's files
 *	   flushed together, then linked into new/, then new/ fsync'd), then
 *	   the batch's UIDs are appended to the cache and the cache fsync'd.
 *	   If the sync fails, none of the batch is delivered, recorded or
 *	   deleted.
 *	4. Only then DELE for the batch (unless keep).
 *	5. QUIT, only at the end of a session with no error, commits the
 *	   deletions. On any error there is no QUIT: the server rolls every
 *	   DELE back, and the next run deletes the recorded UIDs without
 *	   delivering them again.
 *
 * A crash anywhere loses nothing; during 3 it can at worst cause the
 * current batch to be delivered a second time (or leave files in tmp/).
 *
 * Commands are pipelined when the server allows it: RETRs run ahead of the
 * message being delivered, and DELEs follow each durable batch.
 *
 * A run may hold several such sessions one after the other, each ended by
 * its QUIT before the next logs in, for servers that list only part of a
 * large mailbox in a session (more_sessions).
 */

#include "config.h"

#include <sys/file.h>
#include <sys/ioctl.h>
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

#define MSG_SLACK	(64 * 1024 * 1024)
#define HEAD_MAX	8192	/* header bytes kept for -v */

/* Set by SIGTERM or SIGINT: finish what is in flight, then end cleanly. */
volatile sig_atomic_t	 fetch_stop;

/*
 * The UIDs (keys) this run deleted, for its later sessions: a server may
 * answer QUIT before it has removed them (Courier does) and list them
 * again to a session that logs in at once; they are gone, not new.
 */
struct gone {
	char			**key;
	size_t			  n;
};

static int
gone_has(const struct gone *g, const char *key)
{
	size_t	 i;

	for (i = 0; g != NULL && i < g->n; i++)
		if (strcmp(g->key[i], key) == 0)
			return 1;
	return 0;
}

static void
gone_add(struct gone *g, const char *key)
{
	if (g == NULL || gone_has(g, key))
		return;
	g->key = xreallocarray(g->key, g->n + 1, sizeof(*g->key));
	g->key[g->n++] = xstrdup(key);
}

static void
gone_free(struct gone *g)
{
	size_t	 i;

	for (i = 0; i < g->n; i++)
		free(g->key[i]);
	free(g->key);
	g->key = NULL;
	g->n = 0;
}

struct session {
	struct account		*acct;
	struct gone		*gone;		/* deleted earlier this run */
	struct pop3		 pop;
	struct uidl		 cache;
	struct deliver		 dlv;
	struct pm_err		 err;
	int			 soft;		/* status of per-message trouble */
	struct fetch_stats	*st;
	struct msg		*msgs;
	size_t			 nmsgs;

	size_t			*batch;		/* delivered, not yet recorded */
	size_t			 nbatch;
	uint64_t		 batch_bytes;

	size_t			*todel;		/* recorded, DELE not yet sent */
	size_t			 delhead;
	size_t			 deltail;

	struct msg		*cur;		/* being retrieved */
	uint64_t		 limit;
	char			*received;	/* the Received: header we add */
	size_t			 received_len;

	char			*head;		/* -v: the start of the message */
	size_t			 headlen;
	int			 progress;	/* show a progress line */
	int			 progress_shown;
	unsigned int		 total_msgs;	/* to fetch this run */
	uint64_t		 total_bytes;
	struct timespec		 started;
	struct timespec		 last_shown;
	uint64_t		 since_check;
	uint64_t		 dropped;	/* bytes of a message dropped */
	size_t			 prov;		/* idx+1: whole, not committed */
	char			 first[5];	/* the first bytes of a body */
	size_t			 firstlen;
	int			 per_msg;	/* record each message at once */
	unsigned int		 unrecorded;	/* delivered, not recorded */
	char			*damaged_dir;	/* copies of damaged messages */
};

static double
elapsed(const struct timespec *from, const struct timespec *to)
{
	return (to->tv_sec - from->tv_sec) +
	    (to->tv_nsec - from->tv_nsec) / 1e9;
}

/*
 * On a terminal, a line updated in place for downloads that take more
 * than a second: messages and bytes done of the total, and the rate.
 */
static void
progress(struct session *s, int done)
{
	struct timespec	 now;
	struct winsize	 ws;
	char		 a[32], b[32], r[32], line[256];
	uint64_t	 bytes;
	double		 t;

	if (!s->progress)
		return;
	if (done) {
		if (s->progress_shown)
			fprintf(stderr, "\r\033[K");
		s->progress_shown = 0;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed(&s->started, &now) < 1.0 ||
	    (s->progress_shown && elapsed(&s->last_shown, &now) < 0.2))
		return;
	s->last_shown = now;
	bytes = s->st->bytes + s->dlv.size;
	t = elapsed(&s->started, &now);
	snprintf(line, sizeof(line), "%s: %u/%u messages, %s of %s, %s/s",
	    s->acct->name, s->st->fetched, s->total_msgs,
	    human_size(bytes, a, sizeof(a)),
	    human_size(s->total_bytes, b, sizeof(b)),
	    human_size(t > 0 ? bytes / t : 0, r, sizeof(r)));
	/*
	 * A line wider than the terminal wraps, and "\r" then goes back to
	 * the start of the last piece only: a trail of old lines. Cut it to
	 * the width (less one: the cursor in the last column wraps too).
	 */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
	    strlen(line) >= ws.ws_col)
		line[ws.ws_col - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	s->progress_shown = 1;
}

/*
 * The one header pullmail adds: where the message came from, for whom and
 * when. Made only of our own configuration, never of server text.
 */
static void
make_received(struct session *s)
{
	char	 date[64], host[256];
	time_t	 now = time(NULL);

	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
	    localtime(&now));
	free(s->received);
	s->received_len = xasprintf(&s->received, "Received: from %s\n"
	    "\tby %s (pullmail %s) with %s\n\tfor <%s> (account %s); %s\n",
	    s->acct->host, host, PACKAGE_VERSION,
	    s->pop.conn.ssl != NULL ? "POP3S" : "POP3", s->acct->user,
	    s->acct->name, date);
}

/*
 * Take the account's lock: an flock, so it cannot outlive a crash. *fdp is
 * the locked descriptor, or -1 if there was nothing to lock.
 *
 * A fetch creates the lock file and holds it exclusively, with its pid
 * written in it. --check and --list (shared) change nothing on disk: they
 * take a shared lock on the lock file only if it exists, and write
 * nothing. No lock file means no fetch has ever run with this state
 * directory; a fetch starting meanwhile does not disturb them, since they
 * only read the UIDL cache. Shared holders exclude fetches, not each other.
 */
int
lock_account(const char *statedir, const char *name, int wait, int shared,
    int *fdp, struct pm_err *err)
{
	char	*path, buf[32];
	ssize_t	 n;
	int	 fd, r, op = shared ? LOCK_SH : LOCK_EX;

	*fdp = -1;
	xasprintf(&path, "%s/%s.lock", statedir, name);
	if (shared)
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 && shared && errno == ENOENT) {
		free(path);
		return 0;
	}
	if (fd == -1) {
		err_set(err, EX_IOERR, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	r = flock(fd, op | LOCK_NB);
	if (r == -1 && errno == EWOULDBLOCK && wait) {
		log_info("%s: waiting for another pullmail to finish", name);
		/* SIGHUP or SIGUSR1 may interrupt the wait: wait on. */
		while ((r = flock(fd, op)) == -1 && errno == EINTR &&
		    !fetch_stop)
			;
		if (r == -1 && errno == EINTR) {
			err_set(err, EX_TEMPFAIL, "stopped while waiting for "
			    "another pullmail");
			close(fd);
			free(path);
			return -1;
		}
	}
	if (r == -1) {
		if (errno != EWOULDBLOCK)
			err_set(err, EX_IOERR, "%s: %s", path, strerror(errno));
		else if (!shared && flock(fd, LOCK_SH | LOCK_NB) == 0)
			/* Only shared holders: -c or -l, with no pid written. */
			err_set(err, EX_TEMPFAIL, "another pullmail is checking "
			    "or listing this account (-c or -l)");
		else {
			/*
			 * The holder writes its pid just after taking the
			 * lock: until then the file holds nothing or the pid
			 * of a run that has ended. Name only a live one.
			 */
			const char	*errstr;
			long long	 pid;

			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			pid = strtonum(buf, 1, INT_MAX, &errstr);
			if (errstr == NULL && (kill((pid_t)pid, 0) == 0 ||
			    errno == EPERM))
				err_set(err, EX_TEMPFAIL, "already being "
				    "fetched by pid %lld", pid);
			else
				err_set(err, EX_TEMPFAIL, "already being "
				    "fetched by another pullmail");
		}
		close(fd);
		free(path);
		return -1;
	}
	if (!shared) {
		n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		/* Over the old pid, then cut: never an empty file. */
		if (pwrite(fd, buf, n, 0) != n || ftruncate(fd, n) == -1)
			log_debug("%s: cannot write pid", path);
	}
	free(path);
	*fdp = fd;
	return 0;
}

static void	 oversized(struct session *);
static void	 suspect(struct session *, const struct msg *, int, uint64_t);

/*
 * How much of a message LIST announced as size octets is read before it
 * counts as far larger than announced. Saturated: LIST may say anything
 * up to INT64_MAX, and twice that plus the slack wraps around.
 */
static uint64_t
msg_limit(uint64_t size)
{
	if (size > (UINT64_MAX - MSG_SLACK) / 2)
		return UINT64_MAX;
	return size * 2 + MSG_SLACK;
}

static int
sink(void *arg, const char *buf, size_t len)
{
	struct session	*s = arg;

	if (s->head != NULL && s->headlen < HEAD_MAX) {
		size_t n = len < HEAD_MAX - s->headlen ? len :
		    HEAD_MAX - s->headlen;
		memcpy(s->head + s->headlen, buf, n);
		s->headlen += n;
	}
	if ((s->since_check += len) >= 65536) {
		s->since_check = 0;
		progress(s, 0);
	}
	if (s->dlv.size + len > s->limit) {
		oversized(s);
		return -1;
	}
	if (s->firstlen < sizeof(s->first)) {
		size_t n = len < sizeof(s->first) - s->firstlen ? len :
		    sizeof(s->first) - s->firstlen;
		memcpy(s->first + s->firstlen, buf, n);
		s->firstlen += n;
	}
	return deliver_write(&s->dlv, buf, len, &s->err);
}

/*
 * A message whose first line is a status line ("+OK ..." cannot start a
 * header) is the reply to another command: a reply came that no command
 * asked for, and everything after it is one reply late.
 */
static int
in_step(struct session *s)
{
	if ((s->firstlen >= 4 && memcmp(s->first, "+OK", 3) == 0 &&
	    (s->first[3] == ' ' || s->first[3] == '\n')) ||
	    (s->firstlen >= 5 && memcmp(s->first, "-ERR", 4) == 0 &&
	    (s->first[4] == ' ' || s->first[4] == '\n')))
		return 0;
	return 1;
}

/*
 * A message far larger than LIST said (a server that announces 0 octets
 * for 70 MB): reading on could take forever, so the session ends here, but
 * the UID is recorded so that later runs leave this message on the server
 * with a notice and fetch the rest of the mailbox.
 */
static void
oversized(struct session *s)
{
	struct msg	*m = s->cur;
	char		 a[32], b[32];

	suspect(s, m, 'o', s->dlv.size + s->dropped);
	err_set(&s->err, EX_PROTOCOL, "%s: protocol error: message %u is far "
	    "larger than the %s LIST announced (more than %s arrived): left "
	    "on the server%s", s->acct->host, m->num,
	    human_size(m->size, a, sizeof(a)),
	    human_size(s->limit, b, sizeof(b)),
	    m->uid != NULL ? ", and skipped from now on" : "");
}

/*
 * Record that message m, got octets of it, was not delivered: damaged
 * ('d', fetched again after the others) or far too large ('o', left).
 * A failure to record costs only a retry in its usual place: said, and
 * the session goes on.
 */
static void
suspect(struct session *s, const struct msg *m, int kind, uint64_t got)
{
	struct pm_err	 e = { 0, NULL };

	if (m->uid == NULL)
		return;
	uidl_suspect(&s->cache, m->uid, time(NULL), kind, got);
	if (uidl_commit(&s->cache, &e) == -1) {
		log_warnx("%s: %s", s->acct->name, e.msg);
		err_clear(&e);
	}
}

/*
 * Stopping (SIGTERM, SIGINT): a message already on its way when the
 * message in hand is done is read and dropped, and stays on the server.
 */
static int
drop(void *arg, const char *buf, size_t len)
{
	struct session	*s = arg;

	(void)buf;
	if ((s->dropped += len) > s->limit) {
		oversized(s);
		return -1;
	}
	return 0;
}

/*
 * Does what arrived match what LIST announced? Servers count a line end as
 * two octets (CRLF, RFC 1939) or as one (LF: Gmail, and servers that keep
 * mbox files), so the body's size is taken both ways. A message is short,
 * cut off (a lost line, a stray "." line that ended it early, a proxy that
 * truncates), when even with CRLF it is more than SHORT_SLACK plus 1/64 of
 * LIST's figure below it: honest servers rewrite a few header bytes at
 * most. It is long, with bytes that are not its own, only when it is more
 * than half again LIST's figure plus LONG_SLACK: Exchange may announce the
 * size a message takes in its store, which for attachments is well below
 * their MIME size, and a message that came with extra bytes still holds
 * all of its own.
 */
#define SHORT_SLACK	64
#define LONG_SLACK	4096

int
fetch_size_ok(uint64_t announced, uint64_t got, uint64_t lines)
{
	if (got + lines + SHORT_SLACK + announced / 64 < announced)
		return 0;
	if (got > announced + announced / 2 + LONG_SLACK)
		return 0;
	return 1;
}

/* The directory for damaged copies, created on first use. */
static int
damaged_file(struct session *s, const struct msg *m, char **pathp,
    struct pm_err *err)
{
	char		 stamp[32];
	time_t		 now = time(NULL);
	int		 fd, i;

	*pathp = NULL;
	if (mkdir_p(s->damaged_dir, 0700) == -1) {
		err_set(err, EX_IOERR, "%s: %s", s->damaged_dir,
		    strerror(errno));
		return -1;
	}
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", localtime(&now));
	for (i = 0; i < 100; i++) {
		free(*pathp);
		if (i == 0)
			xasprintf(pathp, "%s/%s-%u.eml", s->damaged_dir, stamp,
			    m->num);
		else
			xasprintf(pathp, "%s/%s-%u.%d.eml", s->damaged_dir,
			    stamp, m->num, i);
		fd = open(*pathp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		err_set(err, EX_IOERR, "%s: %s", *pathp, strerror(errno));
		free(*pathp);
		*pathp = NULL;
	}
	return fd;
}

/*
 * A message that arrived damaged: not delivered, not recorded as
 * delivered, not deleted. A copy is kept (the user may need it: it may be
 * all the server will ever send) unless the same damage was seen before;
 * the next run tries again, after the other messages.
 */
static void
damaged(struct session *s, struct msg *m, uint64_t got, uint64_t lines)
{
	const struct uidl_ent *e = m->uid != NULL ?
	    uidl_lookup(&s->cache, m->uid) : NULL;
	struct pm_err	 ce = { 0, NULL };
	char		 a[32], b[32], *path = NULL, *shown = NULL, *v = NULL;
	char		*hint = NULL;
	int		 fd = -1, again;

	again = e != NULL && e->suspect == 'd' && e->sus_size == got;
	if (!again && (fd = damaged_file(s, m, &path, &ce)) != -1) {
		if (deliver_save_copy(&s->dlv, fd, &ce) == -1 ||
		    fsync(fd) == -1 || close(fd) == -1) {
			if (ce.status == 0)
				err_set(&ce, EX_IOERR, "%s: %s", path,
				    strerror(errno));
			unlink(path);
			free(path);
			path = NULL;
		} else
			(void)fsync_dir(s->damaged_dir);
	}
	deliver_abort(&s->dlv);
	if (path != NULL)
		shown = path_tilde(path);
	if (m->uid != NULL)
		v = log_vis(m->uid, strlen(m->uid));
	if (v != NULL)
		xasprintf(&hint, "; tried again next run (to take it as it "
		    "comes: pullmail --accept %s%s%s %s)", strchr(v, ' ') ?
		    "'" : "", v, strchr(v, ' ') ? "'" : "", s->acct->name);
	log_warnx("%s: message %u%s%s%s arrived damaged: LIST announced %s, "
	    "%s arrived (%llu lines); not delivered, left on the server%s%s%s",
	    s->acct->name, m->num, v ? " (UID " : "", v ? v : "", v ? ")" : "",
	    human_size(m->size, a, sizeof(a)), human_size(got, b, sizeof(b)),
	    (unsigned long long)lines, shown ? ", a copy is in " : "",
	    shown ? shown : again ? ", the same as last time" : "",
	    hint ? hint : "");
	free(hint);
	if (ce.status != 0) {
		log_warnx("%s: %s", s->acct->name, ce.msg);
		err_clear(&ce);
	}
	suspect(s, m, 'd', got);
	s->st->damaged++;
	if (s->soft == 0)
		s->soft = EX_PROTOCOL;
	free(v);
	free(shown);
	free(path);
}

/*
 * Retrieve one message whose +OK has been read, into the backend. It is
 * not committed yet: that waits until the next reply shows the stream in
 * step (settle), so a message ended early by a stray terminator, whose
 * rest then arrives as "replies", is never delivered.
 */
static int
retrieve(struct session *s, size_t idx)
{
	struct msg		*m = &s->msgs[idx];
	const struct uidl_ent	*e;
	struct body_dec		 bd;
	uint64_t		 got;

	s->cur = m;
	s->headlen = 0;
	s->dropped = 0;
	s->limit = msg_limit(m->size);
	if (deliver_begin(&s->dlv, &s->err) == -1)
		return -1;
	if (s->acct->received_header && deliver_write(&s->dlv, s->received,
	    s->received_len, &s->err) == -1) {
		deliver_abort(&s->dlv);
		return -1;
	}
	if (s->limit <= UINT64_MAX - s->received_len)
		s->limit += s->received_len;
	s->firstlen = 0;
	if (pop3_body(&s->pop, sink, s, &bd) == -1) {
		deliver_abort(&s->dlv);
		return -1;
	}
	got = s->dlv.size - (s->acct->received_header ? s->received_len : 0);
	e = m->uid != NULL ? uidl_lookup(&s->cache, m->uid) : NULL;
	if (!in_step(s) && (e == NULL || !e->accept)) {
		/*
		 * Recorded as damaged too, so that the next run, should the
		 * message itself begin so, fetches it after the others.
		 */
		deliver_abort(&s->dlv);
		suspect(s, m, 'd', got);
		err_set(&s->err, EX_PROTOCOL, "%s: protocol error: message %u "
		    "begins with a reply line: the server sent a reply no "
		    "command asked for", s->acct->host, m->num);
		return -1;
	}
	if (!fetch_size_ok(m->size, got, bd.lines) &&
	    (e == NULL || !e->accept)) {
		damaged(s, m, got, bd.lines);
		return 0;
	}
	s->prov = idx + 1;
	return 0;
}

/*
 * Make the batch durable, then record its UIDs, then let its DELEs go.
 * This is the order that makes a crash unable to lose mail.
 */
static int
commit_batch(struct session *s, struct pm_err *err)
{
	time_t	 now = time(NULL);
	size_t	 i;
	struct msg *m;

	if (s->nbatch == 0)
		return 0;
	if (deliver_sync(&s->dlv, err) == -1) {
		/*
		 * None of the batch is delivered (the backend removed it):
		 * record none of it, delete none of it, count none of it.
		 */
		for (i = 0; i < s->nbatch; i++)
			s->msgs[s->batch[i]].delivered = 0;
		s->st->fetched -= s->nbatch;
		s->st->bytes -= s->batch_bytes;
		s->nbatch = 0;
		s->batch_bytes = 0;
		return -1;
	}
	for (i = 0; i < s->nbatch; i++) {
		m = &s->msgs[s->batch[i]];
		if (m->uid == NULL)
			continue;
		uidl_add(&s->cache, m->uid, now);
		m->seen = now;
		/* Written with it, so that no DELE can go before it. */
		if (m->del)
			uidl_deleting(&s->cache, m->uid, m->size);
	}
	if (uidl_commit(&s->cache, err) == -1) {
		/* Delivered, but not recorded: they will come again. */
		s->unrecorded += s->nbatch;
		s->nbatch = 0;
		s->batch_bytes = 0;
		return -1;
	}
	for (i = 0; i < s->nbatch; i++) {
		m = &s->msgs[s->batch[i]];
		m->recorded = 1;
		if (m->del)
			s->todel[s->deltail++] = s->batch[i];
	}
	s->nbatch = 0;
	s->batch_bytes = 0;
	return 0;
}

/*
 * The message retrieved last is whole and the reply after it was in step:
 * deliver it. An mbox or an MDA has it durably now, so its UID is recorded
 * at once (a kill then duplicates at most the message in hand); Maildir
 * messages are made durable and recorded a batch at a time.
 */
static int
settle(struct session *s)
{
	struct msg	*m;
	size_t		 idx;
	char		 hs[32];

	if (s->prov == 0)
		return 0;
	idx = s->prov - 1;
	m = &s->msgs[idx];
	s->prov = 0;
	if (deliver_commit(&s->dlv, &s->err) == -1) {
		deliver_abort(&s->dlv);
		if (!s->dlv.rejected)
			return -1;
		/*
		 * Refused by a mail server for this message alone (LMTP,
		 * SMTP): reported, left on the server, and the session goes
		 * on with the next one.
		 */
		log_warnx("%s: message %u: %s", s->acct->name, m->num,
		    s->err.msg);
		if (s->soft == 0 || s->soft == EX_TEMPFAIL)
			s->soft = s->err.status;
		err_clear(&s->err);
		return 0;
	}
	m->delivered = 1;
	s->st->fetched++;
	s->st->bytes += s->dlv.size;
	s->batch[s->nbatch++] = idx;
	s->batch_bytes += s->dlv.size;
	if (s->head != NULL) {
		char *from = hdr_get(s->head, s->headlen, "From");
		char *subj = hdr_get(s->head, s->headlen, "Subject");
		char *df = rfc2047_decode(from ? from : "?");
		char *ds = rfc2047_decode(subj ? subj : "");
		char *sf = sanitize_text(df, 60), *ss = sanitize_text(ds, 100);

		log_info("%s: message %u (%s) from %s: %s", s->acct->name,
		    m->num, human_size(s->dlv.size, hs, sizeof(hs)), sf, ss);
		free(from);
		free(subj);
		free(df);
		free(ds);
		free(sf);
		free(ss);
	}
	if (s->per_msg || s->nbatch >= PM_BATCH_MSGS ||
	    s->batch_bytes >= PM_BATCH_BYTES)
		return commit_batch(s, &s->err);
	return 0;
}

/* Before anything is fetched: room in the cache for what this run adds. */
static int
reserve(struct session *s)
{
	uint64_t	 need = 0;
	size_t		 i;

	for (i = 0; i < s->nmsgs; i++)
		if (s->msgs[i].uid != NULL && s->msgs[i].action != ACT_SKIP &&
		    s->msgs[i].action != ACT_GONE)
			need += 3 * (strlen(s->msgs[i].uid) + 32);
	return uidl_reserve(&s->cache, need, &s->err);
}

/* The pipelined exchange: RETRs ahead, DELEs after each durable batch. */
static int
run(struct session *s)
{
	struct pop3	*p = &s->pop;
	enum pop3_cmd	 cmd;
	size_t		*fetch, nfetch = 0, next = 0, inflight_retr = 0, i, idx;
	uint64_t	 inflight_bytes = 0;
	int		 ok, window, rv = -1, pass;
	char		*v;

	fetch = xreallocarray(NULL, s->nmsgs, sizeof(*fetch));
	s->batch = xreallocarray(NULL, s->nmsgs, sizeof(*s->batch));
	s->todel = xreallocarray(NULL, s->nmsgs, sizeof(*s->todel));
	if (reserve(s) == -1)
		goto out;
	/* Messages that arrived damaged before go last. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < s->nmsgs; i++)
			if (s->msgs[i].action == ACT_FETCH &&
			    s->msgs[i].retry == pass)
				fetch[nfetch++] = i;
	for (i = 0; i < s->nmsgs; i++) {
		struct msg *m = &s->msgs[i];
		char hs[32];

		switch (m->action) {
		case ACT_FETCH:
			s->total_msgs++;
			s->total_bytes += m->size;
			break;
		case ACT_DELETE:		/* delivered before */
			uidl_deleting(&s->cache, m->uid, m->size);
			s->todel[s->deltail++] = i;
			break;
		case ACT_DELETE_BIG:
			log_notice("%s: message %u (%s) is larger than "
			    "delete_larger_than: deleting it unread",
			    s->acct->name, m->num,
			    human_size(m->size, hs, sizeof(hs)));
			s->st->big_deleted++;
			s->todel[s->deltail++] = i;
			break;
		case ACT_SKIP_BIG:
			log_notice("%s: message %u (%s) is larger than "
			    "%s: left on the server", s->acct->name, m->num,
			    human_size(m->size, hs, sizeof(hs)),
			    s->acct->delete_larger_than > 0 &&
			    m->size > s->acct->delete_larger_than ?
			    "delete_larger_than (not deleted with -k)" :
			    "skip_larger_than");
			s->st->too_big++;
			break;
		case ACT_SKIP_SUSPECT:
			v = log_vis(m->uid, strlen(m->uid));
			log_notice("%s: message %u (UID %s) was sent far "
			    "larger than the %s LIST announces: left on the "
			    "server (to fetch it as it comes: pullmail "
			    "--accept %s%s%s %s)", s->acct->name, m->num, v,
			    human_size(m->size, hs, sizeof(hs)),
			    strchr(v, ' ') ? "'" : "", v,
			    strchr(v, ' ') ? "'" : "", s->acct->name);
			free(v);
			s->st->too_big++;
			break;
		case ACT_DEFER:
			s->st->deferred++;
			break;
		case ACT_MARK:
			uidl_add(&s->cache, m->uid, time(NULL));
			s->st->marked++;
			break;
		case ACT_SKIP:
			s->st->kept++;
			break;
		case ACT_GONE:
			break;
		}
	}
	/* Marks, and deletions asked for, are on disk before any DELE. */
	if (uidl_commit(&s->cache, &s->err) == -1)
		goto out;
	if (pop3_before_fetch(p, nfetch + s->deltail) == -1)
		goto out;
	window = pop3_window(p);
	clock_gettime(CLOCK_MONOTONIC, &s->started);

	for (;;) {
		if (fetch_stop && next < nfetch) {
			s->st->deferred += nfetch - next;
			next = nfetch;		/* no new RETR; finish cleanly */
		}
		/*
		 * Nothing more to retrieve (the last reply, or a SIGTERM that
		 * cut the list short): the last batch is committed now, so
		 * that its DELEs go out before QUIT.
		 */
		if (s->prov == 0 && s->nbatch > 0 && next == nfetch &&
		    inflight_retr == 0 && commit_batch(s, &s->err) == -1)
			goto out;
		while (p->pcount < (size_t)window) {
			if (s->delhead < s->deltail) {
				idx = s->todel[s->delhead++];
				if (pop3_send(p, CMD_DELE, idx, "DELE %u",
				    s->msgs[idx].num) == -1)
					goto out;
			} else if (next < nfetch && (inflight_retr == 0 ||
			    inflight_bytes + s->msgs[fetch[next]].size <=
			    PM_INFLIGHT)) {
				/*
				 * As many RETRs ahead as the path holds: by
				 * the bytes they bring, not their number.
				 */
				idx = fetch[next++];
				if (pop3_send(p, CMD_RETR, idx, "RETR %u",
				    s->msgs[idx].num) == -1)
					goto out;
				inflight_retr++;
				inflight_bytes += s->msgs[idx].size;
			} else
				break;
		}
		if (p->pcount == 0) {
			if (s->prov == 0)
				break;
			/* Nothing else to ask: ask NOOP, to see it in step. */
			if (pop3_send(p, CMD_OTHER, 0, "NOOP") == -1)
				goto out;
		}
		if (pop3_reply(p, &cmd, &idx, &ok) == -1)
			goto out;
		/* A reply in step: the message before it was whole. */
		if (settle(s) == -1)
			goto out;
		if (cmd == CMD_OTHER)
			continue;
		if (cmd == CMD_DELE) {
			if (ok) {
				s->msgs[idx].deleted = 1;
				s->st->deleted++;
				continue;
			}
			v = pop3_last_text(p);
			log_warnx("%s: message %u: DELE refused: %s",
			    s->acct->name, s->msgs[idx].num, v);
			free(v);
			if (s->soft == 0)
				s->soft = EX_TEMPFAIL;
			continue;
		}
		inflight_retr--;
		inflight_bytes -= s->msgs[idx].size;
		if (!ok) {
			v = pop3_last_text(p);
			log_warnx("%s: message %u: RETR refused, left on the "
			    "server: %s", s->acct->name, s->msgs[idx].num, v);
			free(v);
			if (s->soft == 0)
				s->soft = EX_TEMPFAIL;
		} else if (fetch_stop) {
			struct body_dec	 bd;

			s->cur = &s->msgs[idx];
			s->limit = msg_limit(s->cur->size);
			s->dropped = 0;
			if (pop3_body(p, drop, s, &bd) == -1)
				goto out;
			s->st->deferred++;
		} else if (retrieve(s, idx) == -1)
			goto out;
	}
	rv = 0;
out:
	/* A message not shown to be whole is never delivered. */
	if (s->prov != 0) {
		deliver_abort(&s->dlv);
		s->prov = 0;
	}
	progress(s, 1);
	free(fetch);
	return rv;
}

/*
 * End the session: the UIDs deleted in it are forgotten (durably) before
 * QUIT, since once the server has carried the deletions out it may give
 * those UIDs to new messages. If QUIT then fails, or its reply is lost,
 * they are recorded again as delivered with their deletion pending, so the
 * next run deletes whatever is still there, unread, and fetches a message
 * that has taken one of their UIDs (told apart by its size).
 */
static int
quit(struct session *s)
{
	struct pm_err	 e = { 0, NULL };
	size_t		 i, n = 0;
	struct msg	*m;
	int		 r;

	for (i = 0; i < s->nmsgs; i++)
		if (s->msgs[i].deleted && s->msgs[i].uid != NULL) {
			uidl_forget(&s->cache, s->msgs[i].uid);
			n++;
		}
	if (uidl_commit(&s->cache, &s->err) == -1)
		return -1;	/* no QUIT: the server keeps them all */
	if ((r = pop3_quit(&s->pop)) == 0) {
		for (i = 0; i < s->nmsgs; i++)
			if (s->msgs[i].deleted && s->msgs[i].uid != NULL)
				gone_add(s->gone, s->msgs[i].uid);
		return 0;
	}
	if (n == 0)
		return r;
	{
		char *why = xstrdup(s->err.msg ? s->err.msg : "?");

		err_clear(&s->err);
		err_set(&s->err, EX_TEMPFAIL, "%s%s: the server may not have "
		    "carried out the %zu deletion%s; nothing is lost: the next "
		    "run deletes what is still there", why,
		    strstr(why, "QUIT") != NULL ? "" : " (at QUIT)", n,
		    n == 1 ? "" : "s");
		free(why);
	}
	for (i = 0; i < s->nmsgs; i++) {
		m = &s->msgs[i];
		if (!m->deleted || m->uid == NULL)
			continue;
		if (m->recorded || m->action == ACT_DELETE) {
			uidl_add(&s->cache, m->uid, m->seen ? m->seen :
			    time(NULL));
			uidl_deleting(&s->cache, m->uid, m->size);
		}
	}
	if (uidl_commit(&s->cache, &e) == -1) {
		log_warnx("%s: %s", s->acct->name, e.msg);
		err_clear(&e);
	}
	return -1;
}

/*
 * A session after the first that the server refuses for now, before the
 * login or at it, with LOGIN-DELAY or IN-USE (RFC 2449 section 8): a
 * server that enforces a delay between logins, or whose maildrop is still
 * locked from the session before. That is no failure of the run, which
 * asked for more only in case there was more: the next run fetches it.
 */
static int
refused_for_now(struct session *s)
{
	if (s->err.status != EX_TEMPFAIL ||
	    (strncasecmp(s->pop.resp, "[LOGIN-DELAY]", 13) != 0 &&
	    strncasecmp(s->pop.resp, "[IN-USE]", 8) != 0))
		return 0;
	log_info("%s: %s (another login so soon refused): the next run "
	    "fetches what may be left", s->acct->name, s->err.msg);
	err_clear(&s->err);
	return 1;
}

/*
 * One session with the account's server, the account's lock held by the
 * caller: log in (asking for the password, into *passwordp, on the first
 * session only), list, fetch, QUIT. sofar counts what earlier sessions of
 * this run fetched, for the per-run limits (none: this is the first).
 * Returns the session's exit status (0 on success) after reporting any
 * error once; *st counts this session only.
 */
/*
 * An OAuth2 login refused: the access token may have been revoked before
 * its time (a password change, the provider's own policy). Once a session,
 * a refreshed token is tried on a new connection, unless the refresh
 * gives the same token back. 1 when that login worked.
 */
static int
oauth2_retry(struct session *s, const char *statedir, char **passwordp)
{
	const struct account	*a = s->acct;
	struct pm_err		 e = { 0, NULL };
	char			*tok;

	if (a->oauth2 == NULL || s->err.status != EX_NOPERM)
		return 0;
	if ((tok = oauth2_access_token(a, statedir, *passwordp, &e)) == NULL) {
		/* Its reason says more than the refused login's. */
		err_clear(&s->err);
		s->err = e;
		return 0;
	}
	if (strcmp(tok, *passwordp) == 0) {
		freezero_str(tok);
		return 0;
	}
	log_info("%s: login refused with the saved OAuth2 access token; "
	    "trying a fresh one", a->name);
	freezero_str(*passwordp);
	*passwordp = tok;
	pop3_close(&s->pop);
	err_clear(&s->err);
	if (pop3_connect(&s->pop, a, 0, &s->err) == -1 ||
	    auth_login(&s->pop, *passwordp) == -1)
		return 0;
	return 1;
}

static int
fetch_session(struct account *a, const char *statedir,
    const struct run_opts *opts, char **passwordp,
    const struct fetch_stats *sofar, struct fetch_stats *st, int followup,
    struct gone *gone)
{
	struct session	 s;
	struct plan_policy pol;
	struct pm_err	 late = { 0, NULL };
	char		*path = NULL;
	int		 status, connected = 0, finished = 0;
	int		 readonly = opts->check || opts->list;
	size_t		 i;

	memset(&s, 0, sizeof(s));
	memset(st, 0, sizeof(*st));
	s.acct = a;
	s.gone = gone;
	s.st = st;
	s.progress = opts->progress;
	if (log_verbosity() >= 1)
		s.head = xmalloc(HEAD_MAX);
	s.cache.fd = -1;
	s.dlv.fd = -1;

	xasprintf(&path, "%s/%s.uidl", statedir, a->name);
	if (readonly) {
		/*
		 * --check and --list change nothing on disk: no state
		 * directory, lock file or cache is created, no mailbox opened.
		 */
		if (uidl_open_ro(&s.cache, path, &s.err) == -1)
			goto out;
	} else {
		if (uidl_open(&s.cache, path, &s.err) == -1 ||
		    deliver_open(&s.dlv, a, statedir, &s.err) == -1)
			goto out;
		s.per_msg = !deliver_batched(&s.dlv);
		xasprintf(&s.damaged_dir, "%s/%s.damaged", statedir, a->name);
	}
	/*
	 * EXTERNAL logs in by the client certificate: no password. OAuth2:
	 * the access token, refreshed first if it is about to expire.
	 */
	if (a->oauth2 != NULL && *passwordp == NULL &&
	    (*passwordp = oauth2_access_token(a, statedir, NULL,
	    &s.err)) == NULL)
		goto out;
	if (a->auth != AUTH_EXTERNAL && *passwordp == NULL &&
	    (*passwordp = auth_password(a, &s.err)) == NULL)
		goto out;

	connected = 1;
	if (pop3_connect(&s.pop, a, 0, &s.err) == -1 ||
	    (auth_login(&s.pop, *passwordp) == -1 &&
	    !oauth2_retry(&s, statedir, passwordp))) {
		if (followup && refused_for_now(&s))
			finished = 1;
		goto out;
	}
	if (pop3_unsolicited(&s.pop) == -1 || pop3_after_login(&s.pop) == -1)
		goto out;

	if (pop3_listing(&s.pop, &s.msgs, &s.nmsgs) == -1)
		goto out;
	st->listed = s.nmsgs;
	for (i = 0; i < s.nmsgs; i++) {
		struct msg	*m = &s.msgs[i];
		char		*v;

		if (m->copy != 1)
			continue;
		v = log_vis(m->uid, strlen(m->uid));
		log_notice("%s: message %u and %u other%s have the same UID %s: "
		    "each is fetched once", a->name, m->num, m->copies - 1,
		    m->copies == 2 ? "" : "s", v);
		free(v);
	}
	if (s.nmsgs > 0 && s.msgs[0].uid == NULL &&
	    (a->keep || a->keep_days || opts->mark_seen)) {
		err_set(&s.err, EX_CONFIG, "the server does not support UIDL, "
		    "which %s needs", opts->mark_seen ? "--mark-seen" :
		    a->keep ? "keep" : "keep_days");
		goto out;
	}
	if (!opts->check && !opts->list &&
	    uidl_prune(&s.cache, s.msgs, s.nmsgs, &s.err) == -1)
		goto out;
	memset(&pol, 0, sizeof(pol));
	pol.keep = a->keep;
	pol.keep_days = a->keep_days;
	pol.nodelete = opts->nodelete;
	pol.fetchall = a->fetchall || opts->fetchall;
	pol.mark_seen = opts->mark_seen;
	pol.skip_larger = a->skip_larger_than;
	pol.delete_larger = a->delete_larger_than;
	/* The per-run limits, less what earlier sessions fetched. */
	pol.max_messages = a->max_messages > 0 ?
	    a->max_messages - sofar->fetched : 0;
	pol.max_bytes = a->max_bytes > 0 ? a->max_bytes - sofar->bytes : 0;
	pol.now = time(NULL);
	plan_make(s.msgs, s.nmsgs, &s.cache, &pol);
	for (i = 0; i < s.nmsgs; i++)
		if (s.msgs[i].uid != NULL && gone_has(gone, s.msgs[i].uid)) {
			s.msgs[i].action = ACT_GONE;
			st->gone++;
		}
	if (st->gone > 0)
		log_info("%s: %u message%s deleted by the session before "
		    "still listed: left alone", a->name, st->gone,
		    st->gone == 1 ? "" : "s");
	for (i = 0; i < s.nmsgs; i++)
		if (s.msgs[i].action == ACT_GONE)
			continue;
		else if (s.msgs[i].uid == NULL || s.msgs[i].reused ||
		    uidl_get(&s.cache, s.msgs[i].uid) == NULL) {
			st->fresh++;
			st->fresh_bytes += s.msgs[i].size;
		}
	make_received(&s);

	/* --check and --list look and change nothing. */
	if (opts->list) {
		printf("%s: %zu message%s on %s\n", a->name, s.nmsgs,
		    s.nmsgs == 1 ? "" : "s", a->host);
		if (list_messages(&s.pop, s.msgs, s.nmsgs, &s.cache) == -1)
			goto out;
		if (pop3_quit(&s.pop) == -1)
			goto out;
	} else if (opts->check) {
		if (pop3_quit(&s.pop) == -1)
			goto out;
	} else if (run(&s) == -1 || quit(&s) == -1)
		goto out;
	finished = 1;
out:
	/* Every way here but the last line has failed: never as success. */
	if (!finished && s.err.status == 0)
		err_set(&s.err, EX_SOFTWARE, "internal error: the session "
		    "failed without saying why");
	/*
	 * After an error, still record what was delivered whole, so the
	 * next run deletes it instead of delivering it twice.
	 */
	if (s.nbatch > 0 && commit_batch(&s, &late) == -1) {
		/* Not recorded: the batch is fetched again next time. */
		if (s.err.status == 0) {
			s.err = late;
			late.status = 0;
			late.msg = NULL;
		} else
			log_warnx("%s: %s", a->name, late.msg);
	}
	err_clear(&late);
	if (s.err.status != 0) {
		log_warnx("%s: %s", a->name, s.err.msg);
		if (connected && st->fetched > s.unrecorded)
			log_warnx("%s: the %u message%s delivered before the "
			    "error %s safe in %s", a->name,
			    st->fetched - s.unrecorded,
			    st->fetched - s.unrecorded == 1 ? "" : "s",
			    st->fetched - s.unrecorded == 1 ? "is" : "are",
			    s.dlv.shown);
		if (s.unrecorded > 0)
			log_warnx("%s: %u message%s delivered to %s could not "
			    "be recorded and will be delivered again",
			    a->name, s.unrecorded, s.unrecorded == 1 ? "" : "s",
			    s.dlv.shown);
	}
	status = s.err.status != 0 ? s.err.status : s.soft;
	err_clear(&s.err);
	if (connected)
		pop3_close(&s.pop);
	deliver_close(&s.dlv);
	uidl_close(&s.cache);
	for (i = 0; i < s.nmsgs; i++)
		free(s.msgs[i].uid);
	free(s.msgs);
	free(s.batch);
	free(s.todel);
	free(s.received);
	free(s.head);
	free(s.damaged_dir);
	free(path);
	log_secret_clear();
	return status;
}

/*
 * New messages a session must deliver, every new one it listed, for the
 * server to look as if it capped the listing (see more_sessions): Gmail
 * lists about 250 a session (250 conversations, so often a few more
 * messages), and 100 leaves room for a smaller cap, while a normal run of
 * cron or -d brings far fewer. A server that listed everything costs one
 * more login then, which brings nothing new; only a run that delivers
 * this many at once pays it (a server that enforces LOGIN-DELAY refuses
 * that login, which refused_for_now takes as the end of the run).
 */
#define CAPPED_MIN	100

/*
 * Whether to start another session after one that ended cleanly (st):
 * some servers list only part of a large mailbox in a session, the
 * oldest messages not yet downloaded (Gmail: about 250), and hide those
 * downloaded in a session that QUIT; a new session lists the next ones.
 * So a session that delivered every new message it listed, at least
 * CAPPED_MIN of them, is followed by another, up to max_sessions in a
 * run, and within the run's max_messages and max_bytes (sofar: the run
 * so far, st included). Messages listed that are not new do not stop
 * this: with keep, Gmail lists again those delivered in a session that
 * ended without QUIT, since only a RETR in a session that QUITs hides a
 * message, and pullmail does not fetch them again. Each session has
 * recorded, deleted and QUIT before the next one logs in.
 */
static int
more_sessions(const struct account *a, const struct run_opts *opts,
    const struct fetch_stats *st, const struct fetch_stats *sofar, int n)
{
	if (fetch_stop || opts->check || opts->list || opts->mark_seen)
		return 0;
	if (st->fetched < CAPPED_MIN || st->fetched != st->fresh)
		return 0;
	if ((a->max_messages > 0 &&
	    sofar->fetched >= (unsigned int)a->max_messages) ||
	    (a->max_bytes > 0 && sofar->bytes >= a->max_bytes))
		return 0;
	if (n >= a->max_sessions) {
		log_info("%s: the server may have more messages than it "
		    "lists in a session: the next run fetches them "
		    "(max_sessions = %d)", a->name, a->max_sessions);
		return 0;
	}
	log_info("%s: the server listed %u messages, %u of them new and now "
	    "delivered: logging in again for more (session %d)", a->name,
	    st->listed, st->fetched, n + 1);
	return 1;
}

static void
stats_add(struct fetch_stats *to, const struct fetch_stats *st)
{
	to->listed += st->listed;
	to->fetched += st->fetched;
	to->bytes += st->bytes;
	to->deleted += st->deleted;
	to->kept += st->kept;
	to->fresh += st->fresh;
	to->fresh_bytes += st->fresh_bytes;
	to->deferred += st->deferred;
	to->too_big += st->too_big;
	to->big_deleted += st->big_deleted;
	to->marked += st->marked;
	to->damaged += st->damaged;
	to->gone += st->gone;
}

/*
 * Fetch one account: its lock taken once, then one session, or several
 * while the server seems to list only part of the mailbox (more_sessions).
 * Returns its exit status (0 on success) after reporting any error once;
 * *st counts every session.
 */
int
fetch_account(struct account *a, const char *statedir,
    const struct run_opts *opts, struct fetch_stats *st)
{
	struct fetch_stats	 one;
	struct gone		 gone = { NULL, 0 };
	struct pm_err		 err = { 0, NULL };
	char			*password = NULL;
	int			 lockfd = -1, status = 0, n;
	int			 readonly = opts->check || opts->list;

	memset(st, 0, sizeof(*st));
	/*
	 * --check and --list create no state directory or lock file: they
	 * take a shared lock, if there is a lock file.
	 */
	if (!readonly && mkdir_p(statedir, 0700) == -1) {
		err_set(&err, EX_IOERR, "%s: %s", statedir, strerror(errno));
		goto out;
	}
	if (lock_account(statedir, a->name, opts->wait, readonly, &lockfd,
	    &err) == -1)
		goto out;
	for (n = 1;; n++) {
		status = fetch_session(a, statedir, opts, &password, st, &one,
		    n > 1, &gone);
		stats_add(st, &one);
		if (status != 0 || !more_sessions(a, opts, &one, st, n))
			break;
	}
out:
	if (err.status != 0) {
		log_warnx("%s: %s", a->name, err.msg);
		status = err.status;
		err_clear(&err);
	}
	if (password != NULL)
		freezero_str(password);
	if (lockfd != -1)
		close(lockfd);
	gone_free(&gone);
	log_secret_clear();
	return status;
}

/*
 * --accept: the user takes these messages, found damaged or far larger
 * than announced, as the server sends them: the next run fetches and
 * delivers them without checking their size.
 */
int
fetch_accept(struct account *a, const char *statedir, char **keys, int nkeys,
    int wait)
{
	struct uidl		 cache;
	struct pm_err		 err = { 0, NULL };
	const struct uidl_ent	*e;
	char			*path, *v;
	int			 lockfd = -1, i, status = 0;

	cache.fd = -1;
	xasprintf(&path, "%s/%s.uidl", statedir, a->name);
	if (mkdir_p(statedir, 0700) == -1) {
		err_set(&err, EX_IOERR, "%s: %s", statedir, strerror(errno));
		goto out;
	}
	if (lock_account(statedir, a->name, wait, 0, &lockfd, &err) == -1 ||
	    uidl_open(&cache, path, &err) == -1)
		goto out;
	for (i = 0; i < nkeys; i++) {
		v = log_vis(keys[i], strlen(keys[i]));
		e = uidl_lookup(&cache, keys[i]);
		if (e == NULL || e->live || !e->suspect) {
			log_warnx("%s: no message with UID %s is known to have "
			    "arrived damaged", a->name, v);
			if (status == 0)
				status = EX_USAGE;
		} else {
			uidl_accept(&cache, keys[i]);
			log_notice("%s: UID %s accepted: the next run fetches it "
			    "as the server sends it", a->name, v);
		}
		free(v);
	}
	if (uidl_commit(&cache, &err) == -1)
		goto out;
out:
	if (err.status != 0) {
		log_warnx("%s: %s", a->name, err.msg);
		status = err.status;
		err_clear(&err);
	}
	uidl_close(&cache);
	if (lockfd != -1)
		close(lockfd);
	free(path);
	return status;
}
