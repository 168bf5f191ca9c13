/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * --list: a table of the messages on the server (number, size, date,
 * sender, subject, new or seen) from the headers that TOP n 0 returns,
 * for deciding what to do before fetching. Nothing is changed.
 *
 * Header text comes from the server, so it is hostile: encoded words (RFC
 * 2047) are decoded, then everything but printable ASCII and well-formed,
 * printable UTF-8 is replaced, so no escape sequence, control character
 * or direction override reaches the terminal.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include "pullmail.h"

#define HDR_MAX		32768	/* header bytes kept per message */

struct hdrbuf {
	char	 buf[HDR_MAX];
	size_t	 len;
};

/* Keep the first HDR_MAX bytes; the rest is read and dropped. */
static int
hdr_sink(void *arg, const char *s, size_t n)
{
	struct hdrbuf	*h = arg;

	if (h->len < sizeof(h->buf) - 1) {
		if (n > sizeof(h->buf) - 1 - h->len)
			n = sizeof(h->buf) - 1 - h->len;
		memcpy(h->buf + h->len, s, n);
		h->len += n;
	}
	return 0;
}

/*
 * A header field's value, unfolded, from a header block; NULL if absent.
 * Stops at the blank line that ends the header.
 */
char *
hdr_get(const char *h, size_t len, const char *name)
{
	const char	*p = h, *end = h + len, *nl;
	size_t		 nlen = strlen(name), olen = 0;
	char		*out = NULL;
	int		 in = 0;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (nl == p || (nl == p + 1 && *p == '\r'))
			break;
		if (in && (*p == ' ' || *p == '\t')) {
			out = xreallocarray(out, olen + (nl - p) + 1, 1);
			memcpy(out + olen, p, nl - p);
			olen += nl - p;
			out[olen] = '\0';
			continue;
		}
		if (in)
			break;
		if ((size_t)(nl - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			p += nlen + 1;
			while (p < nl && (*p == ' ' || *p == '\t'))
				p++;
			out = xstrndup(p, nl - p);
			olen = strlen(out);
			in = 1;
		}
	}
	if (out != NULL)
		while (olen > 0 && isspace((unsigned char)out[olen - 1]))
			out[--olen] = '\0';
	return out;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Append one decoded byte, converting Latin-1 to UTF-8 when asked. */
static void
put(char *out, size_t *o, unsigned char c, int latin1)
{
	if (latin1 && c >= 0x80) {
		out[(*o)++] = 0xc0 | (c >> 6);
		out[(*o)++] = 0x80 | (c & 0x3f);
	} else
		out[(*o)++] = c;
}

/*
 * Decode RFC 2047 encoded words in UTF-8, ISO-8859-1 or US-ASCII (others
 * are left as they are). Blanks between two encoded words are dropped.
 */
char *
rfc2047_decode(const char *in)
{
	const char	*p = in, *q, *text, *end, *after_word = NULL;
	char		*out, cs[32];
	size_t		 o = 0, n;
	unsigned int	 acc;
	int		 enc, latin1, bits, v;

	out = xmalloc(strlen(in) * 2 + 1);
	while (*p != '\0') {
		if (p[0] != '=' || p[1] != '?')
			goto literal;
		q = strchr(p + 2, '?');
		if (q == NULL || (n = q - (p + 2)) == 0 || n >= sizeof(cs) ||
		    (q[1] != 'B' && q[1] != 'b' && q[1] != 'Q' && q[1] != 'q') ||
		    q[2] != '?')
			goto literal;
		memcpy(cs, p + 2, n);
		cs[n] = '\0';
		if (strchr(cs, '*') != NULL)
			cs[strcspn(cs, "*")] = '\0';	/* RFC 2231 language */
		text = q + 3;
		if ((end = strstr(text, "?=")) == NULL)
			goto literal;
		if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "us-ascii") == 0)
			latin1 = 0;
		else if (strcasecmp(cs, "iso-8859-1") == 0 ||
		    strcasecmp(cs, "latin1") == 0)
			latin1 = 1;
		else
			goto literal;
		/* Drop the blanks between two adjacent encoded words. */
		if (after_word != NULL) {
			const char *b = after_word;
			while (b < p && (*b == ' ' || *b == '\t'))
				b++;
			if (b == p)
				o -= p - after_word;
		}
		enc = tolower((unsigned char)q[1]);
		bits = acc = 0;
		for (q = text; q < end; q++) {
			if (enc == 'b') {
				if ((v = b64_digit((unsigned char)*q)) < 0)
					continue;
				acc = ((acc << 6) | v) & 0xffffff;
				if ((bits += 6) >= 8) {
					bits -= 8;
					put(out, &o, (acc >> bits) & 0xff, latin1);
				}
			} else if (*q == '_')
				put(out, &o, ' ', 0);
			else if (*q == '=' && q + 2 < end &&
			    hexval((unsigned char)q[1]) >= 0 &&
			    hexval((unsigned char)q[2]) >= 0) {
				put(out, &o, hexval((unsigned char)q[1]) * 16 +
				    hexval((unsigned char)q[2]), latin1);
				q += 2;
			} else
				put(out, &o, (unsigned char)*q, latin1);
		}
		p = end + 2;
		after_word = p;
		continue;
literal:
		out[o++] = *p++;
		if (after_word != NULL && p[-1] != ' ' && p[-1] != '\t')
			after_word = NULL;
	}
	out[o] = '\0';
	return out;
}

/*
 * Make text safe for a terminal: printable ASCII and well-formed UTF-8 of
 * printable characters pass; control characters (C0, DEL, C1), direction
 * overrides, line separators and malformed bytes become '?'. Tabs and
 * newlines become blanks. At most max characters are kept.
 */
char *
sanitize_text(const char *in, size_t max)
{
	const unsigned char	*p = (const unsigned char *)in;
	char			*out, *o;
	size_t			 chars = 0, n, i;
	unsigned int		 cp;

	o = out = xmalloc(strlen(in) + 1);
	while (*p != '\0' && chars < max) {
		if (*p < 0x80) {
			if (*p == '\t' || *p == '\n' || *p == '\r')
				*o++ = ' ';
			else
				*o++ = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
			p++;
			chars++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 4;
			cp = *p & 0x07;
		} else
			goto bad;
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates, controls, overrides. */
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0 ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x2028 || cp == 0x2029 || cp == 0x200e ||
		    cp == 0x200f || cp == 0x061c) {
			/* Well formed but not for a terminal: one '?'. */
			*o++ = '?';
			p += n;
			chars++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
		chars++;
		continue;
bad:
		*o++ = '?';
		p++;
		chars++;
	}
	*o = '\0';
	return out;
}

/* "2026-11-20" from an RFC 5322 date, or "?". */
static void
short_date(const char *v, char *buf, size_t len)
{
	struct tm	 tm;
	const char	*p = v;

	memset(&tm, 0, sizeof(tm));
	if (p != NULL && (p = strchr(p, ',')) != NULL)
		p++;
	else
		p = v;
	if (p != NULL && strptime(p, " %d %b %Y", &tm) != NULL)
		strftime(buf, len, "%Y-%m-%d", &tm);
	else
		snprintf(buf, len, "?");
}

/* The display name of a From: value if it has one, else the address. */
static char *
short_from(const char *v)
{
	const char	*lt;
	char		*s, *e;

	if (v == NULL)
		return xstrdup("?");
	if ((lt = strchr(v, '<')) != NULL && lt > v) {
		s = xstrndup(v, lt - v);
		for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '"');)
			*--e = '\0';
		if (*s == '"')
			memmove(s, s + 1, strlen(s));
		if (*s != '\0')
			return s;
		free(s);
	}
	s = xstrdup(lt != NULL ? lt + 1 : v);
	s[strcspn(s, ">")] = '\0';
	return s;
}

static void
row(const struct msg *m, const struct uidl *cache, const char *h, size_t len)
{
	char	 date[16], hs[32], *from, *subj, *dec, *sf, *ss, *v;
	int	 seen = m->uid != NULL && !m->reused &&
	    uidl_get(cache, m->uid) != NULL;
	int	 pad;

	v = h != NULL ? hdr_get(h, len, "Date") : NULL;
	short_date(v, date, sizeof(date));
	free(v);
	v = h != NULL ? hdr_get(h, len, "From") : NULL;
	dec = rfc2047_decode(v != NULL ? v : "?");
	from = short_from(dec);
	free(dec);
	free(v);
	v = h != NULL ? hdr_get(h, len, "Subject") : NULL;
	subj = rfc2047_decode(v != NULL ? v : "");
	free(v);
	sf = sanitize_text(from, 24);
	ss = sanitize_text(subj, 200);
	/* Pad by characters, not bytes: sf is sanitised UTF-8. */
	for (pad = 24, v = sf; *v != '\0'; v++)
		if ((*v & 0xc0) != 0x80 && pad > 0)
			pad--;
	printf("%5u %8s %-10s %-5s %s%*s %s\n", m->num,
	    human_size(m->size, hs, sizeof(hs)), date, seen ? "seen" : "new",
	    sf, pad, "", ss);
	free(from);
	free(subj);
	free(sf);
	free(ss);
}

/* Print the table; TOP commands are pipelined when the server allows. */
int
list_messages(struct pop3 *p, const struct msg *m, size_t n,
    const struct uidl *cache)
{
	struct hdrbuf	*h;
	enum pop3_cmd	 cmd;
	size_t		 next = 0, idx;
	struct body_dec	 wire;
	int		 ok, window = pop3_window(p), rv = -1;

	h = xmalloc(sizeof(*h));
	printf("%5s %8s %-10s %-5s %-24s %s\n", "NUM", "SIZE", "DATE", "STATE",
	    "FROM", "SUBJECT");
	while (next < n || p->pcount > 0) {
		while (next < n && p->pcount < (size_t)window) {
			if (pop3_send(p, CMD_OTHER, next, "TOP %u 0",
			    m[next].num) == -1)
				goto out;
			next++;
		}
		if (pop3_reply(p, &cmd, &idx, &ok) == -1)
			goto out;
		h->len = 0;
		if (ok && pop3_body(p, hdr_sink, h, &wire) == -1)
			goto out;
		h->buf[h->len] = '\0';
		row(&m[idx], cache, ok ? h->buf : NULL, h->len);
	}
	fflush(stdout);
	rv = 0;
out:
	free(h);
	return rv;
}
