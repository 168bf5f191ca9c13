/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * A connection to the server: non-blocking TCP with a poll timeout on every
 * wait (connect, TLS handshake, each read and write), a fixed read buffer
 * scanned in place, and a growing write buffer flushed as one write.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pullmail.h"

#define WAIT_SLICE_MS	1000	/* a wait looks at fetch_stop this often */
#define STOP_GRACE_MS	1000	/* the server's time to answer, once stopping */

/*
 * Wait until fd is ready for events, for at most timeout_ms. Once stopping
 * (fetch_stop, set by the first SIGTERM or SIGINT) every wait lasts at most
 * STOP_GRACE_MS from the moment it sees it: a server that answers still
 * lets the session end cleanly (fetch.c finishes the message in hand), one
 * that is silent does not hold us up to the timeout. The signal interrupts
 * poll (the handler is installed without SA_RESTART); poll is called in
 * slices all the same, so that one arriving just before the call is seen
 * within WAIT_SLICE_MS. CW_ERROR leaves errno set.
 */
enum conn_wait
conn_poll(int fd, short events, int timeout_ms)
{
	struct pollfd	 pfd;
	double		 now = mono_now(), end, stop_end = 0, until;
	int		 n;

	end = now + timeout_ms / 1000.0;
	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		if (fetch_stop && stop_end == 0)
			stop_end = now + STOP_GRACE_MS / 1000.0;
		if (stop_end != 0 && now >= stop_end && stop_end < end)
			return CW_STOPPED;
		if (now >= end)
			return CW_TIMEOUT;
		until = stop_end != 0 && stop_end < end ? stop_end : end;
		if (until > now + WAIT_SLICE_MS / 1000.0)
			until = now + WAIT_SLICE_MS / 1000.0;
		n = poll(&pfd, 1, (int)((until - now) * 1000) + 1);
		if (n > 0)
			return CW_READY;
		if (n == -1 && errno != EINTR)
			return CW_ERROR;
		now = mono_now();
	}
}

/*
 * Wait until the connection is ready for events, or time out, or stop.
 * With TLS, called only after OpenSSL asked for it (SSL_ERROR_WANT_READ/
 * WRITE): records may wait in the read buffer (tls.c) while the socket is
 * not readable, so never poll for POLLIN before trying SSL_read; OpenSSL
 * wants to read only once that buffer is empty and the socket had nothing
 * more. Decrypted data ready for SSL_read (SSL_pending) never needs a wait.
 */
static int
conn_wait(struct conn *c, short events, const char *what, struct pm_err *err)
{
	if (c->ssl != NULL && (events & POLLIN) && SSL_pending(c->ssl) > 0)
		return 0;
	switch (conn_poll(c->fd, events, c->timeout_ms)) {
	case CW_READY:
		return 0;
	case CW_TIMEOUT:
		err_set(err, EX_TEMPFAIL, "%s: timed out after %d seconds %s",
		    c->host, c->timeout_ms / 1000, what);
		break;
	case CW_STOPPED:
		err_set(err, EX_TEMPFAIL, "%s: stopped by a signal while %s",
		    c->host, what);
		break;
	case CW_ERROR:
		err_set(err, EX_OSERR, "poll: %s", strerror(errno));
		break;
	}
	return -1;
}

static int
connect_one(struct conn *c, struct addrinfo *ai, char *why, size_t whylen)
{
	socklen_t	 len;
	int		 fd, soerr, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		switch (conn_poll(fd, POLLOUT, c->timeout_ms)) {
		case CW_READY:
			break;
		case CW_TIMEOUT:
			snprintf(why, whylen, "connection timed out after %d "
			    "seconds", c->timeout_ms / 1000);
			goto fail;
		case CW_STOPPED:
			snprintf(why, whylen, "stopped by a signal while "
			    "connecting");
			goto fail;
		case CW_ERROR:
			snprintf(why, whylen, "poll: %s", strerror(errno));
			goto fail;
		}
		len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (soerr != 0) {
			snprintf(why, whylen, "%s", strerror(soerr));
			goto fail;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * Connect to host:port, trying every address the name resolves to. Every
 * failure here is temporary (EX_TEMPFAIL): DNS, refused, unreachable.
 */
int
conn_open(struct conn *c, const char *host, const char *port, int timeout,
    struct pm_err *err)
{
	struct addrinfo	 hints, *res, *ai;
	char		 why[256] = "no address";
	int		 e;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout * 1000;
	c->host = xstrdup(host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		err_set(err, EX_TEMPFAIL, "%s: cannot resolve: %s", host,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (fetch_stop) {
			/* Stopping: no next address. */
			snprintf(why, sizeof(why), "stopped by a signal while "
			    "connecting");
			break;
		}
		if (connect_one(c, ai, why, sizeof(why)) == 0)
			break;
	}
	freeaddrinfo(res);
	if (c->fd == -1) {
		err_set(err, EX_TEMPFAIL, "%s port %s: %s", host, port, why);
		return -1;
	}
	return 0;
}

/* Describe the OpenSSL error queue (or errno) for a failed I/O call. */
static void
ssl_io_error(struct conn *c, int e, const char *what, struct pm_err *err)
{
	unsigned long	 l;
	char		 buf[256];

	if ((l = ERR_get_error()) != 0) {
		ERR_error_string_n(l, buf, sizeof(buf));
		err_set(err, EX_TEMPFAIL, "%s: TLS %s failed: %s", c->host,
		    what, buf);
	} else if (e == SSL_ERROR_SYSCALL && (errno == EPIPE ||
	    errno == ECONNRESET))
		err_set(err, EX_TEMPFAIL, "%s: connection closed by the server "
		    "(%s: %s)", c->host, what, strerror(errno));
	else if (e == SSL_ERROR_SYSCALL && errno != 0)
		err_set(err, EX_TEMPFAIL, "%s: %s: %s", c->host, what,
		    strerror(errno));
	else
		err_set(err, EX_TEMPFAIL, "%s: connection closed during %s",
		    c->host, what);
	ERR_clear_error();
}

/*
 * About to wait for the server: acknowledge what has arrived now, not
 * after the delayed-ACK timer. A server that writes its status line and
 * the rest of a reply separately, Nagle on (popa3d, Solid POP3), holds the
 * rest until that ACK: ~40 ms a reply, lock-step, without this. Linux
 * leaves quick-ACK mode by itself, hence before every wait.
 */
static void
quickack(struct conn *c)
{
#ifdef TCP_QUICKACK
	int	 one = 1;

	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)c;
#endif
}

/*
 * Read more into the buffer (after compacting it). Returns 0 when at least
 * one byte arrived, -1 on error, timeout or end of stream.
 */
int
conn_fill(struct conn *c, struct pm_err *err)
{
	ssize_t	 n;
	int	 e;

	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (c->rlen == sizeof(c->rbuf))
		return 0;
	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_read(c->ssl, c->rbuf + c->rlen,
			    sizeof(c->rbuf) - c->rlen);
			if (n > 0)
				break;
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ) {
				quickack(c);
				if (conn_wait(c, POLLIN, "waiting for the "
				    "server", err) == -1)
					return -1;
				continue;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				if (conn_wait(c, POLLOUT, "waiting for the "
				    "server", err) == -1)
					return -1;
				continue;
			}
			if (e == SSL_ERROR_ZERO_RETURN ||
			    (e == SSL_ERROR_SSL && ERR_GET_REASON(
			    ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
				ERR_clear_error();
				c->eof = 1;
				err_set(err, EX_TEMPFAIL, "%s: connection "
				    "closed by the server", c->host);
				return -1;
			}
			ssl_io_error(c, e, "read", err);
			return -1;
		}
		n = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
		if (n > 0)
			break;
		if (n == 0) {
			c->eof = 1;
			err_set(err, EX_TEMPFAIL, "%s: connection closed by the "
			    "server", c->host);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			quickack(c);
			if (conn_wait(c, POLLIN, "waiting for the server",
			    err) == -1)
				return -1;
			continue;
		}
		if (errno == ECONNRESET)
			err_set(err, EX_TEMPFAIL, "%s: connection closed by "
			    "the server (read: %s)", c->host, strerror(errno));
		else
			err_set(err, EX_TEMPFAIL, "%s: read: %s", c->host,
			    strerror(errno));
		return -1;
	}
	c->rlen += n;
	return 0;
}

/*
 * Return the next line, without its CRLF (a bare LF is accepted too), as a
 * pointer into the read buffer valid until the next call. A line longer
 * than PM_LINE_MAX or containing a NUL byte is a protocol violation.
 */
int
conn_getline(struct conn *c, char **line, size_t *len, struct pm_err *err)
{
	char	*p, *start;
	size_t	 n;

	for (;;) {
		start = c->rbuf + c->roff;
		p = memchr(start, '\n', c->rlen - c->roff);
		if (p != NULL)
			break;
		if (c->rlen - c->roff > PM_LINE_MAX) {
			err_set(err, EX_PROTOCOL, "%s: protocol error: line "
			    "longer than %d bytes", c->host, PM_LINE_MAX);
			return -1;
		}
		if (conn_fill(c, err) == -1)
			return -1;
	}
	n = p - start;
	c->roff += n + 1;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (n > PM_LINE_MAX) {
		err_set(err, EX_PROTOCOL, "%s: protocol error: line longer "
		    "than %d bytes", c->host, PM_LINE_MAX);
		return -1;
	}
	if (memchr(start, '\0', n) != NULL) {
		err_set(err, EX_PROTOCOL, "%s: protocol error: NUL byte in "
		    "a reply", c->host);
		return -1;
	}
	start[n] = '\0';
	log_trace('<', start, n);
	*line = start;
	*len = n;
	return 0;
}

void
conn_queue(struct conn *c, const char *s, size_t len)
{
	if (c->wlen + len > c->wsize) {
		c->wsize = c->wsize == 0 ? 4096 : c->wsize;
		while (c->wlen + len > c->wsize)
			c->wsize *= 2;
		c->wbuf = xreallocarray(c->wbuf, c->wsize, 1);
	}
	memcpy(c->wbuf + c->wlen, s, len);
	c->wlen += len;
}

int
conn_flush(struct conn *c, struct pm_err *err)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 e, rv = -1;

	while (off < c->wlen) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_write(c->ssl, c->wbuf + off, c->wlen - off);
			if (n > 0) {
				off += n;
				continue;
			}
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				if (conn_wait(c, e == SSL_ERROR_WANT_READ ?
				    POLLIN : POLLOUT, "sending", err) == -1)
					goto fail;
				continue;
			}
			ssl_io_error(c, e, "write", err);
			goto fail;
		}
		n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (conn_wait(c, POLLOUT, "sending", err) == -1)
				goto fail;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			err_set(err, EX_TEMPFAIL, "%s: connection closed by the "
			    "server (write: %s)", c->host, strerror(errno));
		else
			err_set(err, EX_TEMPFAIL, "%s: write: %s", c->host,
			    strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	/* The buffer may have held a password. */
	if (c->wlen > 0)
		explicit_bzero(c->wbuf, c->wlen);
	c->wlen = 0;
	return rv;
}

/*
 * Close without a TLS close_notify wait: we never need the server's. The
 * secrets of a POP3 session are wiped by pop3_close, not here: closing
 * another connection (an LMTP one) must not unmask them.
 */
void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		/*
		 * After a clean end (QUIT answered), say so in TLS too: a
		 * close_notify, sent once, not waited for (servers log a
		 * connection closed without one as cut short).
		 */
		if (c->clean && !c->eof) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
			ERR_clear_error();
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ctx != NULL) {
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->wbuf != NULL) {
		freezero(c->wbuf, c->wsize);
		c->wbuf = NULL;
	}
	c->wlen = c->wsize = 0;
	free(c->host);
	c->host = NULL;
	free(c->resume_key);
	c->resume_key = NULL;
}
