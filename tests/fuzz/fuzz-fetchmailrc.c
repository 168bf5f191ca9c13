/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-fetchmailrc: "pullmail import fetchmail" on the input as a
 * ~/.fetchmailrc (imp_fetchmail: the tokenizer, the poll/user grammar,
 * the conversion, the idfile it may name), then imp_write_config.
 *
 * A failure must leave one line naming the file. A success must give
 * accounts with a valid section name, a host and a port, and a written
 * configuration in which every line is blank, a comment, the section of
 * an account that is not left out (each once), or "key = value" with a
 * key pullmail knows: nothing in the old file can add a section or a key
 * to the new one. No leaks (the checks: fuzz-import.h).
 */

#include "config.h"

#include "fuzz-import.h"

static int
parse(const char *p, const uint8_t *data, size_t size, struct imp_src *src,
    char **cause)
{
	(void)data;
	(void)size;
	return imp_fetchmail(p, NULL, src, cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import_run(data, size, "fuzz-fmrc", parse);
}
