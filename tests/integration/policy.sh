#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# policy.sh - what each run does with each message: keep_days over simulated
# time (faketime), skip_larger_than, delete_larger_than, max_messages,
# max_bytes, fetch_all, --mark-seen, --check and --dump-config.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need faketime:faketime

# run_pm_at OFFSET [ARG...]: run_pm under faketime OFFSET (such as
# '+3 days'); the server certificate (valid 10 years) is checked against
# the false date too.
run_pm_at() {
	local off=$1
	shift
	# faketime preloads libfaketime ahead of an AddressSanitizer build's
	# runtime, which ASan refuses by default: tell it this is expected
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		timeout -k 2 25 faketime "$off" "$PULLMAIL" "$@" </dev/null >"$T/pm.out" 2>"$T/pm.err")
	PM_RC=$?
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	return 0
}

# reset: empty the server, the Maildir, the state and $EXPECTED
reset() {
	find "$SERVER_MAILDIR/new" "$SERVER_MAILDIR/cur" -mindepth 1 -maxdepth 1 \
		-type f -delete 2>/dev/null
	rm -rf "$MAILDIR" "$STATE_DIR" "${EXPECTED:?}"/*
	[ "$(server_count)" = 0 ] || bail_out "cannot empty the server"
}

# set_aside FILE...: take messages out of $EXPECTED (never to be delivered)
# into a subdirectory, which mailcheck ignores but seed still counts to
# number the next messages
set_aside() {
	mkdir -p "$EXPECTED/set-aside"
	(cd "$EXPECTED" && mv "$@" set-aside/) || bail_out "set_aside $* failed"
}

# notice_count TEXT FRAGMENT: lines of TEXT that contain FRAGMENT
notice_count() {
	if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | grep -cF -- "$2"; fi
}

start_server
CACHE=$STATE_DIR/$ACCOUNT.uidl

# ------------------------------------------------------------- keep_days

now=$(date +%s)
ft=$(faketime '+8 days' date +%s)
ok "faketime moves the clock 8 days ahead" test $((ft - now)) -ge $((8 * 86400 - 60)) -a \
	$((ft - now)) -le $((8 * 86400 + 60))

seed 5
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep_days=7
run_pm -v
is "$PM_RC" 0 "keep_days, day 0: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 5 new messages (" "keep_days, day 0: 5 new messages"
lacks "$PM_OUT" "deleted" "keep_days, day 0: nothing deleted"
is "$(maildir_count)" 5 "keep_days, day 0: 5 in the Maildir"
is "$(server_count)" 5 "keep_days, day 0: all kept on the server"

run_pm_at '+3 days' -v
is "$PM_RC" 0 "keep_days, +3 days: exit status 0 (TLS works under faketime)" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages" "keep_days, +3 days: nothing fetched, nothing deleted"
is "$(maildir_count)" 5 "keep_days, +3 days: still 5 in the Maildir"
is "$(server_count)" 5 "keep_days, +3 days: still 5 on the server"

seed 2
run_pm_at '+3 days' -v
is "$PM_RC" 0 "keep_days, 2 more at +3 days: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 2 new messages (" "keep_days, 2 more at +3 days: 2 new messages"
lacks "$PM_OUT" "deleted" "keep_days, 2 more at +3 days: nothing deleted"
is "$(server_count)" 7 "keep_days, 2 more at +3 days: 7 on the server"
late=$(awk -v t=$(($(date +%s) + 3 * 86400 - 300)) \
	'$1 == "+" && $2 >= t { n++ } END { print n + 0 }' "$CACHE" 2>/dev/null)
is "$late" 2 "keep_days, 2 more at +3 days: recorded with the false date"

run_pm_at '+8 days' -v
is "$PM_RC" 0 "keep_days, +8 days: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages, 5 deleted from the server" \
	"keep_days, +8 days: the first 5 deleted, nothing fetched"
is "$(server_count)" 2 "keep_days, +8 days: the server keeps the 2 later ones"
is "$(maildir_count)" 7 "keep_days, +8 days: nothing delivered again"
ok "keep_days, +8 days: Maildir identical to the seed, no duplicates" mailcheck

run_pm_at '+30 days' -k -v
is "$PM_RC" 0 "keep_days, -k at +30 days: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages" "keep_days, -k at +30 days: nothing fetched or deleted"
is "$(server_count)" 2 "keep_days, -k at +30 days: the server keeps the 2 later ones"

run_pm_at '+11 days' -v
is "$PM_RC" 0 "keep_days, +11 days: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages, 2 deleted from the server" \
	"keep_days, +11 days: the 2 later ones deleted"
is "$(server_count)" 0 "keep_days, +11 days: server empty"
ok "keep_days, +11 days: Maildir identical to the seed, no duplicates" mailcheck

# ------------------------------------------------------- skip_larger_than

reset
seed 3 --big 100000 # msg 4 ~100 KB
seed 3 --big 150000 # msg 8 ~150 KB
set_aside msg-00004.eml msg-00008.eml
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" skip_larger_than=50K
run_pm
is "$PM_RC" 0 "skip_larger_than: exit status 0" || show_pm
is "$PM_OUT" "" "skip_larger_than: no summary when stdout is not a terminal"
is "$(notice_count "$PM_ERR" "is larger than skip_larger_than: left on the server")" 2 \
	"skip_larger_than: one notice per big message on stderr" || show_pm
contains "$PM_ERR" "pullmail: $ACCOUNT: message 4 (" "skip_larger_than: notice names message 4"
contains "$PM_ERR" "pullmail: $ACCOUNT: message 8 (" "skip_larger_than: notice names message 8"
is "$(server_count)" 2 "skip_larger_than: the 2 big ones left on the server"
is "$(maildir_count)" 6 "skip_larger_than: the 6 others delivered"
ok "skip_larger_than: Maildir holds exactly the small ones" mailcheck

run_pm -v
is "$PM_RC" 0 "skip_larger_than, again: exit status 0" || show_pm
is "$(notice_count "$PM_ERR" "is larger than skip_larger_than: left on the server")" 2 \
	"skip_larger_than, again: the notices again" || show_pm
contains "$PM_OUT" "2 too large left on the server" "skip_larger_than, again: counted in the summary"
is "$(maildir_count)" 6 "skip_larger_than, again: nothing delivered"
is "$(server_count)" 2 "skip_larger_than, again: still 2 on the server"

run_pm -q
is "$PM_RC" 0 "skip_larger_than, -q: exit status 0" || show_pm
is "$PM_ERR$PM_OUT" "" "skip_larger_than, -q: no notice"
is "$(server_count)" 2 "skip_larger_than, -q: still 2 on the server"

# ----------------------------------------------------- delete_larger_than

# the 2 big ones are still on the server; delete_larger_than applies even
# with keep = yes, but not with -k
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" delete_larger_than=50K keep=yes
run_pm -k -v
is "$PM_RC" 0 "delete_larger_than, -k: exit status 0" || show_pm
is "$(notice_count "$PM_ERR" "left on the server")" 2 \
	"delete_larger_than, -k: a notice per big message, left on the server" || show_pm
is "$(notice_count "$PM_ERR" "deleting it unread")" 0 "delete_larger_than, -k: nothing said deleted"
is "$(server_count)" 2 "delete_larger_than, -k: nothing deleted"

run_pm
is "$PM_RC" 0 "delete_larger_than, keep: exit status 0" || show_pm
is "$(notice_count "$PM_ERR" "pullmail: $ACCOUNT: message ")" 2 "delete_larger_than, keep: 2 notices" ||
	show_pm
is "$(notice_count "$PM_ERR" "is larger than delete_larger_than: deleting it unread")" 2 \
	"delete_larger_than, keep: each says deleting it unread" || show_pm
is "$(server_count)" 0 "delete_larger_than, keep: deleted all the same"
is "$(maildir_count)" 6 "delete_larger_than, keep: nothing delivered"
ok "delete_larger_than: the big ones never delivered" mailcheck

# ----------------------------------------------------------- max_messages

reset
seed 12
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" max_messages=5
run_pm -v
is "$PM_RC" 0 "max_messages, run 1: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 5 new messages (" "max_messages, run 1: 5 new messages"
contains "$PM_OUT" ", 7 left for the next run" "max_messages, run 1: 7 left for the next run"
is "$(maildir_count)" 5 "max_messages, run 1: 5 delivered"
is "$(server_count)" 7 "max_messages, run 1: 7 on the server"
run_pm -v
contains "$PM_OUT" "$ACCOUNT: 5 new messages (" "max_messages, run 2: 5 new messages"
contains "$PM_OUT" ", 2 left for the next run" "max_messages, run 2: 2 left for the next run"
is "$(maildir_count)" 10 "max_messages, run 2: 10 delivered"
is "$(server_count)" 2 "max_messages, run 2: 2 on the server"
run_pm -v
contains "$PM_OUT" "$ACCOUNT: 2 new messages (" "max_messages, run 3: 2 new messages"
lacks "$PM_OUT" "left for the next run" "max_messages, run 3: nothing left"
is "$(server_count)" 0 "max_messages, run 3: server empty"
ok "max_messages: every message delivered once" mailcheck

# -------------------------------------------------------------- max_bytes

reset
seed 1 --big 30000 # msg 1 small (2-8 KB), msg 2 ~30 KB
seed 2             # msg 3, 4 small
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" max_bytes=25K
run_pm -v
is "$PM_RC" 0 "max_bytes, run 1: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 3 new messages (" "max_bytes, run 1: the 3 small ones fit (a later, smaller one too)"
contains "$PM_OUT" ", 1 left for the next run" "max_bytes, run 1: 1 left for the next run"
is "$(server_count)" 1 "max_bytes, run 1: 1 on the server"
is "$(find "$MAILDIR/new" -type f -size +20k | wc -l)" 0 "max_bytes, run 1: the big one not delivered"
run_pm -v
is "$PM_RC" 0 "max_bytes, run 2: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 1 new message" "max_bytes, run 2: the big one fetched though larger than max_bytes"
is "$(server_count)" 0 "max_bytes, run 2: server empty"
ok "max_bytes: every message delivered once" mailcheck

# -------------------------------------------------------------- fetch_all

reset
seed 3
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes fetch_all=yes
run_pm
run_pm
is "$PM_RC" 0 "fetch_all: exit status 0" || show_pm
is "$(maildir_count)" 6 "fetch_all, keep: the second run delivers everything again"
is "$(server_count)" 3 "fetch_all, keep: the server keeps them"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
run_pm -a
is "$(maildir_count)" 9 "-a, keep: same as fetch_all"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" fetch_all=yes
run_pm -v
contains "$PM_OUT" "$ACCOUNT: 3 new messages (" "fetch_all, keep = no: delivered again"
contains "$PM_OUT" "3 deleted from the server" "fetch_all, keep = no: then deleted"
is "$(server_count)" 0 "fetch_all, keep = no: server empty"
ok "fetch_all: the Maildir holds the seed 4 times" mailcheck --allow-duplicates
contains "$MC_OUT" "delivered=12 expected=3 missing=0 duplicates=9 unexpected=0" \
	"fetch_all: exactly 9 duplicates"

# ----------------------------------------------------- mark-seen, check

# snapshot: server count, Maildir listing and UIDL cache bytes
snapshot() {
	printf 'server=%s\n' "$(server_count)"
	find "$MAILDIR" -type f 2>/dev/null | sort
	if [ -e "$CACHE" ]; then od -An -c "$CACHE"; else echo "no cache"; fi
}

reset
seed 4
set_aside msg-00001.eml msg-00002.eml msg-00003.eml msg-00004.eml # "delivered by another program"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
run_pm -c
is "$PM_RC" 0 "-c, no cache yet: exit status 0 (new mail)" || show_pm
is "$PM_OUT" "$ACCOUNT: 4 new of 4 (${PM_OUT##*new of 4 (}" "-c, no cache yet: one line '$ACCOUNT: 4 new of 4 (...)'"
contains "$PM_OUT" " new)" "-c, no cache yet: with the size of the new ones"
is "$(maildir_count)/$(server_count)" 0/4 "-c, no cache yet: nothing delivered or deleted"

run_pm --mark-seen -v
is "$PM_RC" 0 "--mark-seen: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 4 messages marked as seen" "--mark-seen -v: prints the count"
is "$(maildir_count)" 0 "--mark-seen: nothing delivered"
is "$(server_count)" 4 "--mark-seen: nothing deleted"
run_pm --mark-seen
is "$PM_RC" 0 "--mark-seen again: exit status 0" || show_pm
is "$PM_OUT" "" "--mark-seen without -v, not on a terminal: silent"

before=$(snapshot)
run_pm -c
is "$PM_RC" 1 "-c, nothing new: exit status 1" || show_pm
is "$PM_OUT" "$ACCOUNT: 0 new of 4 (0 B new)" "-c, nothing new: '0 new of 4'"
is "$(snapshot)" "$before" "-c, nothing new: server, Maildir and UIDL cache unchanged"
run_pm -c -q
is "$PM_RC" 1 "-cq, nothing new: exit status 1" || show_pm
is "$PM_OUT$PM_ERR" "" "-cq, nothing new: silent"

seed 3
before=$(snapshot)
run_pm -c
is "$PM_RC" 0 "-c, 3 new: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 3 new of 7 (" "-c, 3 new: '$ACCOUNT: 3 new of 7 (...)'"
is "$(line_count "$PM_OUT")" 1 "-c, 3 new: one line"
is "$(snapshot)" "$before" "-c, 3 new: server, Maildir and UIDL cache unchanged"
run_pm -c -q
is "$PM_RC" 0 "-cq, 3 new: exit status 0" || show_pm
is "$PM_OUT$PM_ERR" "" "-cq, 3 new: silent"

run_pm -v
is "$PM_RC" 0 "after --mark-seen, keep: exit status 0" || show_pm
contains "$PM_OUT" "$ACCOUNT: 3 new messages (" "after --mark-seen, keep: exactly the 3 new fetched"
is "$(maildir_count)" 3 "after --mark-seen, keep: 3 in the Maildir"
ok "after --mark-seen, keep: they are the 3 new ones" mailcheck
is "$(server_count)" 7 "after --mark-seen, keep: the server keeps all 7"

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" 'password="wrong-password"'
before=$(snapshot)
run_pm -c
is "$PM_RC" 77 "-c, wrong password: exit status 77, not 1" || show_pm
lacks "$PM_OUT" "new of" "-c, wrong password: no count"
is "$(snapshot)" "$before" "-c, wrong password: nothing changed"

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm -v
is "$PM_RC" 0 "after --mark-seen, keep = no: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages, 7 deleted from the server" \
	"after --mark-seen, keep = no: the marked ones deleted unread"
is "$(maildir_count)" 3 "after --mark-seen, keep = no: nothing delivered"
is "$(server_count)" 0 "after --mark-seen, keep = no: server empty"

# ----------------------------------------------------------- dump-config

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
add_account other implicit "$POP3S_PORT" "$POP3_TLS_HOST" 'password="Other-Secret-99"'
run_pm --dump-config
is "$PM_RC" 0 "--dump-config: exit status 0" || show_pm
is "$(notice_count "$PM_OUT" "password = ***")" 2 "--dump-config: password = *** for both accounts"
lacks "$PM_OUT$PM_ERR" "$POP3_PASS" "--dump-config: the first password never shown"
lacks "$PM_OUT$PM_ERR" "Other-Secret-99" "--dump-config: the second password never shown"
contains "$PM_OUT" "[other]" "--dump-config: shows [other]"
contains "$PM_OUT" "[$ACCOUNT]" "--dump-config: shows [$ACCOUNT]"
run_pm --dump-config other
is "$PM_RC" 0 "--dump-config other: exit status 0" || show_pm
contains "$PM_OUT" "[other]" "--dump-config other: shows [other]"
lacks "$PM_OUT" "[$ACCOUNT]" "--dump-config other: not [$ACCOUNT]"
lacks "$PM_OUT" "Other-Secret-99" "--dump-config other: password not shown"
is "$(server_count)" 0 "--dump-config: nothing fetched or deleted"

done_testing
