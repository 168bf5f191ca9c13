/*
 * The plan: for each message on the server, fetch it, delete it, or leave
 * it. A pure function of the listing, the UIDL cache and the policy, so it
 * is tested exhaustively without a server.
 */

#include "config.h"

#include "pullmail.h"

void
plan_make(struct msg *m, size_t n, const struct uidl *cache,
    const struct plan_policy *pol)
{
	size_t	 i;
	int	 seen;

	for (i = 0; i < n; i++) {
		seen = m[i].uid != NULL && uidl_get(cache, m[i].uid) != NULL;
		if (!seen || pol->fetchall)
			m[i].action = ACT_FETCH;
		else if (!pol->keep)
			m[i].action = ACT_DELETE;	/* delivered before */
		else
			m[i].action = ACT_SKIP;
	}
}
