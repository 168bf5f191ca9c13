/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * A minimal TAP producer for the unit tests: ok(cond, fmt, ...) prints
 * "ok N - ..." or "not ok N - ...", done() prints the plan and returns the
 * exit status.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int	tap_n, tap_failed;

static int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list	 ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* Compare strings, showing both on failure. */
static int __attribute__((unused))
is_str(const char *got, const char *want, const char *what)
{
	int	 r = got != NULL && want != NULL ? strcmp(got, want) == 0 :
		    got == want;

	ok(r, "%s", what);
	if (!r)
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",
		    got ? got : "(null)", want ? want : "(null)");
	return r;
}

/* A test that cannot run here: counted as passed, with the reason. */
static void __attribute__((unused))
skip(const char *what, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, what, why);
	fflush(stdout);
}

static int __attribute__((unused))
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
