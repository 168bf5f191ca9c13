/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Delivery: one interface over three backends (Maildir, mbox, MDA). Every
 * backend receives the message into a file descriptor of its own (a
 * Maildir tmp/ file, or a spool file for mbox and MDA, so that nothing is
 * appended to an mbox or handed to an MDA before it has arrived whole)
 * through the common buffer here, then:
 *
 *	commit	ends this message: delivered (mbox: appended and fsync'd;
 *		MDA: exited 0) or, for Maildir, whole in tmp/ and pending
 *	sync	makes every committed message durable (Maildir: pending
 *		files flushed, linked into new/, new/ fsync'd); called once
 *		per batch, before the batch's UIDs are recorded. If it fails,
 *		none of the pending messages is delivered and the caller must
 *		record none of the batch
 *	abort	throws the message being written away, leaving nothing visible
 *	close	also throws away whatever is pending (never synced)
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

#define HEADER_PEEK	65536	/* how much of a message to search for headers */

int
deliver_open(struct deliver *d, const struct account *a, const char *statedir,
    struct pm_err *err)
{
	const char	*why;
	int		 n;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->ifd = -1;
	d->acct = a;
	/* Whatever the way of delivery now, first undo a killed append. */
	if (mbox_recover(statedir, a, err) == -1)
		return -1;
	if (a->maildir != NULL) {
		d->ops = &maildir_ops;
		d->path = xstrdup(a->maildir);
		d->shown = path_tilde(a->maildir);
		d->hostname = maildir_host();
		if (maildir_create(d->path, d->shown, err) == -1)
			return -1;
		n = maildir_clean_tmp(d->path, time(NULL));
		if (n > 0)
			log_debug("%s: removed %d file%s older than 36 hours "
			    "from tmp/", d->shown, n, n == 1 ? "" : "s");
		return 0;
	}
	if (a->mbox != NULL) {
		d->ops = &mbox_ops;
		d->path = xstrdup(a->mbox);
		d->shown = path_tilde(a->mbox);
		return mbox_open(d, statedir, err);
	} else {
		d->ops = &mda_ops;
		if (split_words(a->mda, &d->argv, &why) == -1) {
			err_set(err, EX_CONFIG, "mda: %s", why);
			return -1;
		}
		d->path = xstrdup(d->argv[0]);
		d->shown = xstrdup(d->argv[0]);
	}
	return deliver_spool_open(d, statedir, err);
}

/*
 * An anonymous spool file in the state directory, reused per message (the
 * mbox backend names its own: mbox_open).
 */
int
deliver_spool_open(struct deliver *d, const char *statedir, struct pm_err *err)
{
	char	*tmpl;

	xasprintf(&tmpl, "%s/%s.spool.XXXXXX", statedir, d->acct->name);
	if ((d->fd = mkostemp(tmpl, O_CLOEXEC)) == -1) {
		err_set(err, EX_IOERR, "%s: cannot create a spool file: %s",
		    statedir, strerror(errno));
		free(tmpl);
		return -1;
	}
	unlink(tmpl);
	free(tmpl);
	return 0;
}

/* Empty the spool for the next message. */
int
deliver_spool_begin(struct deliver *d, struct pm_err *err)
{
	if (ftruncate(d->fd, 0) == -1 || lseek(d->fd, 0, SEEK_SET) == -1) {
		err_set(err, EX_IOERR, "spool file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
deliver_begin(struct deliver *d, struct pm_err *err)
{
	d->size = 0;
	if (d->ops->begin(d, err) == -1)
		return -1;
	d->out.fd = d->fd;
	d->out.len = 0;
	return 0;
}

static void
write_error(struct deliver *d, struct pm_err *err)
{
	err_set(err, EX_IOERR, "%s: cannot write: %s",
	    d->ops == &maildir_ops ? d->shown : "spool file", strerror(errno));
}

int
deliver_write(struct deliver *d, const char *buf, size_t len,
    struct pm_err *err)
{
	d->size += len;
	if (obuf_write(&d->out, buf, len) == -1) {
		write_error(d, err);
		return -1;
	}
	return 0;
}

int
deliver_commit(struct deliver *d, struct pm_err *err)
{
	if (obuf_flush(&d->out) == -1) {
		write_error(d, err);
		return -1;
	}
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
	/* A failed sync leaves nothing pending: the batch is lost to us. */
	d->dirty = 0;
	if (d->ops->sync(d, err) == -1)
		return -1;
	return 0;
}

void
deliver_abort(struct deliver *d)
{
	d->out.len = 0;
	d->ops->abort(d);
}

void
deliver_close(struct deliver *d)
{
	if (d->ops != NULL && d->ops->close != NULL)
		d->ops->close(d);
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	free(d->path);
	free(d->shown);
	free(d->hostname);
	free(d->tmpname);
	free_words(d->argv);
	d->argv = NULL;
	d->path = d->shown = d->hostname = d->tmpname = NULL;
}

/*
 * The envelope sender from a message's Return-Path header (searched in
 * the first HEADER_PEEK bytes), or "MAILER-DAEMON". Only a plain address is
 * accepted: no blanks, no control characters, no quotes; anything else
 * falls back, so a hostile header cannot forge an mbox From_ line.
 */
char *
deliver_sender_parse(const char *h, size_t len)
{
	const char	*p = h, *end = h + len, *nl, *v, *lt, *gt, *q;
	size_t		 n;

	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (nl == p)
			break;		/* end of the header */
		if (nl - p > 12 && strncasecmp(p, "Return-Path:", 12) == 0) {
			v = p + 12;
			lt = memchr(v, '<', nl - v);
			gt = lt ? memchr(lt, '>', nl - lt) : NULL;
			if (lt == NULL || gt == NULL)
				break;
			n = gt - lt - 1;
			if (n == 0 || n > 255)
				break;
			for (q = lt + 1; q < gt; q++)
				if (*q <= ' ' || *q >= 0x7f || *q == '"' ||
				    *q == '\\' || *q == '<')
					goto fallback;
			return xstrndup(lt + 1, n);
		}
		p = nl + 1;
	}
fallback:
	return xstrdup("MAILER-DAEMON");
}

/* The envelope sender of the message in a spool file. */
char *
deliver_sender(int fd)
{
	char	*buf, *s;
	ssize_t	 n;

	buf = xmalloc(HEADER_PEEK);
	n = pread(fd, buf, HEADER_PEEK, 0);
	s = deliver_sender_parse(buf, n > 0 ? (size_t)n : 0);
	free(buf);
	return s;
}

/* "EX_NOUSER" for 67, and so on; "" for a status sysexits.h does not name. */
const char *
sysexit_name(int status)
{
	static const char *names[] = {
		"EX_USAGE", "EX_DATAERR", "EX_NOINPUT", "EX_NOUSER",
		"EX_NOHOST", "EX_UNAVAILABLE", "EX_SOFTWARE", "EX_OSERR",
		"EX_OSFILE", "EX_CANTCREAT", "EX_IOERR", "EX_TEMPFAIL",
		"EX_PROTOCOL", "EX_NOPERM", "EX_CONFIG"
	};

	if (status >= EX__BASE && status <= EX__MAX)
		return names[status - EX__BASE];
	return "";
}

/*
 * Copy the message being written (not committed yet) to outfd: a copy to
 * keep of a message that arrived damaged, before it is aborted.
 */
int
deliver_save_copy(struct deliver *d, int outfd, struct pm_err *err)
{
	char	 buf[65536];
	off_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	if (obuf_flush(&d->out) == -1) {
		write_error(d, err);
		return -1;
	}
	if (d->ops == &maildir_ops)
		fd = open(d->tmpname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = dup(d->fd);
	if (fd == -1)
		goto fail;
	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || write_all(outfd, buf, n) == -1) {
			close(fd);
			goto fail;
		}
		off += n;
	}
	close(fd);
	return 0;
fail:
	err_set(err, EX_IOERR, "cannot keep a copy of the damaged message: %s",
	    strerror(errno));
	return -1;
}
