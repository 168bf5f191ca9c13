/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-import: "pullmail import mpop" and "pullmail import getmail" on the
 * input as a ~/.mpoprc (imp_mpop, with the uidls_file it may name) or, if
 * its first byte is ';' (a comment there), a getmail rc file
 * (imp_getmail, with the oldmail file it may name), then imp_write_config.
 * The same checks as fuzz-fetchmailrc: one-line errors naming the file,
 * sane accounts, and a written config in which nothing from the old file
 * adds a section or a key. No leaks.
 */

#include "config.h"

#include "fuzz-import.h"

static int
parse(const char *p, const uint8_t *data, size_t size, struct imp_src *src,
    char **cause)
{
	return size > 0 && data[0] == 0x3b ?
	    imp_getmail(p, "/nonexistent", src, cause) : imp_mpop(p, src, cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_run(data, size, "fuzz-import", parse);
}
