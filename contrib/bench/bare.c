/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * bare: the lower bound for the benchmark -- a minimal pipelined POP3 client.
 *
 *   bare HOST PORT USER PASS CAFILE [--keep SEENFILE] [--window N]
 *
 * POP3 over implicit TLS (OpenSSL), the certificate verified with CAFILE for
 * HOST.  USER and PASS, then (default) STAT and RETR 1..N, each followed by
 * DELE, pipelined with up to N messages (default 32, i.e. 64 commands) in
 * flight; the message bytes are read and thrown away.  With --keep it sends
 * UIDL instead, RETRs only the messages whose UID is not in SEENFILE (one UID
 * a line), deletes nothing and appends the new UIDs to SEENFILE.  QUIT at
 * the end.  Prints "messages=N bytes=B" (B: wire bytes of the bodies).
 *
 * No delivery, no fsync, no parsing beyond finding where each reply ends:
 * what any POP3 client must at least do.  Build: cc -O2 bare.c -lssl -lcrypto
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUFSZ	(256 * 1024)

static SSL		*ssl;
static char		 buf[BUFSZ + 1];
static size_t		 rpos, rlen;
static unsigned long long total;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	fputs("bare: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* Read more; compacts the buffer first. */
static void
fill(void)
{
	int	 n;

	if (rpos > 0) {
		memmove(buf, buf + rpos, rlen - rpos);
		rlen -= rpos;
		rpos = 0;
	}
	if (rlen == BUFSZ)
		die("line too long");
	n = SSL_read(ssl, buf + rlen, BUFSZ - rlen);
	if (n <= 0)
		die("connection closed or TLS error");
	rlen += n;
}

static void
sendstr(const char *s, size_t len)
{
	if (len > 0 && SSL_write(ssl, s, len) <= 0)
		die("write failed");
}

/* Next line without CRLF, valid until the next read. */
static char *
getline_(size_t *lenp)
{
	char	*nl;

	for (;;) {
		nl = memchr(buf + rpos, '\n', rlen - rpos);
		if (nl != NULL)
			break;
		fill();
	}
	{
		char	*line = buf + rpos;
		size_t	 len = nl - line;

		rpos += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (lenp != NULL)
			*lenp = len;
		return line;
	}
}

static char *
status(void)
{
	char	*l = getline_(NULL);

	if (strncmp(l, "+OK", 3) != 0)
		die("server said: %.100s", l);
	return l;
}

/*
 * Skip a multi-line body up to and including CRLF.CRLF, starting at the
 * beginning of a line. States: 0 in a line, 1 CR, 2 at the start of a line,
 * 3 "." at the start, 4 ".\r" at the start.
 */
static void
skip_body(void)
{
	int	 st = 2;
	char	*p, *end, *cr;

	for (;;) {
		if (rpos == rlen) {
			rpos = rlen = 0;
			fill();
		}
		p = buf + rpos;
		end = buf + rlen;
		while (p < end) {
			switch (st) {
			case 0:
				cr = memchr(p, '\r', end - p);
				if (cr == NULL) {
					p = end;
					continue;
				}
				p = cr + 1;
				st = 1;
				continue;
			case 1:
				st = *p == '\n' ? 2 : *p == '\r' ? 1 : 0;
				break;
			case 2:
				st = *p == '.' ? 3 : *p == '\r' ? 1 : 0;
				break;
			case 3:
				st = *p == '\r' ? 4 : 0;
				break;
			case 4:
				if (*p == '\n') {
					p++;
					total += p - (buf + rpos);
					rpos = p - buf;
					return;
				}
				st = *p == '\r' ? 1 : 0;
				break;
			}
			p++;
		}
		total += rlen - rpos;
		rpos = rlen;
	}
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

int
main(int argc, char **argv)
{
	const char	*host, *port, *user, *pass, *cafile, *keep = NULL;
	struct addrinfo	 hints, *res, *ai;
	SSL_CTX		*ctx;
	char		 cmd[256], *l, **seen = NULL, **newuid = NULL, *sb = NULL;
	unsigned int	*todo = NULL;
	size_t		 ntodo = 0, nseen = 0, sent, done, i, k, len, out;
	int		 fd = -1, one = 1, window = 32, e;
	FILE		*f;

	if (argc != 6 && argc != 8 && argc != 10) {
		fprintf(stderr, "usage: bare HOST PORT USER PASS CAFILE "
		    "[--keep SEENFILE] [--window N]\n");
		return 2;
	}
	host = argv[1];
	port = argv[2];
	user = argv[3];
	pass = argv[4];
	cafile = argv[5];
	for (i = 6; i + 1 < (size_t)argc; i += 2) {
		if (strcmp(argv[i], "--keep") == 0)
			keep = argv[i + 1];
		else if (strcmp(argv[i], "--window") == 0)
			window = atoi(argv[i + 1]);
		else
			die("unknown option %s", argv[i]);
	}
	if (window < 1)
		window = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		die("%s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd != -1 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		die("cannot connect to %s port %s", host, port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		die("%s: cannot load", cafile);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ssl = SSL_new(ctx)) == NULL)
		die("SSL_new");
	SSL_set_tlsext_host_name(ssl, host);
	if (SSL_set1_host(ssl, host) != 1)
		die("SSL_set1_host");
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		die("TLS handshake with %s failed", host);

	status();
	len = snprintf(cmd, sizeof(cmd), "USER %s\r\n", user);
	sendstr(cmd, len);
	status();
	len = snprintf(cmd, sizeof(cmd), "PASS %s\r\n", pass);
	sendstr(cmd, len);
	status();

	if (keep == NULL) {
		sendstr("STAT\r\n", 6);
		l = status();
		ntodo = strtoul(l + 3, NULL, 10);
		todo = calloc(ntodo + 1, sizeof(*todo));
		for (i = 0; i < ntodo; i++)
			todo[i] = i + 1;
	} else {
		/* The seen UIDs, sorted for bsearch. */
		if ((f = fopen(keep, "r")) != NULL) {
			size_t	 cap = 0;
			char	 line[256];

			while (fgets(line, sizeof(line), f) != NULL) {
				line[strcspn(line, "\r\n")] = '\0';
				if (line[0] == '\0')
					continue;
				if (nseen == cap) {
					cap = cap ? cap * 2 : 1024;
					seen = realloc(seen, cap * sizeof(*seen));
				}
				seen[nseen++] = strdup(line);
			}
			fclose(f);
			qsort(seen, nseen, sizeof(*seen), cmpstr);
		}
		sendstr("UIDL\r\n", 6);
		status();
		for (;;) {
			size_t	 cap = 0;
			char	*sp, *uid;

			l = getline_(&len);
			if (l[0] == '.') {
				if (len == 1)
					break;
				l++;
			}
			if ((sp = strchr(l, ' ')) == NULL)
				die("bad UIDL line");
			*sp = '\0';
			uid = sp + 1;
			if (seen != NULL && bsearch(&uid, seen, nseen,
			    sizeof(*seen), cmpstr) != NULL)
				continue;
			if (ntodo % 1024 == 0) {
				cap = ntodo + 1024;
				todo = realloc(todo, cap * sizeof(*todo));
				newuid = realloc(newuid, cap * sizeof(*newuid));
			}
			todo[ntodo] = strtoul(l, NULL, 10);
			newuid[ntodo++] = strdup(uid);
		}
	}

	/* The pipeline: keep up to window messages' commands in flight. */
	sb = malloc((size_t)window * 32 + 64);
	sent = done = 0;
	total = 0;
	while (done < ntodo) {
		if (sent < ntodo && sent - done <= (size_t)window / 2) {
			k = done + window < ntodo ? done + window : ntodo;
			for (out = 0; sent < k; sent++)
				out += keep == NULL ?
				    (size_t)sprintf(sb + out, "RETR %u\r\nDELE %u\r\n",
				    todo[sent], todo[sent]) :
				    (size_t)sprintf(sb + out, "RETR %u\r\n", todo[sent]);
			sendstr(sb, out);
		}
		status();
		skip_body();
		if (keep == NULL)
			status();
		done++;
	}
	sendstr("QUIT\r\n", 6);
	status();
	if (keep != NULL && ntodo > 0) {
		if ((f = fopen(keep, "a")) == NULL)
			die("%s: cannot append", keep);
		for (i = 0; i < ntodo; i++)
			fprintf(f, "%s\n", newuid[i]);
		if (fclose(f) != 0)
			die("%s: write error", keep);
	}
	printf("messages=%zu bytes=%llu\n", ntodo, total);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}
