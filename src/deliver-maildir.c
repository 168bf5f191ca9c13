/*
 * Maildir delivery: write to tmp/ under a unique name, fsync, link into
 * new/ (never overwriting), remove the tmp/ name. The directory new/ is
 * fsync'd once per batch by sync, before the batch's UIDs are recorded, so
 * a recorded message is always durably in new/.
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "pullmail.h"

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
		name = maildir_name(d->hostname, tv.tv_sec, tv.tv_usec,
		    getpid(), ++d->seq);
		xasprintf(&path, "%s/tmp/%s", d->path, name);
		free(name);
		d->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (d->fd != -1) {
			free(d->tmpname);
			d->tmpname = path;
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

static int
maildir_commit(struct deliver *d, struct pm_err *err)
{
	char	*base, *final = NULL;
	int	 tries;

	if (fsync(d->fd) == -1) {
		err_set(err, EX_IOERR, "%s: cannot write: %s", d->shown,
		    strerror(errno));
		goto fail;
	}
	if (close(d->fd) == -1) {
		d->fd = -1;
		err_set(err, EX_IOERR, "%s: cannot write: %s", d->shown,
		    strerror(errno));
		goto fail;
	}
	d->fd = -1;
	base = strrchr(d->tmpname, '/') + 1;
	for (tries = 0; tries < 100; tries++) {
		if (tries == 0)
			xasprintf(&final, "%s/new/%s,S=%llu", d->path, base,
			    (unsigned long long)d->size);
		else
			xasprintf(&final, "%s/new/%s_%d,S=%llu", d->path, base,
			    tries, (unsigned long long)d->size);
		if (link(d->tmpname, final) == 0)
			break;
		if (errno == EEXIST) {
			free(final);
			final = NULL;
			continue;
		}
		/* Filesystems without hard links: rename cannot clobber a
		 * unique name in practice. */
		if ((errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS) &&
		    access(final, F_OK) == -1 && rename(d->tmpname, final) == 0)
			goto done;
		err_set(err, EX_IOERR, "%s: cannot move a message into new/: "
		    "%s", d->shown, strerror(errno));
		goto fail;
	}
	if (final == NULL) {
		err_set(err, EX_IOERR, "%s: no free name in new/", d->shown);
		goto fail;
	}
	unlink(d->tmpname);
done:
	free(final);
	free(d->tmpname);
	d->tmpname = NULL;
	return 0;
fail:
	free(final);
	maildir_abort(d);
	return -1;
}

static int
maildir_sync(struct deliver *d, struct pm_err *err)
{
	char	*dir;
	int	 rv;

	xasprintf(&dir, "%s/new", d->path);
	rv = fsync_dir(dir);
	if (rv == -1)
		err_set(err, EX_IOERR, "%s: cannot sync new/: %s", d->shown,
		    strerror(errno));
	free(dir);
	return rv;
}

static void
maildir_abort(struct deliver *d)
{
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	if (d->tmpname != NULL)
		unlink(d->tmpname);
	free(d->tmpname);
	d->tmpname = NULL;
}

const struct deliver_ops maildir_ops = {
	"maildir",
	maildir_begin,
	maildir_commit,
	maildir_sync,
	maildir_abort,
	maildir_abort
};

/* Create the Maildir and its three subdirectories if missing. */
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
