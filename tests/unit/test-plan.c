/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* The plan: every combination of seen/unseen, keep and fetchall. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

int
main(void)
{
	char		 dir[] = "/tmp/pm-plan-XXXXXX", path[256];
	struct uidl	 u;
	struct pm_err	 err = { 0, NULL };
	struct msg	 m[3];
	struct plan_policy pol;
	static const struct {
		int	 keep, fetchall;
		enum msg_action seen, unseen;
		const char *name;
	} cases[] = {
		{ 0, 0, ACT_DELETE, ACT_FETCH, "delete mode" },
		{ 1, 0, ACT_SKIP, ACT_FETCH, "keep mode" },
		{ 0, 1, ACT_FETCH, ACT_FETCH, "fetchall, delete" },
		{ 1, 1, ACT_FETCH, ACT_FETCH, "fetchall, keep" },
	};
	size_t		 i;

	mkdtemp(dir);
	snprintf(path, sizeof(path), "%s/u", dir);
	uidl_open(&u, path, &err);
	uidl_add(&u, "seen", 1);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(m, 0, sizeof(m));
		m[0].uid = (char *)"seen";
		m[1].uid = (char *)"unseen";
		m[2].uid = NULL;	/* server without UIDL */
		memset(&pol, 0, sizeof(pol));
		pol.keep = cases[i].keep;
		pol.fetchall = cases[i].fetchall;
		plan_make(m, 3, &u, &pol);
		ok(m[0].action == cases[i].seen, "%s: seen message",
		    cases[i].name);
		ok(m[1].action == cases[i].unseen, "%s: new message",
		    cases[i].name);
		ok(m[2].action == ACT_FETCH, "%s: message without UID fetched",
		    cases[i].name);
	}

	/* keep_days: the first-seen time decides. */
	uidl_add(&u, "old", 1000);
	uidl_add(&u, "young", 1000 + 9 * 86400);
	memset(m, 0, sizeof(m));
	m[0].uid = (char *)"old";
	m[1].uid = (char *)"young";
	m[2].uid = (char *)"fresh";
	memset(&pol, 0, sizeof(pol));
	pol.keep_days = 10;
	pol.now = 1000 + 10 * 86400;
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_DELETE, "keep_days: expired message deleted");
	ok(m[1].action == ACT_SKIP, "keep_days: younger message kept");
	ok(m[2].action == ACT_FETCH && m[2].del == 0,
	    "keep_days: new message fetched and kept");
	pol.nodelete = 1;
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_SKIP, "-k: even an expired message is kept");
	pol.nodelete = 0;
	pol.fetchall = 1;
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_FETCH && m[0].del == 1,
	    "fetchall + keep_days: expired refetched, then deleted");
	ok(m[1].action == ACT_FETCH && m[1].del == 0,
	    "fetchall + keep_days: young refetched, kept");
	pol.fetchall = 0;
	pol.now = 1000 + 10 * 86400 - 1;
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_SKIP, "keep_days: one second short of expiry");

	/* The delete flag of fetched messages. */
	memset(&pol, 0, sizeof(pol));
	plan_make(m, 3, &u, &pol);
	ok(m[2].action == ACT_FETCH && m[2].del == 1, "delete mode: del set");
	pol.keep = 1;
	plan_make(m, 3, &u, &pol);
	ok(m[2].del == 0, "keep: del clear");
	pol.keep = 0;
	pol.nodelete = 1;
	plan_make(m, 3, &u, &pol);
	ok(m[2].del == 0 && m[0].action == ACT_SKIP,
	    "-k: nothing deleted, seen ones left");

	/* --mark-seen records new messages and touches nothing else. */
	memset(&pol, 0, sizeof(pol));
	pol.mark_seen = 1;
	m[1].uid = NULL;
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_SKIP && m[1].action == ACT_SKIP &&
	    m[2].action == ACT_MARK, "mark-seen: only new UIDs marked");

	/* Size limits, and per-run limits, in listing order. */
	{
		struct msg	 b[6];
		uint64_t	 sizes[6] = { 100, 5000, 200, 50000, 300, 400 };
		char		 names[6][8];
		size_t		 j;

		memset(b, 0, sizeof(b));
		for (j = 0; j < 6; j++) {
			snprintf(names[j], sizeof(names[j]), "n%zu", j);
			b[j].uid = names[j];
			b[j].size = sizes[j];
		}
		memset(&pol, 0, sizeof(pol));
		pol.skip_larger = 1000;
		pol.delete_larger = 10000;
		plan_make(b, 6, &u, &pol);
		ok(b[1].action == ACT_SKIP_BIG, "skip_larger_than leaves it");
		ok(b[3].action == ACT_DELETE_BIG,
		    "delete_larger_than deletes it unread");
		ok(b[0].action == ACT_FETCH && b[2].action == ACT_FETCH,
		    "small ones fetched");
		pol.nodelete = 1;
		plan_make(b, 6, &u, &pol);
		ok(b[3].action == ACT_SKIP_BIG,
		    "-k: delete_larger_than does not delete");

		memset(&pol, 0, sizeof(pol));
		pol.max_messages = 2;
		plan_make(b, 6, &u, &pol);
		ok(b[0].action == ACT_FETCH && b[1].action == ACT_FETCH &&
		    b[2].action == ACT_DEFER && b[5].action == ACT_DEFER,
		    "max_messages: the first two, the rest deferred");

		memset(&pol, 0, sizeof(pol));
		pol.max_bytes = 5200;
		plan_make(b, 6, &u, &pol);
		ok(b[0].action == ACT_FETCH && b[1].action == ACT_FETCH &&
		    b[2].action == ACT_DEFER && b[3].action == ACT_DEFER,
		    "max_bytes: stops at the limit");
		pol.max_bytes = 50;
		plan_make(b, 6, &u, &pol);
		ok(b[0].action == ACT_FETCH && b[1].action == ACT_DEFER,
		    "max_bytes: a first message over the limit still comes");

		memset(&pol, 0, sizeof(pol));
		pol.skip_larger = 1000;
		pol.max_messages = 2;
		plan_make(b, 6, &u, &pol);
		ok(b[0].action == ACT_FETCH && b[1].action == ACT_SKIP_BIG &&
		    b[2].action == ACT_FETCH && b[4].action == ACT_DEFER,
		    "skipped messages do not count against max_messages");
	}

	/*
	 * Deletion asked for, not known to be done: the same size means the
	 * same message (deleted unread); another size, that the server gave
	 * the UID to a new message (fetched).
	 */
	uidl_add(&u, "gone", 5);
	uidl_deleting(&u, "gone", 100);
	uidl_add(&u, "back", 5);
	uidl_deleting(&u, "back", 100);
	memset(m, 0, sizeof(m));
	m[0].uid = (char *)"gone";
	m[0].size = 100;
	m[1].uid = (char *)"back";
	m[1].size = 2222;
	memset(&pol, 0, sizeof(pol));
	plan_make(m, 2, &u, &pol);
	ok(m[0].action == ACT_DELETE && !m[0].reused,
	    "deletion pending, same size: deleted unread");
	ok(m[1].action == ACT_FETCH && m[1].reused && m[1].del,
	    "deletion pending, other size: a new message, fetched");
	pol.keep = 1;
	plan_make(m, 2, &u, &pol);
	ok(m[1].action == ACT_FETCH && m[1].del == 0,
	    "deletion pending, other size, keep: fetched and kept");
	pol.mark_seen = 1;
	plan_make(m, 2, &u, &pol);
	ok(m[1].action == ACT_MARK, "deletion pending, other size, "
	    "--mark-seen: marked");

	/* Damaged before: fetched after the others; far too large: left. */
	uidl_suspect(&u, "dam", 1, 'd', 10);
	uidl_suspect(&u, "huge", 1, 'o', 10);
	uidl_suspect(&u, "ok", 1, 'o', 10);
	uidl_accept(&u, "ok");
	memset(m, 0, sizeof(m));
	m[0].uid = (char *)"dam";
	m[1].uid = (char *)"huge";
	m[2].uid = (char *)"ok";
	memset(&pol, 0, sizeof(pol));
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_FETCH && m[0].retry && m[0].del,
	    "damaged before: fetched again, last");
	ok(m[1].action == ACT_SKIP_SUSPECT, "far too large before: left");
	ok(m[2].action == ACT_FETCH && !m[2].retry,
	    "far too large but accepted: fetched");
	pol.keep = 1;
	plan_make(m, 3, &u, &pol);
	ok(m[0].action == ACT_FETCH && m[0].del == 0,
	    "damaged before, keep: fetched again, kept");

	uidl_close(&u);
	unlink(path);
	rmdir(dir);
	return done();
}
