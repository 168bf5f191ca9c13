/*
 * Delivery: one interface over several backends. Every backend receives
 * the message into a file descriptor of its own (a Maildir tmp/ file, a
 * spool file) through the common buffer here, then:
 *
 *	commit	makes this message complete and visible (file fsync'd)
 *	sync	makes every committed message durable (directory fsync'd);
 *		called once per batch, before the batch's UIDs are recorded
 *	abort	throws the message away, leaving nothing visible
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "pullmail.h"

int
deliver_open(struct deliver *d, const struct account *a, struct pm_err *err)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->ops = &maildir_ops;
	d->path = xstrdup(a->maildir);
	d->shown = path_tilde(a->maildir);
	d->hostname = maildir_host();
	return maildir_create(d->path, d->shown, err);
}

int
deliver_begin(struct deliver *d, struct pm_err *err)
{
	d->wlen = 0;
	d->size = 0;
	return d->ops->begin(d, err);
}

/* Write out the buffer. */
int
deliver_drain(struct deliver *d, struct pm_err *err)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < d->wlen) {
		if ((n = write(d->fd, d->wbuf + off, d->wlen - off)) == -1) {
			if (errno == EINTR)
				continue;
			err_set(err, EX_IOERR, "%s: cannot write: %s",
			    d->shown, strerror(errno));
			return -1;
		}
		off += n;
	}
	d->wlen = 0;
	return 0;
}

int
deliver_write(struct deliver *d, const char *buf, size_t len,
    struct pm_err *err)
{
	size_t	 n;

	d->size += len;
	while (len > 0) {
		if (d->wlen == sizeof(d->wbuf) && deliver_drain(d, err) == -1)
			return -1;
		n = sizeof(d->wbuf) - d->wlen;
		if (n > len)
			n = len;
		memcpy(d->wbuf + d->wlen, buf, n);
		d->wlen += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int
deliver_commit(struct deliver *d, struct pm_err *err)
{
	if (deliver_drain(d, err) == -1)
		return -1;
	if (d->ops->commit(d, err) == -1)
		return -1;
	d->dirty = 1;
	return 0;
}

int
deliver_sync(struct deliver *d, struct pm_err *err)
{
	if (!d->dirty)
		return 0;
	if (d->ops->sync(d, err) == -1)
		return -1;
	d->dirty = 0;
	return 0;
}

void
deliver_abort(struct deliver *d)
{
	d->wlen = 0;
	d->ops->abort(d);
}

void
deliver_close(struct deliver *d)
{
	if (d->ops != NULL && d->ops->close != NULL)
		d->ops->close(d);
	free(d->path);
	free(d->shown);
	free(d->hostname);
	free(d->tmpname);
	d->path = d->shown = d->hostname = d->tmpname = NULL;
}
