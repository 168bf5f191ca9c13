#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# keep.sh - keep = yes, -k, -a (fetchall), and turning keep off later.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

start_server
seed 10 --mix edge

# keep = yes: everything is fetched once and left on the server
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
run_pm
is "$PM_RC" 0 "keep, first run: exit status 0" || show_pm
is "$(maildir_count)" 10 "keep, first run: all 10 fetched"
ok "keep, first run: Maildir identical to the seed" mailcheck
is "$(server_count)" 10 "keep, first run: the server still has 10"
ok "keep, first run: UIDL cache written" test -s "$STATE_DIR/$ACCOUNT.uidl"

run_pm -v
is "$PM_RC" 0 "keep, second run: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages" "keep, second run: -v says no new messages"
is "$(maildir_count)" 10 "keep, second run: still 10 in the Maildir"
ok "keep, second run: no duplicates" mailcheck
is "$(server_count)" 10 "keep, second run: the server still has 10"

# three more: only those are fetched
seed 3
run_pm -v
is "$PM_RC" 0 "keep, 3 more: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 3 new messages (" "keep, 3 more: -v says 3 new messages"
lacks "$PM_OUT" "deleted" "keep, 3 more: nothing said deleted"
is "$(maildir_count)" 13 "keep, 3 more: exactly 3 more in the Maildir"
ok "keep, 3 more: Maildir identical to the seed" mailcheck
is "$(server_count)" 13 "keep, 3 more: the server still has 13"

# -a fetches everything again
run_pm -a
is "$PM_RC" 0 "keep, -a: exit status 0" || show_pm
is "$(maildir_count)" 26 "keep, -a: every message delivered a second time"
ok "keep, -a: Maildir holds the seed twice" mailcheck --allow-duplicates
contains "$MC_OUT" "delivered=26 expected=13 missing=0 duplicates=13 unexpected=0" \
	"keep, -a: exactly 13 duplicates"
is "$(server_count)" 13 "keep, -a: the server still has 13"

# keep turned off: the messages already fetched are deleted, not fetched again
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm -v
is "$PM_RC" 0 "keep off: exit status 0" || show_pm
contains "$PM_OUT" "13 deleted from the server" "keep off: -v says 13 deleted"
is "$(maildir_count)" 26 "keep off: nothing delivered again"
is "$(server_count)" 0 "keep off: server empty"

# -k overrides keep = no for one run
seed 4
run_pm -k
is "$PM_RC" 0 "-k: exit status 0" || show_pm
is "$(maildir_count)" 30 "-k: the 4 new messages fetched"
is "$(server_count)" 4 "-k: the server keeps them"
ok "-k: Maildir has every message (the first 13 twice)" mailcheck --allow-duplicates
contains "$MC_OUT" "delivered=30 expected=17 missing=0 duplicates=13 unexpected=0" \
	"-k: no new duplicates"

run_pm
is "$PM_RC" 0 "after -k, keep = no: exit status 0" || show_pm
is "$(maildir_count)" 30 "after -k, keep = no: nothing delivered again"
is "$(server_count)" 0 "after -k, keep = no: server empty"

# keep = yes inherited from [defaults]
seed 2
{
	printf '[defaults]\nkeep = yes\n\n'
	cat "$CONFIG"
} >"$CONFIG.new" && mv "$CONFIG.new" "$CONFIG" && chmod 0600 "$CONFIG"
run_pm
is "$PM_RC" 0 "keep = yes in [defaults]: exit status 0" || show_pm
is "$(maildir_count)" 32 "keep = yes in [defaults]: 2 fetched"
is "$(server_count)" 2 "keep = yes in [defaults]: the server keeps them"
ok "keep = yes in [defaults]: Maildir has every message" mailcheck --allow-duplicates

# -a with keep = no: delivered again, then deleted
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm -a
is "$PM_RC" 0 "-a, keep = no: exit status 0" || show_pm
is "$(maildir_count)" 34 "-a, keep = no: the 2 kept messages delivered again"
is "$(server_count)" 0 "-a, keep = no: server empty"
ok "-a, keep = no: Maildir has every message" mailcheck --allow-duplicates
contains "$MC_OUT" "delivered=34 expected=19 missing=0 duplicates=15 unexpected=0" \
	"-a, keep = no: exactly 15 duplicates"

done_testing
