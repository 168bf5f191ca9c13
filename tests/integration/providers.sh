#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# providers.sh - pullmail against fakepop.py behaving like two providers'
# POP3 services (--mode, tests/lib/README):
#  - Gmail: no PIPELINING, LOGIN-DELAY 300 and EXPIRE 0 in CAPA, at most
#    --session-limit messages listed a session (the oldest not downloaded
#    in an earlier session that QUIT), LIST sizes with LF line ends.  600
#    messages are all fetched in one run, keep and delete alike, byte for
#    byte, in the number of sessions expected (250, 250, 100, then one that
#    lists nothing new), and the next run logs in once; 99 messages take one
#    session and 100 two (the threshold, CAPPED_MIN in src/fetch.c);
#    max_sessions and max_messages bound a run; a session cut off before QUIT
#    (Gmail lists its messages again) still lets the next run fetch the rest
#    in several sessions; messages with LF sizes (MB-sized ones, one of
#    short lines whose LF size is 2/3 of its CRLF size) are not "damaged".
#  - a server that lists everything (fakepop without --mode): 99 new
#    messages, one login; 150, a second login that brings nothing, or that
#    a server enforcing LOGIN-DELAY refuses (exit status 0 all the same);
#    one that lists the messages it deleted again to the next session
#    (Courier answers QUIT first): they are left alone, none fetched twice.
#  - Microsoft 365: CAPA "TOP UIDL SASL PLAIN XOAUTH2 USER", AUTH only in
#    two steps (an initial response gets "-ERR Protocol error. Connection is
#    closed." and the connection closed): auth = plain, auto, xoauth2 (a
#    short and a 4 KB token) and user log in and fetch byte for byte; a
#    wrong password is one refusal (77), nothing fetched.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# gen DIR N [GENMAIL-ARG...]: N messages into DIR (a new directory)
gen() {
	local dir=$1 n=$2
	shift 2
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$dir" --count "$n" "$@" \
		>/dev/null || bail_out "genmail.py failed"
}

# connections: connections fakepop accepted so far (sessions)
connections() {
	grep -c '^S: connection ' "$FAKE_LOG"
}

# listings: the sizes of the maildrops listed, in order ("250 250 100 0")
listings() {
	sed -n 's/^S: maildrop \([0-9]*\) messages$/\1/p' "$FAKE_LOG" | tr '\n' ' ' |
		sed 's/ $//'
}

# no_violation: fakepop logged no V: line (no command pipelined without
# PIPELINING, no DELE before its message was sent whole)
no_violation() {
	if grep -q '^V: ' "$FAKE_LOG"; then
		diag "$(grep '^V: ' "$FAKE_LOG")"
		return 1
	fi
}

# use_mail DIR: the fakepop started next serves DIR's messages, and
# mailcheck compares the Maildir of that case with them
# shellcheck disable=SC2034 # FAKE_MAIL: read by fake_start (lib.sh)
use_mail() {
	FAKE_MAIL=$1
	EXPECTED=$1
}

# start MODE [FAKEPOP-ARG...]: fake_start --mode MODE, and mailcheck looks
# at its Maildir
start() {
	local mode=$1
	shift
	fake_start --mode "$mode" "$@"
	MAILDIR=$FAKE_MD
}

# mbox_check MBOX: mailcheck for an mbox
mbox_check() {
	local out
	out=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$EXPECTED" \
		--mbox "$1" --strip-received 2>&1) && return 0
	diag "$out"
	return 1
}

# check_run LABEL STATUS: pullmail's exit status, and no "damaged" verdict
check_run() {
	is "$PM_RC" "$2" "$1: exit status $2" || { show_pm; diag "$(tail -n 30 "$FAKE_LOG")"; }
	lacks "$PM_ERR" "damaged" "$1: no message found damaged"
}

gen "$T/m600" 600
gen "$T/m99" 99 --seed 99
gen "$T/m100" 100 --seed 100
gen "$T/mixed" 40 --mix mixed --seed 40
# and one of 30000 short lines: its LF size is 2/3 of its CRLF size
{
	printf 'From: a@example.org\nTo: b@example.org\nSubject: short lines\n'
	printf 'Message-ID: <short-lines@example.org>\n\n'
	for ((i = 0; i < 30000; i++)); do printf '%d\n' $((i % 10)); done
} >"$T/mixed/msg-00041.eml"

# ------------------------------------------------------------ Gmail

use_mail "$T/m600"
start gmail
# CAPA, as pullmail sees it
write_config none "$FAKE_PORT" 127.0.0.1
run_pm --serverinfo
is "$PM_RC" 0 "gmail: --serverinfo: exit status 0" || show_pm
contains "$PM_OUT" "LOGIN-DELAY 300" "gmail: CAPA has LOGIN-DELAY 300"
contains "$PM_OUT" "EXPIRE 0" "gmail: CAPA has EXPIRE 0"
contains "$PM_OUT" "X-GOOGLE-RICO" "gmail: CAPA has X-GOOGLE-RICO"
lacks "$PM_OUT" "PIPELINING" "gmail: CAPA has no PIPELINING"
# LIST and UIDL, from the server itself: LF sizes, Gmail-like UIDs
probe=$("$PYTHON3" -S - "$FAKE_PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
out = []
for c in (b"USER u", b"PASS p", b"LIST 1", b"UIDL 1", b"QUIT"):
    s.sendall(c + b"\r\n")
    out.append(f.readline().rstrip(b"\r\n").decode())
print(out[2].split()[-1], out[3].split()[-1])
EOF
)
is "${probe%% *}" "$(stat -c %s "$T/m600/msg-00001.eml")" \
	"gmail: LIST 1 is the size with LF line ends (the file's size)"
contains "${probe#* }" "GmailId" "gmail: UIDL 1 looks like Gmail's"
fake_stop

for policy in keep delete; do
	label="gmail, $policy, 600 messages, 250 a session"
	start gmail
	mode_config maildir "$policy"
	run_pm -v
	check_run "$label" 0
	is "$(connections)" 4 "$label: four sessions in one run"
	is "$(listings)" "250 250 100 0" "$label: sessions listed 250, 250, 100, then nothing new"
	contains "$PM_ERR" "logging in again for more (session 4)" "$label: -v says why it logged in again"
	contains "$PM_OUT" "600 new messages" "$label: summary: 600 new messages"
	ok "$label: all 600 delivered byte for byte, once" mailcheck
	ok "$label: no command pipelined, no early DELE (no V: line)" no_violation
	if [ "$policy" = keep ]; then
		is "$(count_files "$FAKE_SRV")" 600 "$label: every message still on the server"
	else
		is "$(count_files "$FAKE_SRV")" 0 "$label: the server is empty"
	fi
	run_pm -v
	check_run "$label, second run" 0
	is "$(connections)" 5 "$label, second run: one login"
	contains "$PM_OUT" "no new messages" "$label, second run: no new messages"
	is "$(maildir_count "$MAILDIR")" 600 "$label, second run: still 600 in the Maildir"
done

# into an mbox, where each message is recorded as it is delivered
label="gmail, delete, 600 messages into an mbox"
start gmail
mode_config mbox delete
run_pm -v
check_run "$label" 0
is "$(listings)" "250 250 100 0" "$label: sessions listed 250, 250, 100, then nothing new"
ok "$label: all 600 delivered byte for byte, once" mbox_check "$FD/mbox"
is "$(count_files "$FAKE_SRV")" 0 "$label: the server is empty"

# the threshold: a session must bring 100 new messages for another one
use_mail "$T/m99"
start gmail
mode_config maildir delete
run_pm -v
check_run "gmail, 99 messages" 0
is "$(connections)" 1 "gmail, 99 messages: one session"
ok "gmail, 99 messages: all delivered byte for byte" mailcheck
lacks "$PM_ERR" "logging in again" "gmail, 99 messages: no word of another login"

use_mail "$T/m100"
start gmail
mode_config maildir delete
run_pm -v
check_run "gmail, 100 messages" 0
is "$(listings)" "100 0" "gmail, 100 messages: a second session, which lists nothing"
ok "gmail, 100 messages: all delivered byte for byte" mailcheck

# fewer than 100 a session: not taken for a cap (the next run goes on)
use_mail "$T/m600"
start gmail --session-limit 99
mode_config maildir keep
run_pm -v
check_run "gmail, 99 a session" 0
is "$(listings)" "99" "gmail, 99 a session: one session"
is "$(maildir_count "$MAILDIR")" 99 "gmail, 99 a session: 99 delivered"

# max_sessions bounds a run; the next run goes on from there
label="gmail, max_sessions = 2"
start gmail
mode_config maildir delete max_sessions=2
run_pm -v
check_run "$label" 0
is "$(listings)" "250 250" "$label: two sessions"
is "$(maildir_count "$MAILDIR")" 500 "$label: 500 delivered"
contains "$PM_ERR" "the next run fetches them (max_sessions = 2)" "$label: -v says the rest waits"
run_pm -v
check_run "$label, next run" 0
is "$(listings)" "250 250 100 0" "$label, next run: the last 100, then nothing new"
ok "$label: after two runs, all 600 delivered byte for byte, once" mailcheck

label="gmail, max_sessions = 1"
start gmail
mode_config maildir delete max_sessions=1
run_pm -v
check_run "$label" 0
is "$(connections)" 1 "$label: one session"
is "$(maildir_count "$MAILDIR")" 250 "$label: 250 delivered"

# max_messages counts for the whole run, over its sessions
label="gmail, max_messages = 300"
start gmail
mode_config maildir delete max_messages=300
run_pm -v
check_run "$label" 0
is "$(listings)" "250 250" "$label: two sessions"
is "$(maildir_count "$MAILDIR")" 300 "$label: 300 delivered in the run"
is "$(count_files "$FAKE_SRV")" 300 "$label: 300 left on the server"

# a session cut off before QUIT: Gmail hides none of its messages, so with
# keep those delivered come again in every listing; the next run still
# fetches all the rest, in several sessions, and none twice
label="gmail, keep, first session cut off"
start gmail --fault drop-after-retr=100
mode_config maildir keep
run_pm
is "$PM_RC" 75 "$label: exit status 75" || show_pm
first=$(maildir_count "$MAILDIR")
ok "$label: some delivered before the cut ($first)" test "$first" -gt 0 -a "$first" -lt 250
is "$(connections)" 1 "$label: no second session after an error"
run_pm -v
check_run "$label, next run" 0
is "$(connections)" 5 "$label, next run: four sessions"
ok "$label, next run: all 600 delivered byte for byte, once" mailcheck
run_pm -v
check_run "$label, third run" 0
is "$(connections)" 6 "$label, third run: one login"

# a server that lists everything: a run of a few new messages logs in once;
# one of 100 or more logs in again, and the second login brings nothing,
# or is refused by a server enforcing LOGIN-DELAY, which is no error
gen "$T/m150" 150 --seed 150
use_mail "$T/m99"
fake_start
MAILDIR=$FAKE_MD
mode_config maildir keep
run_pm -v
check_run "plain server, keep, 99 messages" 0
is "$(connections)" 1 "plain server, keep, 99 messages: one login"
ok "plain server, keep, 99 messages: all delivered byte for byte" mailcheck
use_mail "$T/m150"
for policy in keep delete; do
	label="plain server, $policy, 150 messages"
	fake_start
	MAILDIR=$FAKE_MD
	mode_config maildir "$policy"
	run_pm -v
	check_run "$label" 0
	is "$(listings)" "150 $([ "$policy" = keep ] && echo 150 || echo 0)" \
		"$label: a second login, which brings nothing new"
	ok "$label: all delivered byte for byte, once" mailcheck

	label="plain server enforcing LOGIN-DELAY, $policy, 150 messages"
	fake_start --enforce-login-delay
	MAILDIR=$FAKE_MD
	mode_config maildir "$policy"
	run_pm -v
	check_run "$label" 0
	is "$(connections)" 2 "$label: a second login"
	is "$(grep -c '^S: login refused: LOGIN-DELAY$' "$FAKE_LOG")" 1 "$label: refused with LOGIN-DELAY"
	contains "$PM_ERR" "another login so soon refused" "$label: -v says so"
	ok "$label: all delivered byte for byte, once" mailcheck
	if [ "$policy" = keep ]; then
		is "$(count_files "$FAKE_SRV")" 150 "$label: all still on the server"
	else
		is "$(count_files "$FAKE_SRV")" 0 "$label: the server is empty"
	fi
	run_pm
	is "$PM_RC" 75 "$label: the first login of a run refused: 75, as ever" || show_pm
	contains "$PM_ERR" "LOGIN-DELAY" "$label: the first login of a run refused: said"
done

# a server that answers QUIT before the deleted messages are gone (Courier):
# the session that logs in at once lists them again; they are left alone,
# never fetched a second time
label="server lagging behind its deletions, 150 messages"
fake_start --fault lag-deletes@all
MAILDIR=$FAKE_MD
mode_config maildir delete
run_pm -v
check_run "$label" 0
is "$(listings)" "150 150" "$label: the second session lists all 150 again"
contains "$PM_ERR" "150 messages deleted by the session before still listed: left alone" \
	"$label: -v says why they are not fetched"
is "$(grep -c '^S: sent ' "$FAKE_LOG")" 150 "$label: each sent once"
ok "$label: all delivered byte for byte, once" mailcheck
is "$(count_files "$FAKE_SRV")" 0 "$label: the server is empty once it has caught up"

# MB-sized messages, and one whose LF size is 2/3 of its CRLF size
use_mail "$T/mixed"
label="gmail, 41 mixed messages (some MB-sized, one of short lines)"
start gmail
mode_config maildir delete
run_pm -v
check_run "$label" 0
ok "$label: all delivered byte for byte" mailcheck
is "$(count_files "$FAKE_SRV")" 0 "$label: the server is empty"
is "$(count_files "$STATE_DIR/$ACCOUNT.damaged")" 0 "$label: no damaged copies kept"

# the key
start gmail
mode_config maildir delete max_sessions=0
run_pm
is "$PM_RC" 78 "max_sessions = 0: configuration error (78)" || show_pm
contains "$PM_ERR" "max_sessions" "max_sessions = 0: the error names the key"
mode_config maildir delete
run_pm --dump-config
contains "$PM_OUT" "max_sessions = 10" "--dump-config: max_sessions = 10, the default"
fake_stop

# ------------------------------------------------------ Microsoft 365

TOKEN=$("$PYTHON3" -S -c 'import random; r = random.Random(365)
print("EwB" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(4000)))')
SHORT=ya29.short-token-for-m365
printf '#!/bin/sh\necho %s\n' "$TOKEN" >"$T/token.sh"
printf '#!/bin/sh\necho %s\n' "$SHORT" >"$T/short.sh"
chmod 700 "$T/token.sh" "$T/short.sh"

use_mail "$T/mixed"
for auth in plain auto xoauth2-short xoauth2-long user; do
	label="m365, auth = $auth"
	case $auth in
	xoauth2-short)
		start m365 --token "$SHORT"
		mode_config maildir delete auth=xoauth2 -password "password_command=$T/short.sh"
		;;
	xoauth2-long)
		start m365 --token "$TOKEN"
		mode_config maildir delete auth=xoauth2 -password "password_command=$T/token.sh"
		;;
	*)
		start m365
		mode_config maildir delete auth=$auth
		;;
	esac
	run_pm -vv
	check_run "$label" 0
	ok "$label: all delivered byte for byte" mailcheck
	is "$(count_files "$FAKE_SRV")" 0 "$label: the server is empty"
	ok "$label: no command pipelined, no early DELE (no V: line)" no_violation
	case $auth in
	plain | auto | xoauth2-short)
		mech=PLAIN
		[ "$auth" = xoauth2-short ] && mech=XOAUTH2
		is "$(grep -c "^S: m365: $mech initial response refused, closing\$" "$FAKE_LOG")" 1 \
			"$label: the initial response was refused"
		is "$(connections)" 2 "$label: the second try on a new connection"
		is "$(grep -c "^S: $mech accepted (continuation)\$" "$FAKE_LOG")" 1 \
			"$label: then accepted after the continuation"
		contains "$PM_ERR" "trying without, on a new connection" "$label: -vv says so"
		;;
	xoauth2-long)
		is "$(connections)" 1 "$label: one connection"
		is "$(grep -c '^S: XOAUTH2 accepted (continuation)$' "$FAKE_LOG")" 1 \
			"$label: the token after the continuation"
		;;
	user)
		is "$(connections)" 1 "$label: one connection"
		is "$(grep -c '^C: AUTH' "$FAKE_LOG")" 0 "$label: no AUTH"
		;;
	esac
done
lacks "$PM_ERR" "${TOKEN:10:40}" "m365: the token is not in the trace"

label="m365, auth = plain, wrong password"
start m365
mode_config maildir delete auth=plain 'password="wrong"'
run_pm
is "$PM_RC" 77 "$label: exit status 77" || show_pm
is "$(line_count "$PM_ERR")" 1 "$label: one line" || show_pm
contains "$PM_ERR" "login refused (PLAIN): Logon failure" "$label: the server's reason"
is "$(connections)" 2 "$label: tried in both forms, once each"
is "$(count_files "$FAKE_SRV")" 41 "$label: nothing deleted"
is "$(maildir_count "$MAILDIR")" 0 "$label: nothing delivered"
fake_stop

done_testing
