/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
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
	const struct uidl_ent	*e;
	size_t			 i;
	unsigned int		 nfetch = 0;
	uint64_t		 bytes = 0;
	int			 keep, expired;

	keep = pol->keep || pol->keep_days > 0 || pol->nodelete;
	for (i = 0; i < n; i++) {
		e = m[i].uid != NULL ? uidl_lookup(cache, m[i].uid) : NULL;
		m[i].reused = 0;
		m[i].retry = 0;
		m[i].seen = e != NULL && e->live ? e->first_seen : 0;
		if (e != NULL && e->live && e->del && e->del_size != m[i].size) {
			/*
			 * Its deletion was asked for, and now the UID names a
			 * message of another size: the deletion was carried
			 * out and the server gave the UID to a new message.
			 */
			m[i].reused = 1;
			e = NULL;
		}
		if (e != NULL && !e->live) {
			/* Not delivered: damaged before, or accepted. */
			if (e->suspect && !e->accept && !pol->mark_seen) {
				if (e->suspect == 'o') {
					m[i].del = 0;
					m[i].action = ACT_SKIP_SUSPECT;
					continue;
				}
				m[i].retry = 1;	/* after the others */
			}
			e = NULL;
		}
		/* keep_days counts from when pullmail first saw the message. */
		expired = e != NULL && pol->keep_days > 0 && !pol->nodelete &&
		    pol->now - e->first_seen >= (time_t)pol->keep_days * 86400;
		m[i].del = 0;
		if (pol->mark_seen) {
			m[i].action = e != NULL || m[i].uid == NULL ? ACT_SKIP :
			    ACT_MARK;
			continue;
		}
		if (e != NULL && !pol->fetchall) {
			/* Delivered before: delete now, or when it expires. */
			m[i].action = !keep || expired ? ACT_DELETE : ACT_SKIP;
			continue;
		}
		if (pol->delete_larger > 0 && m[i].size > pol->delete_larger) {
			m[i].action = pol->nodelete ? ACT_SKIP_BIG :
			    ACT_DELETE_BIG;
			continue;
		}
		if (pol->skip_larger > 0 && m[i].size > pol->skip_larger) {
			m[i].action = ACT_SKIP_BIG;
			continue;
		}
		/*
		 * Per-run limits. A first message larger than max_bytes is
		 * still fetched, or it would never be.
		 */
		if ((pol->max_messages > 0 && nfetch >= pol->max_messages) ||
		    (pol->max_bytes > 0 && nfetch > 0 &&
		    bytes + m[i].size > pol->max_bytes)) {
			m[i].action = ACT_DEFER;
			continue;
		}
		m[i].action = ACT_FETCH;
		m[i].del = !keep || expired;
		nfetch++;
		bytes += m[i].size;
	}
}
