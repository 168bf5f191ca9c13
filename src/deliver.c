/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Delivery: one interface over the backends of deliver_backends (Maildir,
 * mbox, MDA, LMTP, SMTP). Every backend receives the message into a file
 * descriptor of its own (a Maildir tmp/ file, or a spool file for the
 * others, so that nothing is appended to an mbox or handed to an MDA or a
 * mail server before it has arrived whole)
 * through the common buffer here, then:
 *
 *	commit	ends this message: delivered (mbox: appended and fsync'd;
 *		MDA: exited 0; LMTP, SMTP: accepted) or, for Maildir, whole in tmp/ and pending
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
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

#define HEADER_PEEK	65536	/* how much of a message to search for headers */

/*
 * The backends, in the order the configuration's error messages name
 * them. A new one: its deliver-*.c, its row here, its struct account field.
 */
const struct deliver_backend *const deliver_backends[] = {
	&maildir_backend,
	&mbox_backend,
	&mda_backend,
	&lmtp_backend,
	&smtp_backend,
	NULL
};

/* The value of backend b's key for account a, or NULL. */
const char *
deliver_value(const struct account *a, const struct deliver_backend *b)
{
	return *(char * const *)((const char *)a + b->acct_off);
}

/* The account's backend: the one whose key is set (config.c checks one). */
const struct deliver_backend *
deliver_backend_of(const struct account *a)
{
	size_t	 i;

	for (i = 0; deliver_backends[i] != NULL; i++)
		if (deliver_value(a, deliver_backends[i]) != NULL)
			return deliver_backends[i];
	return NULL;
}

/* Where the account delivers, for people: "~/Maildir", "the mda"... */
char *
deliver_label(const struct account *a)
{
	const struct deliver_backend *b = deliver_backend_of(a);

	if (b == NULL)
		return xstrdup("?");
	if (b->label != NULL)
		return b->label(deliver_value(a, b));
	return path_tilde(deliver_value(a, b));
}

/* Whether committed messages wait for a sync (Maildir) or are delivered. */
int
deliver_batched(const struct deliver *d)
{
	return (d->be->flags & DB_BATCH) != 0;
}

int
deliver_open(struct deliver *d, const struct account *a, const char *statedir,
    struct pm_err *err)
{
	const struct deliver_backend *b;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->acct = a;
	/* Whatever the way of delivery now, first undo a killed append. */
	if (mbox_recover(statedir, a, err) == -1)
		return -1;
	if ((b = deliver_backend_of(a)) == NULL) {
		err_set(err, EX_SOFTWARE, "no way of delivery configured");
		return -1;
	}
	d->be = b;
	if (b->psize > 0)
		d->priv = xcalloc(1, b->psize);
	d->path = b->arg == DARG_PATH ? xstrdup(deliver_value(a, b)) : NULL;
	d->shown = b->arg == DARG_PATH ? path_tilde(deliver_value(a, b)) : NULL;
	return b->open(d, statedir, err);
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
	if (d->be->begin(d, err) == -1)
		return -1;
	d->out.fd = d->fd;
	d->out.len = 0;
	return 0;
}

static void
write_error(struct deliver *d, struct pm_err *err)
{
	err_set(err, EX_IOERR, "%s: cannot write: %s",
	    d->be->flags & DB_SPOOL ? "spool file" : d->shown, strerror(errno));
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
	if (d->be->commit(d, err) == -1)
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
	if (d->be->sync(d, err) == -1)
		return -1;
	return 0;
}

void
deliver_abort(struct deliver *d)
{
	d->out.len = 0;
	if (d->be != NULL)
		d->be->abort(d);
}

void
deliver_close(struct deliver *d)
{
	if (d->be != NULL && d->be->close != NULL)
		d->be->close(d);
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	free(d->path);
	free(d->shown);
	free(d->priv);
	d->path = d->shown = NULL;
	d->priv = NULL;
	d->be = NULL;
}

/*
 * The envelope sender from a message's Return-Path header (searched in
 * the first HEADER_PEEK bytes), or "MAILER-DAEMON" (deliver_sender_parse). Only a plain address is
 * accepted: no blanks, no control characters, no quotes; anything else
 * falls back, so a hostile header cannot forge an mbox From_ line.
 */
static char *
sender_parse(const char *h, size_t len, const char *fallback)
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
	return xstrdup(fallback);
}

char *
deliver_sender_parse(const char *h, size_t len)
{
	return sender_parse(h, len, "MAILER-DAEMON");
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

/* The local user's name (the MDA's %u, LMTP's default recipient). */
const char *
deliver_local_user(void)
{
	struct passwd	*pw;
	const char	*u;

	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_name;
	if ((u = getenv("USER")) != NULL)
		return u;
	return "unknown";
}

/*
 * The envelope sender for LMTP and SMTP: the Return-Path's address, as
 * for an mbox (the same checks), or "" (MAIL FROM:<>) without a usable one.
 */
char *
deliver_envelope_sender(int fd)
{
	char	*buf, *s;
	ssize_t	 n;

	buf = xmalloc(HEADER_PEEK);
	n = pread(fd, buf, HEADER_PEEK, 0);
	s = sender_parse(buf, n > 0 ? (size_t)n : 0, "");
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
	if ((fd = dup(d->fd)) == -1)
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
