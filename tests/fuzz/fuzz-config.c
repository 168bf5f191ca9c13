/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-config: the configuration reader (conf_scan, iniparser, account
 * validation, inheritance) and conf_dump.
 *
 * The input is written to a private temporary file (mode 0600, so a
 * password is allowed) and loaded. A failure must leave a one-line error
 * and nothing allocated; a success must dump and free cleanly. A file
 * from which an account gets a password must be refused once it is made
 * group- or world-readable (FUZZ_KNOWN=password-mode in the environment
 * skips that check; the finding it was added for, a password spelt across
 * a continuation line, is fixed).
 */

#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"

#include "fuzz.h"


static char	 path[64];
static int	 fd = -1;
static FILE	*devnull;

/* Is this known finding (a word of $FUZZ_KNOWN) to be let through? */
static int
known(const char *what)
{
	const char	*k = getenv("FUZZ_KNOWN"), *p;
	size_t		 n = strlen(what);

	for (p = k; p != NULL && (p = strstr(p, what)) != NULL; p += n)
		if ((p == k || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

static void
setup(void)
{
	const char	*tmp;

	if (fd != -1)
		return;
	if ((tmp = getenv("TMPDIR")) == NULL || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/fuzz-config.XXXXXX", tmp);
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		abort();
	}
	/* Nothing left behind, even after a crash: use it by descriptor. */
	unlink(path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("/dev/null");
		abort();
	}
	/* "~" in paths expands to $HOME; keep it fixed. */
	setenv("HOME", "/nonexistent-home", 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 conf;
	struct pm_err	 err = { 0, NULL };
	struct account	*a;
	char		*names[1];
	size_t		 off = 0;
	ssize_t		 n;

	setup();
	if (ftruncate(fd, 0) == -1)
		abort();
	while (off < size) {
		if ((n = pwrite(fd, data + off, size - off, off)) <= 0)
			abort();
		off += n;
	}

	fchmod(fd, 0600);
	if (conf_load(path, &conf, &err) == 0) {
		int has_password = 0;

		CHECK(err.msg == NULL && err.status == 0);
		CHECK(!TAILQ_EMPTY(&conf.accounts));
		conf_dump(devnull, &conf, NULL, 0);
		TAILQ_FOREACH(a, &conf.accounts, entry) {
			CHECK(a->host != NULL && a->user != NULL &&
			    a->port != NULL);
			{
				size_t j, nset = 0;

				for (j = 0; deliver_backends[j] != NULL; j++)
					nset += deliver_value(a,
					    deliver_backends[j]) != NULL;
				CHECK(nset == 1);
			}
			CHECK(conf_find(&conf, a->name) != NULL);
			names[0] = a->name;
			conf_dump(devnull, &conf, names, 1);
			if (a->password != NULL)
				has_password = 1;
		}
		conf_free(&conf);
		/* A password is never taken from a readable file. */
		if (has_password && !known("password-mode")) {
			fchmod(fd, 0644);
			if (conf_load(path, &conf, &err) == 0) {
				conf_free(&conf);
				CHECK(!"password accepted from a mode 0644 "
				    "file");
			}
			CHECK(err.msg != NULL &&
			    strstr(err.msg, "contains a password") != NULL);
			err_clear(&err);
		}
	} else {
		CHECK(err.msg != NULL);
		CHECK(err.status == EX_CONFIG);
		if (strchr(err.msg, '\n') != NULL) {
			fprintf(stderr, "multi-line error: \"%s\"\n", err.msg);
			CHECK(!"error message is one line");
		}
		err_clear(&err);
	}
	return 0;
}
