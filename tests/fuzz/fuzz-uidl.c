/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * fuzz-uidl: the UIDL cache loader, on any bytes as the cache file (a
 * torn, corrupted or foreign file).
 *
 * Opening it for writing either fails with one line naming the file, or
 * succeeds with every entry under a valid key and nlive the number of
 * live entries; what it left on disk (a torn tail cut, a version 1 file
 * or one mostly dead rewritten) must then open again, read-only, to the
 * very same state: repairing is never a change of what is delivered.
 */

#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pullmail.h"

#include "fuzz.h"


static char	 path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	static char	 dir[] = "/tmp/fuzz-uidl-XXXXXX";
	struct uidl	 u, r;
	struct pm_err	 err = { 0, NULL };
	const struct uidl_ent *e, *f;
	size_t		 i, live;
	int		 fd;

	if (path[0] == '\0') {
		CHECK(mkdtemp(dir) != NULL);
		snprintf(path, sizeof(path), "%s/c.uidl", dir);
	}
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1);
	CHECK(write(fd, in, len) == (ssize_t)len);
	close(fd);

	if (uidl_open(&u, path, &err) == -1) {
		CHECK(err.msg != NULL && strchr(err.msg, '\n') == NULL);
		CHECK(strstr(err.msg, path) != NULL);
		err_clear(&err);
		return 0;
	}
	live = 0;
	for (i = 0; i < u.nents; i++) {
		e = &u.ents[i];
		CHECK(uidl_valid_key(e->uid));
		CHECK(!(e->live && (e->suspect || e->accept)));
		CHECK(!e->del || e->live);
		if (e->live)
			live++;
	}
	CHECK(live == u.nlive);

	CHECK(uidl_open_ro(&r, path, &err) == 0);
	CHECK(r.nlive == u.nlive);
	for (i = 0; i < u.nents; i++) {
		e = &u.ents[i];
		f = uidl_lookup(&r, e->uid);
		if (!e->live && !e->suspect && !e->accept) {
			CHECK(f == NULL);
			continue;
		}
		CHECK(f != NULL);
		CHECK(f->live == e->live && f->del == e->del &&
		    f->suspect == e->suspect && f->accept == e->accept);
		if (e->live)
			CHECK(f->first_seen == e->first_seen);
		if (e->del)
			CHECK(f->del_size == e->del_size);
		if (e->suspect)
			CHECK(f->sus_size == e->sus_size);
	}
	uidl_close(&r);
	uidl_close(&u);
	return 0;
}
