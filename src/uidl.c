/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * The UIDL cache: what pullmail knows of each message of an account, by
 * its key (the UID, see pop3.c for duplicated and odd UIDs).
 *
 * On disk it is a journal, one record a line, replayed in order:
 *
 *	pullmail-uidl 2
 *	+ T KEY		delivered (or marked seen), first at time T
 *	D SIZE KEY	its deletion was asked for (DELE), and not known to
 *			have been carried out; SIZE is what LIST said then
 *	- KEY		forgotten: gone from the server (no longer listed, or
 *			deleted by a QUIT about to be sent)
 *	! T SIZE K KEY	not delivered: it arrived damaged (K = d: SIZE octets
 *			instead of what LIST said) or far larger than
 *			announced (K = o); first at time T
 *	A KEY		the user accepted it as the server sends it
 *
 * A KEY is 1 to PM_KEY_MAX printable ASCII characters or spaces, neither
 * first nor last a space. Version 1 files (the "+" and "-" records only)
 * are read, and rewritten as version 2 when opened for writing.
 *
 * Records are only ever appended (and fsync'd by uidl_commit), so a crash
 * can at worst leave a torn last line, which the next open drops. When the
 * dead records outnumber the live ones the file is rewritten from what is
 * durable in it (never from memory, which may hold records not committed
 * yet): a temp file, fsync, rename, directory fsync, so it is either old
 * or new, never half. In memory an open-addressing hash table makes every
 * lookup O(1); the file is read in pieces, never whole.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "pullmail.h"

#define UIDL_MAGIC	"pullmail-uidl 2\n"
#define UIDL_MAGIC1	"pullmail-uidl 1\n"
#define UIDL_MAGICLEN	16
#define LOAD_CHUNK	65536
#define REC_MAX		(PM_KEY_MAX + 64)	/* the longest record line */

static uint32_t
hash(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* The table slot holding key, or the empty slot where it would go. */
static uint32_t *
slot(const struct uidl *u, const char *key)
{
	size_t	 i, mask = u->tsize - 1;

	for (i = hash(key) & mask; u->table[i] != 0; i = (i + 1) & mask)
		if (strcmp(u->ents[u->table[i] - 1].uid, key) == 0)
			break;
	return &u->table[i];
}

static void
rehash(struct uidl *u)
{
	size_t	 i, want = 64;

	while (want < u->nents * 2 + 2)
		want *= 2;
	free(u->table);
	u->tsize = want;
	u->table = xcalloc(want, sizeof(*u->table));
	for (i = 0; i < u->nents; i++)
		*slot(u, u->ents[i].uid) = i + 1;
}

static int
ent_used(const struct uidl_ent *e)
{
	return e->live || e->suspect || e->accept;
}

/* The entry for key, created empty if create is set. */
static struct uidl_ent *
entry(struct uidl *u, const char *key, int create)
{
	uint32_t	*s;
	struct uidl_ent	*e;

	if (u->tsize == 0 || (u->nents + 1) * 2 > u->tsize)
		rehash(u);
	s = slot(u, key);
	if (*s != 0)
		return &u->ents[*s - 1];
	if (!create)
		return NULL;
	if (u->nents == u->nalloc) {
		u->nalloc = u->nalloc == 0 ? 256 : u->nalloc * 2;
		u->ents = xreallocarray(u->ents, u->nalloc, sizeof(*u->ents));
	}
	e = &u->ents[u->nents++];
	memset(e, 0, sizeof(*e));
	e->uid = xstrdup(key);
	*s = u->nents;
	return e;
}

/*
 * The state changes, each applied the same way when a record is made and
 * when it is replayed from the journal.
 */
static void
apply_add(struct uidl *u, struct uidl_ent *e, time_t t)
{
	if (e->live && !e->del)
		return;
	if (!e->live)
		u->nlive++;
	e->live = 1;
	e->first_seen = t;
	e->del = 0;
	e->del_size = 0;
	e->suspect = 0;
	e->accept = 0;
}

static void
apply_forget(struct uidl *u, struct uidl_ent *e)
{
	if (e->live)
		u->nlive--;
	e->live = e->del = e->suspect = e->accept = 0;
	e->del_size = e->sus_size = 0;
}

static void
pending_add(struct uidl *u, const char *s, size_t len)
{
	if (u->plen + len > u->psize) {
		while (u->plen + len > u->psize)
			u->psize = u->psize == 0 ? 4096 : u->psize * 2;
		u->pending = xreallocarray(u->pending, u->psize, 1);
	}
	memcpy(u->pending + u->plen, s, len);
	u->plen += len;
}

static void __attribute__((format(printf, 2, 3)))
pending_rec(struct uidl *u, const char *fmt, ...)
{
	char	 buf[REC_MAX + 2];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fatalx("uidl: record too long");
	pending_add(u, buf, n);
	u->precs++;
}

int
uidl_valid_key(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > PM_KEY_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* A decimal number at *p, then one space; *p moves past both. */
static int
field(char **p, long long max, long long *v)
{
	const char	*errstr;
	char		*sp;

	if ((sp = strchr(*p, ' ')) == NULL || sp == *p)
		return -1;
	*sp = '\0';
	*v = strtonum(*p, 0, max, &errstr);
	*sp = ' ';
	if (errstr != NULL)
		return -1;
	*p = sp + 1;
	return 0;
}

/* Replay one complete record (without its newline). */
static int
parse_record(struct uidl *u, char *line, int version)
{
	struct uidl_ent	*e;
	long long	 t, size;
	char		*p, kind;

	if (line[0] == '\0' || line[1] != ' ')
		return -1;
	p = line + 2;
	switch (line[0]) {
	case '+':
		if (field(&p, INT64_MAX, &t) == -1 || !uidl_valid_key(p))
			return -1;
		if (version == 1 && strchr(p, ' ') != NULL)
			return -1;
		apply_add(u, entry(u, p, 1), t);
		return 0;
	case '-':
		if (!uidl_valid_key(p))
			return -1;
		if ((e = entry(u, p, 0)) != NULL)
			apply_forget(u, e);
		return 0;
	}
	if (version == 1)
		return -1;
	switch (line[0]) {
	case 'D':
		if (field(&p, INT64_MAX, &size) == -1 || !uidl_valid_key(p))
			return -1;
		if ((e = entry(u, p, 0)) != NULL && e->live) {
			e->del = 1;
			e->del_size = size;
		}
		return 0;
	case '!':
		if (field(&p, INT64_MAX, &t) == -1 ||
		    field(&p, INT64_MAX, &size) == -1 ||
		    (p[0] != 'd' && p[0] != 'o') || p[1] != ' ' ||
		    !uidl_valid_key(p + 2))
			return -1;
		kind = p[0];
		e = entry(u, p + 2, 1);
		if (!e->live) {
			if (!e->suspect)
				e->sus_time = t;
			e->suspect = kind;
			e->sus_size = size;
		}
		return 0;
	case 'A':
		if (!uidl_valid_key(p))
			return -1;
		e = entry(u, p, 1);
		if (!e->live)
			e->accept = 1;
		return 0;
	}
	return -1;
}

/*
 * Read the journal in pieces and replay it. *goodp is the offset after the
 * last whole record, *recsp the number of records.
 */
static int
replay(struct uidl *u, int fd, off_t *goodp, size_t *recsp, int *versionp,
    struct pm_err *err)
{
	char		*buf, *p, *nl, *end;
	size_t		 have = 0, recs = 0;
	off_t		 off = 0, good = 0;
	ssize_t		 n;
	int		 lineno = 1, version = 0, eof = 0;

	buf = xmalloc(LOAD_CHUNK + REC_MAX + 2);
	for (;;) {
		while (!eof && have < LOAD_CHUNK) {
			n = pread(fd, buf + have, LOAD_CHUNK + REC_MAX + 1 -
			    have, off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				goto ioerr;
			if (n == 0)
				eof = 1;
			have += n;
			off += n;
		}
		buf[have] = '\0';
		p = buf;
		end = buf + have;
		if (version == 0) {
			if (have == 0) {
				free(buf);
				*goodp = 0;
				*recsp = 0;
				*versionp = 0;
				return 0;
			}
			if (have >= UIDL_MAGICLEN &&
			    memcmp(buf, UIDL_MAGIC, UIDL_MAGICLEN) == 0)
				version = 2;
			else if (have >= UIDL_MAGICLEN &&
			    memcmp(buf, UIDL_MAGIC1, UIDL_MAGICLEN) == 0)
				version = 1;
			else {
				err_set(err, EX_IOERR, "%s: not a pullmail "
				    "UIDL cache (move it away to start "
				    "afresh)", u->path);
				goto fail;
			}
			p += UIDL_MAGICLEN;
			good = UIDL_MAGICLEN;
		}
		for (; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', end - p)) == NULL)
				break;
			lineno++;
			*nl = '\0';
			if (memchr(p, '\0', nl - p) != NULL ||
			    nl - p > REC_MAX ||
			    parse_record(u, p, version) == -1) {
				err_set(err, EX_IOERR, "%s: line %d: corrupt "
				    "record (move the file away to start "
				    "afresh; messages left on the server "
				    "would be fetched again)", u->path,
				    lineno);
				goto fail;
			}
			recs++;
			good += nl + 1 - p;
		}
		have = end - p;
		if (eof)
			break;	/* what is left is a torn last record */
		if (have > REC_MAX) {
			err_set(err, EX_IOERR, "%s: line %d: corrupt record "
			    "(too long; move the file away to start afresh)",
			    u->path, lineno + 1);
			goto fail;
		}
		memmove(buf, p, have);
	}
	free(buf);
	*goodp = good;
	*recsp = recs;
	*versionp = version;
	return 0;
ioerr:
	err_set(err, EX_IOERR, "%s: %s", u->path, strerror(errno));
fail:
	free(buf);
	return -1;
}

static int
load(struct uidl *u, struct pm_err *err)
{
	struct stat	 st;
	off_t		 good;
	size_t		 recs;
	int		 version;

	if (fstat(u->fd, &st) == -1)
		goto ioerr;
	if (replay(u, u->fd, &good, &recs, &version, err) == -1)
		return -1;
	u->records = recs;
	if (u->readonly)
		return 0;
	if (version == 0) {
		/* New (or emptied by a crash before the first write). */
		if (ftruncate(u->fd, 0) == -1 ||
		    write_all(u->fd, UIDL_MAGIC, UIDL_MAGICLEN) == -1 ||
		    fsync(u->fd) == -1)
			goto ioerr;
		/* A new file: its name must survive a power loss too. */
		if (fsync_parent(u->path) == -1)
			goto ioerr;
		return 0;
	}
	if (good < st.st_size) {
		/* A crash tore the last append: cut it so appends line up. */
		if (ftruncate(u->fd, good) == -1 || fsync(u->fd) == -1)
			goto ioerr;
	}
	/* An old version, or mostly dead records: rewrite it now. */
	if (version == 1 || u->records > 2 * u->nlive + 64)
		return uidl_compact(u, err);
	return 0;
ioerr:
	err_set(err, EX_IOERR, "%s: %s", u->path, strerror(errno));
	return -1;
}

/*
 * Open and load the cache. Read-only (--check and --list, which change
 * nothing on disk): the cache as it is, never created, written or repaired
 * (a torn last record is dropped in memory only); no cache yet, or no
 * state directory, is an empty cache.
 */
static int
uidl_open_mode(struct uidl *u, const char *path, int readonly,
    struct pm_err *err)
{
	memset(u, 0, sizeof(*u));
	u->readonly = readonly;
	u->path = xstrdup(path);
	if (readonly)
		/* O_NONBLOCK: a FIFO there must not hang us (pread fails). */
		u->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
		    O_CLOEXEC);
	else
		u->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (u->fd == -1 && !(readonly && errno == ENOENT)) {
		err_set(err, EX_IOERR, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link: refusing to follow it" :
		    strerror(errno));
		free(u->path);
		u->path = NULL;
		return -1;
	}
	if (u->fd != -1 && load(u, err) == -1) {
		uidl_close(u);
		return -1;
	}
	if (u->tsize == 0)
		rehash(u);
	return 0;
}

int
uidl_open(struct uidl *u, const char *path, struct pm_err *err)
{
	return uidl_open_mode(u, path, 0, err);
}

int
uidl_open_ro(struct uidl *u, const char *path, struct pm_err *err)
{
	return uidl_open_mode(u, path, 1, err);
}

/* The entry of a delivered (or marked seen) message, or NULL. */
const struct uidl_ent *
uidl_get(const struct uidl *u, const char *key)
{
	const struct uidl_ent *e = uidl_lookup(u, key);

	return e != NULL && e->live ? e : NULL;
}

/* Whatever is known of key (delivered, suspect, accepted), or NULL. */
const struct uidl_ent *
uidl_lookup(const struct uidl *u, const char *key)
{
	uint32_t	*s;

	if (u->tsize == 0)
		return NULL;
	s = slot(u, key);
	if (*s == 0 || !ent_used(&u->ents[*s - 1]))
		return NULL;
	return &u->ents[*s - 1];
}

/*
 * Record key as delivered at time t: a no-op if it is already, unless its
 * deletion was pending (the UID came back on a new message), which starts
 * it afresh. Durable only after uidl_commit.
 */
void
uidl_add(struct uidl *u, const char *key, time_t t)
{
	struct uidl_ent	*e = entry(u, key, 1);

	if (e->live && !e->del)
		return;
	apply_add(u, e, t);
	pending_rec(u, "+ %lld %s\n", (long long)t, key);
}

/* Its deletion is asked for; size is what LIST says of it now. */
void
uidl_deleting(struct uidl *u, const char *key, uint64_t size)
{
	struct uidl_ent	*e = entry(u, key, 0);

	if (e == NULL || !e->live || (e->del && e->del_size == size))
		return;
	e->del = 1;
	e->del_size = size;
	pending_rec(u, "D %llu %s\n", (unsigned long long)size, key);
}

/* Forget key entirely. */
void
uidl_forget(struct uidl *u, const char *key)
{
	struct uidl_ent	*e = entry(u, key, 0);

	if (e == NULL || !ent_used(e))
		return;
	apply_forget(u, e);
	pending_rec(u, "- %s\n", key);
}

/* It arrived damaged ('d') or far too large ('o'), size octets of it. */
void
uidl_suspect(struct uidl *u, const char *key, time_t t, int kind,
    uint64_t size)
{
	struct uidl_ent	*e = entry(u, key, 1);

	if (e->live || (e->suspect == kind && e->sus_size == size))
		return;
	if (!e->suspect)
		e->sus_time = t;
	e->suspect = kind;
	e->sus_size = size;
	pending_rec(u, "! %lld %llu %c %s\n", (long long)e->sus_time,
	    (unsigned long long)size, kind, key);
}

/* The user takes it as the server sends it. */
void
uidl_accept(struct uidl *u, const char *key)
{
	struct uidl_ent	*e = entry(u, key, 1);

	if (e->live || e->accept)
		return;
	e->accept = 1;
	pending_rec(u, "A %s\n", key);
}

/*
 * Make sure that about len more bytes of records can be appended (a full
 * disk found now, before anything is delivered, not after): the space is
 * allocated past the end without changing the file's size. Filesystems
 * that cannot do that are tried with a sync of the file instead.
 */
int
uidl_reserve(struct uidl *u, uint64_t len, struct pm_err *err)
{
	struct stat	 st;
	int		 r = 0;

	if (u->readonly || len == 0)
		return 0;
	if (fstat(u->fd, &st) == -1) {
		r = errno;
		goto fail;
	}
#ifdef HAVE_FALLOCATE
	if (fallocate(u->fd, FALLOC_FL_KEEP_SIZE, st.st_size, len) == 0)
		return 0;
	r = errno;
	if (r != EOPNOTSUPP && r != ENOSYS)
		goto fail;
#endif
	if (fsync(u->fd) == 0)
		return 0;
	r = errno;
fail:
	err_set(err, EX_IOERR, "%s: cannot record delivered messages: %s "
	    "(nothing fetched)", u->path, strerror(r));
	return -1;
}

/* Append what is pending to the journal and fsync it. */
int
uidl_commit(struct uidl *u, struct pm_err *err)
{
	off_t	 end = -1;

	if (u->plen == 0)
		return 0;
	if (u->readonly) {
		err_set(err, EX_SOFTWARE, "%s: opened read-only", u->path);
		return -1;
	}
	if ((end = lseek(u->fd, 0, SEEK_END)) == -1 ||
	    write_all(u->fd, u->pending, u->plen) == -1 || fsync(u->fd) == -1) {
		int e = errno;

		/*
		 * Cut off whatever part of the records was written, so that
		 * a later retry (or run) does not append to half a line.
		 */
		if (end != -1 && ftruncate(u->fd, end) == 0)
			(void)fsync(u->fd);
		err_set(err, EX_IOERR, "%s: cannot record delivered messages: "
		    "%s", u->path, strerror(e));
		return -1;
	}
	u->records += u->precs;
	u->plen = 0;
	u->precs = 0;
	return 0;
}

/*
 * Forget keys that are no longer on the server (the listing is complete),
 * so the cache does not grow forever. Rewrites the file when most of it is
 * dead records.
 */
int
uidl_prune(struct uidl *u, const struct msg *m, size_t n, struct pm_err *err)
{
	unsigned char	*onserver;
	uint32_t	*s;
	size_t		 i, pruned = 0;

	onserver = xcalloc(u->nents + 1, 1);
	for (i = 0; i < n; i++) {
		if (m[i].uid == NULL)
			continue;
		s = slot(u, m[i].uid);
		if (*s != 0)
			onserver[*s - 1] = 1;
	}
	for (i = 0; i < u->nents; i++) {
		if (!ent_used(&u->ents[i]) || onserver[i])
			continue;
		uidl_forget(u, u->ents[i].uid);
		pruned++;
	}
	free(onserver);
	if (pruned == 0)
		return 0;
	log_debug("%s: %zu UIDs no longer on the server", u->path, pruned);
	if (uidl_commit(u, err) == -1)
		return -1;
	if (u->records > 2 * u->nlive + 64)
		return uidl_compact(u, err);
	return 0;
}

/* The records that rebuild entry e, into the pending buffer of w. */
static void
write_entry(struct uidl *w, const struct uidl_ent *e)
{
	if (e->live) {
		pending_rec(w, "+ %lld %s\n", (long long)e->first_seen, e->uid);
		if (e->del)
			pending_rec(w, "D %llu %s\n",
			    (unsigned long long)e->del_size, e->uid);
		return;
	}
	if (e->suspect)
		pending_rec(w, "! %lld %llu %c %s\n", (long long)e->sus_time,
		    (unsigned long long)e->sus_size, e->suspect, e->uid);
	if (e->accept)
		pending_rec(w, "A %s\n", e->uid);
}

/*
 * Rewrite the journal with only what it holds of value, atomically. What
 * is written is read back from the journal itself, so only what was
 * committed can be in the new file, whatever is pending in memory (which
 * stays pending, to be appended to the new file).
 */
int
uidl_compact(struct uidl *u, struct pm_err *err)
{
	struct uidl	 w;
	struct pm_err	 rerr = { 0, NULL };
	char		*tmp = NULL;
	off_t		 good;
	size_t		 i, j, recs;
	int		 fd = -1, version, e;

	if (u->readonly) {
		err_set(err, EX_SOFTWARE, "%s: opened read-only", u->path);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.fd = -1;
	w.path = u->path;
	rehash(&w);
	if (replay(&w, u->fd, &good, &recs, &version, &rerr) == -1) {
		err_set(err, EX_IOERR, "%s: cannot rewrite the UIDL cache: %s",
		    u->path, rerr.msg);
		err_clear(&rerr);
		w.path = NULL;
		uidl_close(&w);
		return -1;
	}
	pending_add(&w, UIDL_MAGIC, UIDL_MAGICLEN);
	for (i = 0; i < w.nents; i++)
		write_entry(&w, &w.ents[i]);
	xasprintf(&tmp, "%s.tmp", u->path);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		goto fail;
	if (write_all(fd, w.pending, w.plen) == -1 || fsync(fd) == -1 ||
	    fcntl(fd, F_SETFL, O_APPEND) == -1 || rename(tmp, u->path) == -1) {
		e = errno;
		unlink(tmp);
		errno = e;
		goto fail;
	}
	/* The new file is ours: append to it from now on. */
	close(u->fd);
	u->fd = fd;
	fd = -1;
	u->records = w.precs;
	if (fsync_parent(u->path) == -1)
		goto fail;
	/* Drop the entries that hold nothing any more. */
	for (i = j = 0; i < u->nents; i++) {
		if (ent_used(&u->ents[i]))
			u->ents[j++] = u->ents[i];
		else
			free(u->ents[i].uid);
	}
	u->nents = j;
	rehash(u);
	free(tmp);
	w.path = NULL;
	uidl_close(&w);
	return 0;
fail:
	e = errno;
	err_set(err, EX_IOERR, "%s: cannot rewrite the UIDL cache: %s",
	    u->path, strerror(e));
	if (fd != -1)
		close(fd);
	free(tmp);
	w.path = NULL;
	uidl_close(&w);
	return -1;
}

void
uidl_close(struct uidl *u)
{
	size_t	 i;

	if (u->fd != -1)
		close(u->fd);
	u->fd = -1;
	for (i = 0; i < u->nents; i++)
		free(u->ents[i].uid);
	free(u->ents);
	free(u->table);
	free(u->pending);
	free(u->path);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}
