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

	uidl_close(&u);
	unlink(path);
	rmdir(dir);
	return done();
}
