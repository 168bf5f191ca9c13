/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-import.h: what the importers' harnesses (fuzz-fetchmailrc.c,
 * fuzz-import.c) share. Each defines its parse function and calls
 * fuzz_import_run from LLVMFuzzerTestOneInput.
 *
 * A failure must leave one line naming the file. A success must give
 * accounts with a valid section name, a host and a port, and a written
 * configuration in which every line is blank, a comment, the section of
 * an account that is not left out (each once), or "key = value" with a
 * key pullmail knows: nothing in the old file can add a section or a key
 * to the new one. No leaks.
 */

#ifndef FUZZ_IMPORT_H
#define FUZZ_IMPORT_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pullmail.h"

#include "fuzz.h"

/* parse: the input's file at path into *src, or -1 with *cause */
typedef int (*fuzz_import_parse)(const char *, const uint8_t *, size_t,
    struct imp_src *, char **);

static char	 path[64];
static int	 fd = -1;

static const char *keys[] = {
	"host", "port", "tls", "ca_file", "ca_path", "fingerprint",
	"tls_server_name", "client_cert", "client_key", "user", "auth",
	"password", "password_command", "allow_plaintext", "keep", "keep_days",
	"fetch_all", "skip_larger_than", "delete_larger_than", "max_messages",
	"maildir", "mbox", "mda", "received_header", "timeout", "pipelining"
};

static void
setup(const char *prefix)
{
	const char	*tmp;

	if (fd != -1)
		return;
	if ((tmp = getenv("TMPDIR")) == NULL || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/%s.XXXXXX", tmp, prefix);
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		abort();
	}
	unlink(path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* The default idfile, ~/.fetchids, does not exist. */
	setenv("HOME", "/nonexistent-home", 1);
	unsetenv("FETCHMAILHOME");
	log_init(-1, 0);
}

/* The written config: only comments, our sections and known keys. */
static void
check_written(const struct imp_src *src, const char *text)
{
	const struct imp_acct	*a;
	const char		*s, *e;
	char			 line[IMP_LINE_MAX * 4 + 64];
	size_t			 n, i, nsect = 0, nlive = 0;

	TAILQ_FOREACH(a, &src->accts, entry)
		if (!a->disabled)
			nlive++;
	for (s = text; *s != '\0'; s = *e == '\n' ? e + 1 : e) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		n = e - s;
		CHECK(n < sizeof(line));
		memcpy(line, s, n);
		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '[') {
			CHECK(line[n - 1] == ']');
			line[n - 1] = '\0';
			TAILQ_FOREACH(a, &src->accts, entry)
				if (!a->disabled && strcmp(a->name, line + 1) == 0)
					break;
			CHECK(a != NULL);
			nsect++;
			continue;
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0 &&
			    strncmp(line + strlen(keys[i]), " = ", 3) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			fprintf(stderr, "unexpected line: \"%s\"\n", line);
			CHECK(!"a line the converter does not write");
		}
	}
	CHECK(nsect == nlive);
}

static int
fuzz_import_run(const uint8_t *data, size_t size, const char *prefix,
    fuzz_import_parse parse)
{
	struct imp_src		 src;
	struct imp_acct		*a;
	char			*cause = NULL, *text = NULL;
	size_t			 off = 0, tlen = 0, i;
	ssize_t			 n;
	FILE			*f;

	setup(prefix);
	if (ftruncate(fd, 0) == -1)
		abort();
	while (off < size) {
		if ((n = pwrite(fd, data + off, size - off, off)) <= 0)
			abort();
		off += n;
	}
	if (parse(path, data, size, &src, &cause) == -1) {
		CHECK(cause != NULL);
		CHECK(strchr(cause, '\n') == NULL);
		CHECK(strstr(cause, ": ") != NULL);
		free(cause);
		imp_src_free(&src);
		return 0;
	}
	CHECK(cause == NULL);
	TAILQ_FOREACH(a, &src.accts, entry) {
		CHECK(a->name != NULL && isalnum((unsigned char)a->name[0]));
		for (i = 0; a->name[i] != '\0'; i++)
			CHECK(isalnum((unsigned char)a->name[i]) ||
			    strchr("._-", a->name[i]) != NULL);
		CHECK(!isupper((unsigned char)a->name[0]));
		CHECK(a->host != NULL && a->port != NULL);
		CHECK(a->disabled || (a->maildir != NULL) +
		    (a->mbox != NULL) + (a->mda != NULL) == 1);
		imp_dedup(a);
		for (i = 0; i < a->nuids; i++)
			CHECK(uidl_valid_key(a->uids[i].key));
	}
	if ((f = open_memstream(&text, &tlen)) == NULL)
		abort();
	CHECK(imp_write_config(f, &src, 0) == 0);
	fclose(f);
	check_written(&src, text);
	free(text);
	imp_src_free(&src);
	return 0;
}

#endif
