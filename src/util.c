/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * Small helpers shared by every module: allocation, errors, paths,
 * directory fsync and shell-like word splitting.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pullmail.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, m == 0 ? 1 : m)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t m)
{
	if ((p = reallocarray(p, n == 0 ? 1 : n, m == 0 ? 1 : m)) == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatalx("out of memory");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatalx("out of memory");
	return n;
}

/*
 * Record an error unless one is already recorded: the first failure is the
 * cause, what follows is usually its consequence.
 */
void
err_set(struct pm_err *e, int status, const char *fmt, ...)
{
	va_list	 ap;

	if (e == NULL || e->status != 0)
		return;
	e->status = status;
	va_start(ap, fmt);
	if (vasprintf(&e->msg, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
}

void
err_clear(struct pm_err *e)
{
	free(e->msg);
	e->msg = NULL;
	e->status = 0;
}

static const char *
home_dir(void)
{
	const char	*h;
	struct passwd	*pw;

	if ((h = getenv("HOME")) != NULL && *h == '/')
		return h;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return pw->pw_dir;
	return "/";
}

/* Expand a leading "~" or "~/" to the home directory. */
char *
path_expand(const char *p)
{
	char	*r;

	if (p[0] == '~' && (p[1] == '\0' || p[1] == '/')) {
		xasprintf(&r, "%s%s", home_dir(), p + 1);
		return r;
	}
	return xstrdup(p);
}

/* The reverse, for messages: show the home directory as "~". */
char *
path_tilde(const char *p)
{
	const char	*h = home_dir();
	size_t		 n = strlen(h);
	char		*r;

	if (n > 1 && strncmp(p, h, n) == 0 && (p[n] == '/' || p[n] == '\0')) {
		xasprintf(&r, "~%s", p + n);
		return r;
	}
	return xstrdup(p);
}

/* mkdir -p; existing directories are fine. */
int
mkdir_p(const char *path, mode_t mode)
{
	char	*p, *s;
	int	 rv = -1;

	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		/*
		 * A directory made is fsync'd into its parent: a Maildir
		 * (or state directory) whose name is not on disk could
		 * vanish in a power loss with what was recorded in it.
		 */
		if (mkdir(p, mode) == 0) {
			if (fsync_parent(p) == -1)
				goto out;
		} else if (errno != EEXIST)
			goto out;
		*s = c;
		if (c == '\0')
			break;
	}
	rv = 0;
out:
	free(p);
	return rv;
}

/* fsync the directory that holds path (a name just made in it). */
int
fsync_parent(const char *path)
{
	char	*dir, *slash;
	int	 rv;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", strlen(dir) + 1);
	else
		slash[slash == dir ? 1 : 0] = '\0';
	rv = fsync_dir(dir);
	free(dir);
	return rv;
}

/* Make a directory's entries (a rename, a new file) durable. */
int
fsync_dir(const char *path)
{
	int	 fd, rv, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rv;
}

/*
 * Split a command into words by the shell's quoting rules: single quotes,
 * double quotes (in which backslash escapes only $ ` " \ and newline), and
 * backslash outside quotes. No expansion of any kind. Returns -1 with *why
 * set on an unterminated quote or an empty command.
 */
int
split_words(const char *s, char ***wordsp, const char **why)
{
	char	**words = NULL, *w;
	size_t	  nwords = 0, wlen;
	int	  inword;

	w = xmalloc(strlen(s) + 1);
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s == '\0')
			break;
		wlen = 0;
		inword = 1;
		while (inword && *s != '\0') {
			switch (*s) {
			case ' ':
			case '\t':
			case '\n':
				inword = 0;
				break;
			case '\'':
				s++;
				while (*s != '\'' && *s != '\0')
					w[wlen++] = *s++;
				if (*s == '\0') {
					*why = "unterminated single quote";
					goto fail;
				}
				s++;
				break;
			case '"':
				s++;
				while (*s != '"' && *s != '\0') {
					if (*s == '\\' && s[1] != '\0' &&
					    strchr("$`\"\\\n", s[1]) != NULL)
						s++;
					w[wlen++] = *s++;
				}
				if (*s == '\0') {
					*why = "unterminated double quote";
					goto fail;
				}
				s++;
				break;
			case '\\':
				s++;
				if (*s == '\0') {
					*why = "backslash at end of command";
					goto fail;
				}
				w[wlen++] = *s++;
				break;
			default:
				w[wlen++] = *s++;
				break;
			}
		}
		words = xreallocarray(words, nwords + 2, sizeof(*words));
		words[nwords++] = xstrndup(w, wlen);
		words[nwords] = NULL;
	}
	free(w);
	if (nwords == 0) {
		*why = "empty command";
		free(words);
		return -1;
	}
	*wordsp = words;
	return 0;
fail:
	free(w);
	if (words != NULL) {
		words[nwords] = NULL;
		free_words(words);
	}
	return -1;
}

void
free_words(char **words)
{
	size_t	 i;

	if (words == NULL)
		return;
	for (i = 0; words[i] != NULL; i++)
		free(words[i]);
	free(words);
}

/* "512 B", "1.4 KB", "12.0 MB": for people, in powers of 1000 like du -h --si. */
const char *
human_size(uint64_t n, char *buf, size_t len)
{
	const char	*units[] = { "KB", "MB", "GB", "TB" };
	double		 v = n;
	size_t		 i;

	if (n < 1000) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	for (i = 0; i < 3 && v >= 999950.0; i++)
		v /= 1000.0;
	snprintf(buf, len, "%.1f %s", v / 1000.0, units[i]);
	return buf;
}

/* Seconds on a clock that never jumps, for deadlines. */
double
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Buffered writes: returns -1 with errno set if a write fails; what was
 * buffered is then dropped.
 */
int
obuf_flush(struct obuf *o)
{
	int	 r = write_all(o->fd, o->buf, o->len);

	o->len = 0;
	return r;
}

int
obuf_write(struct obuf *o, const char *s, size_t n)
{
	size_t	 k;

	while (n > 0) {
		if (o->len == sizeof(o->buf) && obuf_flush(o) == -1)
			return -1;
		k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
	return 0;
}

/*
 * Wipe and free a string allocated to its size (xstrdup, xstrndup,
 * xasprintf): all of it, its NUL included. A string in a larger buffer
 * must be wiped with that buffer's size instead.
 */
void
freezero_str(char *s)
{
	if (s != NULL)
		freezero(s, strlen(s) + 1);
}

/* write(2) all of buf, through short writes and EINTR. */
int
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
