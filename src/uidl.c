/*
 * The UIDL cache: which messages of an account have been delivered, with
 * the time each was first recorded.
 *
 * On disk it is a journal, one record a line:
 *
 *	pullmail-uidl 1
 *	+ 1700000000 UID	delivered (or marked seen) at that time
 *	- UID			no longer on the server
 *
 * Records are only ever appended (and fsync'd by uidl_commit), so a crash
 * can at worst leave a torn last line, which the next open drops. When the
 * dead records outnumber the live ones the file is rewritten whole: a temp
 * file, fsync, rename, directory fsync, so it is either old or new, never
 * half. In memory an open-addressing hash table makes every lookup O(1).
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "pullmail.h"

#define UIDL_MAGIC	"pullmail-uidl 1\n"

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

/* The table slot holding uid, or the empty slot where it would go. */
static uint32_t *
slot(const struct uidl *u, const char *uid)
{
	size_t	 i, mask = u->tsize - 1;

	for (i = hash(uid) & mask; u->table[i] != 0; i = (i + 1) & mask)
		if (strcmp(u->ents[u->table[i] - 1].uid, uid) == 0)
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

/* Set an entry live (adding it if new) or dead, in memory only. */
static void
set_entry(struct uidl *u, const char *uid, time_t t, int live)
{
	uint32_t		*s;
	struct uidl_ent		*e;

	if (u->tsize == 0 || (u->nents + 1) * 2 > u->tsize)
		rehash(u);
	s = slot(u, uid);
	if (*s != 0) {
		e = &u->ents[*s - 1];
		if (e->live && !live)
			u->nlive--;
		else if (!e->live && live) {
			u->nlive++;
			e->first_seen = t;
		}
		e->live = live;
		return;
	}
	if (!live)
		return;
	if (u->nents == u->nalloc) {
		u->nalloc = u->nalloc == 0 ? 256 : u->nalloc * 2;
		u->ents = xreallocarray(u->ents, u->nalloc, sizeof(*u->ents));
	}
	e = &u->ents[u->nents++];
	e->uid = xstrdup(uid);
	e->first_seen = t;
	e->live = 1;
	*s = u->nents;
	u->nlive++;
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

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static int
valid_uid(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return n > 0 && n <= PM_UID_MAX;
}

/* Parse one complete record (without its newline). */
static int
parse_record(struct uidl *u, char *line)
{
	const char	*errstr;
	char		*sp;
	long long	 t;

	if (line[0] == '-' && line[1] == ' ' && valid_uid(line + 2)) {
		set_entry(u, line + 2, 0, 0);
		return 0;
	}
	if (line[0] != '+' || line[1] != ' ' ||
	    (sp = strchr(line + 2, ' ')) == NULL)
		return -1;
	*sp = '\0';
	t = strtonum(line + 2, 0, INT64_MAX, &errstr);
	if (errstr != NULL || !valid_uid(sp + 1))
		return -1;
	set_entry(u, sp + 1, t, 1);
	return 0;
}

static int
load(struct uidl *u, struct pm_err *err)
{
	struct stat	 st;
	char		*buf = NULL, *p, *nl, *end;
	size_t		 len, good;
	ssize_t		 n;
	int		 lineno = 1;

	if (fstat(u->fd, &st) == -1)
		goto ioerr;
	len = st.st_size;
	buf = xmalloc(len + 1);
	for (good = 0; good < len; good += n) {
		n = pread(u->fd, buf + good, len - good, good);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1)
			goto ioerr;
		if (n == 0)
			break;
	}
	len = good;
	buf[len] = '\0';
	if (len == 0 && u->readonly) {
		free(buf);
		return 0;
	}
	if (len == 0) {
		/* New (or emptied by a crash before the first write). */
		if (write_all(u->fd, UIDL_MAGIC, strlen(UIDL_MAGIC)) == -1 ||
		    fsync(u->fd) == -1)
			goto ioerr;
		free(buf);
		return 0;
	}
	if (len < strlen(UIDL_MAGIC) ||
	    memcmp(buf, UIDL_MAGIC, strlen(UIDL_MAGIC)) != 0) {
		err_set(err, EX_IOERR, "%s: not a pullmail UIDL cache (move "
		    "it away to start afresh)", u->path);
		goto fail;
	}
	end = buf + len;
	good = strlen(UIDL_MAGIC);
	for (p = buf + good; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;	/* torn last record: dropped below */
		*nl = '\0';
		if (memchr(p, '\0', nl - p) != NULL ||
		    parse_record(u, p) == -1) {
			err_set(err, EX_IOERR, "%s: line %d: corrupt record "
			    "(move the file away to start afresh; messages "
			    "left on the server would be fetched again)",
			    u->path, lineno);
			goto fail;
		}
		good = nl + 1 - buf;
	}
	if (good < len && !u->readonly) {
		/* A crash tore the last append: cut it so appends line up. */
		if (ftruncate(u->fd, good) == -1 || fsync(u->fd) == -1)
			goto ioerr;
	}
	free(buf);
	return 0;
ioerr:
	err_set(err, EX_IOERR, "%s: %s", u->path, strerror(errno));
fail:
	free(buf);
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

const struct uidl_ent *
uidl_get(const struct uidl *u, const char *uid)
{
	uint32_t	*s;

	if (u->tsize == 0)
		return NULL;
	s = slot(u, uid);
	if (*s == 0 || !u->ents[*s - 1].live)
		return NULL;
	return &u->ents[*s - 1];
}

/* Record uid as delivered; durable only after uidl_commit. */
void
uidl_add(struct uidl *u, const char *uid, time_t t)
{
	char	 buf[32];
	int	 n;

	if (uidl_get(u, uid) != NULL)
		return;
	set_entry(u, uid, t, 1);
	n = snprintf(buf, sizeof(buf), "+ %lld ", (long long)t);
	pending_add(u, buf, n);
	pending_add(u, uid, strlen(uid));
	pending_add(u, "\n", 1);
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
	u->plen = 0;
	return 0;
}

/*
 * Forget UIDs that are no longer on the server (the listing is complete),
 * so the cache does not grow forever. Rewrites the file when most of it is
 * dead records.
 */
int
uidl_prune(struct uidl *u, const struct msg *m, size_t n, struct pm_err *err)
{
	unsigned char	*onserver;
	uint32_t	*s;
	size_t		 i, pruned = 0;

	onserver = xcalloc(u->nents, 1);
	for (i = 0; i < n; i++) {
		if (m[i].uid == NULL)
			continue;
		s = slot(u, m[i].uid);
		if (*s != 0)
			onserver[*s - 1] = 1;
	}
	for (i = 0; i < u->nents; i++) {
		if (!u->ents[i].live || onserver[i])
			continue;
		u->ents[i].live = 0;
		u->nlive--;
		pending_add(u, "- ", 2);
		pending_add(u, u->ents[i].uid, strlen(u->ents[i].uid));
		pending_add(u, "\n", 1);
		pruned++;
	}
	free(onserver);
	if (pruned == 0)
		return 0;
	log_debug("%s: %zu UIDs no longer on the server", u->path, pruned);
	if (u->nents - u->nlive > u->nlive + 64)
		return uidl_compact(u, err);
	return uidl_commit(u, err);
}

/* Rewrite the journal with only the live records, atomically. */
int
uidl_compact(struct uidl *u, struct pm_err *err)
{
	char		*tmp, *dir, *dcopy, buf[32];
	size_t		 i, j;
	int		 fd, n;

	if (u->readonly) {
		err_set(err, EX_SOFTWARE, "%s: opened read-only", u->path);
		return -1;
	}
	xasprintf(&tmp, "%s.tmp", u->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		goto fail;
	u->plen = 0;
	pending_add(u, UIDL_MAGIC, strlen(UIDL_MAGIC));
	for (i = 0; i < u->nents; i++) {
		if (!u->ents[i].live)
			continue;
		n = snprintf(buf, sizeof(buf), "+ %lld ",
		    (long long)u->ents[i].first_seen);
		pending_add(u, buf, n);
		pending_add(u, u->ents[i].uid, strlen(u->ents[i].uid));
		pending_add(u, "\n", 1);
	}
	if (write_all(fd, u->pending, u->plen) == -1 || fsync(fd) == -1 ||
	    rename(tmp, u->path) == -1) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	u->plen = 0;
	dcopy = xstrdup(u->path);
	dir = dirname(dcopy);
	if (fsync_dir(dir) == -1) {
		free(dcopy);
		close(fd);
		goto fail;
	}
	free(dcopy);
	close(u->fd);
	/* Reopen for appending; the new file is ours. */
	close(fd);
	u->fd = open(u->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (u->fd == -1)
		goto fail;
	for (i = j = 0; i < u->nents; i++) {
		if (u->ents[i].live)
			u->ents[j++] = u->ents[i];
		else
			free(u->ents[i].uid);
	}
	u->nents = j;
	rehash(u);
	free(tmp);
	return 0;
fail:
	err_set(err, EX_IOERR, "%s: cannot rewrite the UIDL cache: %s",
	    u->path, strerror(errno));
	free(tmp);
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
