#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# lmtp.sh - delivery over LMTP: into a real Dovecot LMTP (dovecot-lmtpd)
# read back byte for byte, in delete and keep modes, with the edge mix;
# then tests/lib/fakesmtp.py for the faults (4xx/5xx/421 at each stage,
# a dropped connection mid-DATA, an idle server that went away, no
# PIPELINING, no 8BITMIME/SMTPUTF8, recipients that disagree) and kill -9
# in mid-DATA, each followed by a clean run: nothing lost, nothing twice.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtplib.sh"

# dovecot_check SET: the Maildir Dovecot's LMTP delivered into against the
# messages of SET, byte for byte, once the first header field, the
# Return-Path Dovecot always adds, is checked (it must give the envelope
# sender: the message's own Return-Path address, or <>) and taken off
dovecot_check() {
	local set=$1 cmp=$T/cmp rc
	shift
	rm -rf "$cmp"
	"$PYTHON3" - "$LMTP_MAILDIR" "$cmp" <<'PY' || return 1
import os, re, sys
src, dst = sys.argv[1:3]
for sub in ("tmp", "new", "cur"):
    os.makedirs(os.path.join(dst, sub))
bad = 0
for sub in ("new", "cur"):
    for n in sorted(os.listdir(os.path.join(src, sub))):
        data = open(os.path.join(src, sub, n), "rb").read()
        first, rest = data.split(b"\n", 1)
        m = re.match(rb"Return-Path: <([^>]*)>$", first)
        own = re.search(rb"^Return-Path: *<([^>]*)>", rest, re.M | re.I)
        want = own.group(1) if own else b""
        if not m or m.group(1) != want:
            print("# %s: first line %r, expected Return-Path: <%s>"
                  % (n, first[:80], want.decode()))
            bad += 1
        open(os.path.join(dst, "new", n), "wb").write(rest)
sys.exit(1 if bad else 0)
PY
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$set" \
		--maildir "$cmp" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

# subset NAME PYTHON-TEST: copy the messages of $EXPECTED for which the
# Python expression on `data` (bytes) is true into $T/NAME; prints the count
subset() {
	mkdir -p "$T/$1"
	"$PYTHON3" - "$EXPECTED" "$T/$1" "$2" <<'PY'
import os, shutil, sys
src, dst, test = sys.argv[1:4]
n = 0
for f in sorted(os.listdir(src)):
    data = open(os.path.join(src, f), "rb").read()
    head = data.split(b"\n\n", 1)[0]
    if eval(test):
        shutil.copy(os.path.join(src, f), dst)
        n += 1
print(n)
PY
}

# ======================================================= Dovecot's LMTP
start_server
[ -n "${LMTP_SOCKET:-}" ] || bail_out "Dovecot has no LMTP (apt-get install dovecot-lmtpd)"
seed 16 --mix edge
seed 20
N8H=$(subset head8 'any(b >= 0x80 for b in head)')
subset ascii_head 'not any(b >= 0x80 for b in head)' >/dev/null
ok "the edge mix has messages with raw 8-bit headers ($N8H)" [ "$N8H" -gt 0 ]
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir \
	"lmtp=$LMTP_SOCKET" "deliver_to=$LMTP_RCPT"
run_pm -v
is "$PM_RC" 74 "Dovecot LMTP has no SMTPUTF8: exit 74 for the messages with 8-bit headers"
contains "$PM_ERR" "does not offer SMTPUTF8: not sent, the message stays on the server" \
	"the refusal says why, and that the message stays"
is "$(server_count)" "$N8H" "exactly those stay on the server"
ok "every other message is in Dovecot's Maildir, byte for byte (Return-Path = envelope sender)" \
	dovecot_check "$T/ascii_head"

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir \
	"lmtp=$LMTP_SOCKET" "deliver_to=$LMTP_RCPT" allow_8bit_headers=yes
run_pm
is "$PM_RC" 0 "allow_8bit_headers = yes: exit 0"
is "$(server_count)" 0 "the server is empty"
ok "all 36 messages delivered exactly once, byte for byte" dovecot_check "$EXPECTED"

# keep mode: delivered, left on the server, not delivered again
rm -rf "$T/expected.keep" && mkdir "$T/expected.keep"
before=$(maildir_count "$LMTP_MAILDIR")
seed 16 --mix edge
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir \
	"lmtp=$LMTP_SOCKET" "deliver_to=$LMTP_RCPT" allow_8bit_headers=yes keep=yes
run_pm
is "$PM_RC" 0 "keep: exit 0"
is "$(server_count)" 16 "keep: the 16 stay on the server"
is "$(maildir_count "$LMTP_MAILDIR")" $((before + 16)) "keep: 16 more in Dovecot's Maildir"
run_pm
is "$PM_RC" 0 "keep, again: exit 0"
is "$(maildir_count "$LMTP_MAILDIR")" $((before + 16)) "keep, again: nothing delivered twice"
ok "keep: every message exactly once, byte for byte" dovecot_check "$EXPECTED"

# a recipient Dovecot does not know: 5xx at RCPT for each message, which
# stays on the server
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir \
	"lmtp=$LMTP_SOCKET" "deliver_to=nosuchuser" keep=no
seed 2
run_pm
is "$PM_RC" 74 "unknown recipient: exit 74"
contains "$PM_ERR" "RCPT TO refused: 550 5.1.1" "unknown recipient: Dovecot's 550 shown"
is "$(server_count)" 2 "unknown recipient: both new messages stay on the server (the 16 kept are deleted)"

# ======================================================= faults (fakesmtp)
rm -rf "$EXPECTED" && mkdir "$EXPECTED"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 6 --seed 7 >/dev/null ||
	bail_out "genmail.py failed"
# shellcheck disable=SC2034 # read by lib.sh's fake_start
FAKE_MAIL=$EXPECTED

# lmtp_config [KEY=VALUE...]: the fakepop account, delivering to fakesmtp
lmtp_config() {
	local dest="lmtp=$SMTP_SOCK"
	[ -S "$SMTP_SOCK" ] || dest="lmtp=127.0.0.1:$SMTP_PORT"
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes -maildir "$dest" deliver_to=joe "$@"
}

# fault_case DESC FAULT RC LEFT DELIVERED [MESSAGE [KEY=VALUE...]]: a run
# with fakesmtp's FAULT: exit RC, LEFT messages still on the server,
# DELIVERED accepted, MESSAGE in the errors; then a clean run: all six
# exactly once, the server empty
fault_case() {
	local desc=$1 fault=$2 rc=$3 left=$4 got=$5 msg=${6:-} f
	local -a fa=()
	shift 5
	[ $# -gt 0 ] && shift
	for f in ${fault//+/ }; do fa+=(--fault "$f"); done
	fake_start
	smtp_start --lmtp --unix "${fa[@]}"
	lmtp_config "$@"
	run_pm
	is "$PM_RC" "$rc" "$desc: exit $rc" || show_pm
	is "$(count_files "$FAKE_SRV")" "$left" "$desc: $left left on the server"
	is "$(maildir_count "$SMTP_OUT")" "$got" "$desc: $got accepted"
	[ -z "$msg" ] || contains "$PM_ERR" "$msg" "$desc: says so"
	[ -z "${AFTER_FIRST:-}" ] || eval "$AFTER_FIRST"
	run_pm
	is "$PM_RC" 0 "$desc: then a clean run" || show_pm
	ok "$desc: every message exactly once" out_check
	is "$(count_files "$FAKE_SRV")" "${LEFT_AFTER:-0}" "$desc: ${LEFT_AFTER:-0} left on the server after it"
	is "$(violations)" "" "$desc: no protocol violation"
}

AFTER_FIRST='ok "greeting 421: POP3 not even logged in to" eval "! grep -q \"^C: USER\" \"\$FAKE_LOG\""' \
	fault_case "greeting 421" greeting=421 75 6 0 "the server greeted: 421"
fault_case "LHLO 554" hello=554 76 6 0 "LHLO refused: 554"
fault_case "MAIL 452" mail=452@2 75 1 5 "MAIL FROM refused: 452"
fault_case "MAIL 550" mail=550@2 74 1 5 "refused for good"
fault_case "MAIL 421" mail=421@2 75 6 1 "MAIL FROM refused: 421"
fault_case "RCPT 452" rcpt=452@3 75 1 5 "RCPT TO refused"
fault_case "RCPT 550" rcpt=550@3 74 1 5 "RCPT TO refused"
fault_case "DATA 451" data=451@2 75 1 5 "DATA refused: 451"
fault_case "DATA 554" data=554@2 74 1 5 "DATA refused: 554"
fault_case "after the dot 452" dot=452@2 75 1 5 "refused after DATA: 452"
fault_case "after the dot 552" dot=552@4 74 1 5 "refused after DATA: 552"
fault_case "after the dot 554" dot=554@6 74 1 5 "refused after DATA: 554"
fault_case "after the dot 421" dot=421@3 75 6 2 "421"
fault_case "dropped mid-DATA" drop-mid-data=3 75 6 2 "connection closed"
AFTER_FIRST='is "$(tlog_count "S: connection")" 2 "server gone while idle: connected again, once"' \
	fault_case "server gone while idle" drop-idle=2 0 0 6 ""
fault_case "no PIPELINING" no-pipelining 0 0 6
fault_case "two recipients, one refuses after the dot" dot-split=2 75 1 5 \
	"1 of 2 recipients accepted the message" "deliver_to=joe ann"
LEFT_AFTER=6 fault_case "keep, MAIL 452" mail=452@2 75 6 5 "MAIL FROM refused: 452" keep=yes

# CHUNKING (RFC 3030): one BDAT LAST chunk, no dot-stuffing, sent only
# once MAIL and RCPT are answered
AFTER_FIRST='ok "BDAT used" eval "[ \$(tlog_count \"C: BDAT\") -gt 0 ]"' \
	fault_case "BDAT, refused 452 after it" chunking+dot=452@2 75 1 5 "refused after BDAT: 452"
fault_case "BDAT, RCPT 550" chunking+rcpt=550@3 74 1 5 "RCPT TO refused"
fault_case "BDAT, MAIL 421" chunking+mail=421@2 75 6 1 "MAIL FROM refused: 421"
fault_case "BDAT, dropped mid-chunk" chunking+drop-mid-data=3 75 6 2 "connection closed"
fault_case "BDAT, no PIPELINING" chunking+no-pipelining 0 0 6
fault_case "BDAT, two recipients, one refuses" chunking+dot-split=2 75 1 5 \
	"1 of 2 recipients accepted the message" "deliver_to=joe ann"
rm -rf "$T/edge" && mkdir "$T/edge"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$T/edge" --count 16 --mix edge --first 7 >/dev/null ||
	bail_out "genmail.py failed"
cp "$T/edge"/* "$EXPECTED"/
fault_case "BDAT, the edge mix" chunking 0 0 22
rm -f "$T/edge"/* && rmdir "$T/edge"
for f in "$EXPECTED"/msg-000{07..22}.eml; do rm -f "$f"; done
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 6 --seed 7 >/dev/null

# PIPELINING: MAIL, RCPT and DATA in one go
fake_start
smtp_start --lmtp --unix
lmtp_config
run_pm -vv
is "$PM_RC" 0 "pipelined: exit 0"
ok "pipelined: all six exactly once" out_check
is "$(violations)" "" "pipelined: no violation"
ok "one connection, one LHLO for the run" eval '[ "$(tlog_count "S: connection")" = 1 ] && [ "$(tlog_count "C: LHLO")" = 1 ]'

# LMTP over TCP, host:port
fake_start
smtp_start --lmtp
lmtp_config
run_pm
is "$PM_RC" 0 "lmtp = 127.0.0.1:PORT: exit 0"
ok "lmtp = 127.0.0.1:PORT: all six" out_check

# 8-bit: never sent mangled to a server without 8BITMIME or SMTPUTF8
rm -rf "$EXPECTED" && mkdir "$EXPECTED"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 16 --mix edge >/dev/null ||
	bail_out "genmail.py failed"
N8=$(subset b8 'any(b >= 0x80 for b in data)')
fake_start
smtp_start --lmtp --unix --fault no-8bitmime
lmtp_config
run_pm
is "$PM_RC" 74 "no 8BITMIME: exit 74"
contains "$PM_ERR" "does not offer 8BITMIME: not sent" "no 8BITMIME: says so"
is "$(count_files "$FAKE_SRV")" "$N8" "no 8BITMIME: the $N8 8-bit messages stay on the server"
is "$(maildir_count "$SMTP_OUT")" $((16 - N8)) "no 8BITMIME: the others delivered"
is "$(violations)" "" "no 8BITMIME: nothing 8-bit sent"
smtp_start --lmtp --unix --fault no-smtputf8
lmtp_config
run_pm
is "$PM_RC" 74 "no SMTPUTF8: exit 74 for the 8-bit headers"
is "$(count_files "$FAKE_SRV")" "$(subset h8 'any(b >= 0x80 for b in head)')" \
	"no SMTPUTF8: the messages with 8-bit headers stay"
is "$(violations)" "" "no SMTPUTF8: no violation (BODY=8BITMIME given)"
smtp_start --lmtp --unix
lmtp_config
run_pm
is "$PM_RC" 0 "both offered: exit 0"
is "$(count_files "$FAKE_SRV")" 0 "both offered: the server empty"
is "$(violations)" "" "both offered: BODY=8BITMIME and SMTPUTF8 given where needed"
ok "both offered: MAIL FROM carries SMTPUTF8" grep -q "SMTPUTF8$" "$SMTP_LOG"

# kill -9 in mid-DATA (the server pauses in message 3), then a clean run
rm -rf "$EXPECTED" && mkdir "$EXPECTED"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 6 --seed 9 >/dev/null ||
	bail_out "genmail.py failed"
fake_start
smtp_start --lmtp --unix --fault pause-mid-data=3
lmtp_config
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	"$PULLMAIL" </dev/null >"$T/pm.out" 2>"$T/pm.err") &
pm=$!
track_pid "$pm"
ok "kill -9: the server paused in the middle of message 3's DATA" \
	wait_for 30 grep -q "^S: paused 3" "$SMTP_LOG"
kill -KILL "$pm"
wait "$pm" 2>/dev/null
untrack_pid "$pm"
is "$(maildir_count "$SMTP_OUT")" 2 "kill -9: two messages accepted before"
run_pm
is "$PM_RC" 0 "kill -9: then a clean run"
ok "kill -9: every message exactly once" out_check
is "$(count_files "$FAKE_SRV")" 0 "kill -9: the server empty"

# kill -9 once the server has taken message 4 but before its 250: the one
# duplicate the no-loss rule allows (as for an MDA killed after its exit)
fake_start
smtp_start --lmtp --unix --fault pause-after-dot=4
lmtp_config
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	"$PULLMAIL" </dev/null >"$T/pm.out" 2>"$T/pm.err") &
pm=$!
track_pid "$pm"
ok "kill -9 before the 250: the server stored message 4 and holds its reply" \
	wait_for 30 grep -q "^S: paused after storing 4" "$SMTP_LOG"
kill -KILL "$pm"
wait "$pm" 2>/dev/null
untrack_pid "$pm"
run_pm
is "$PM_RC" 0 "kill -9 before the 250: then a clean run"
ok "kill -9 before the 250: nothing lost" out_check --allow-duplicates
is "$(maildir_count "$SMTP_OUT")" 7 "kill -9 before the 250: message 4 twice, nothing else"
is "$(count_files "$FAKE_SRV")" 0 "kill -9 before the 250: the server empty"

# configuration
write_config none 1 127.0.0.1 -maildir "lmtp=run/lmtp"
run_pm --dump-config
is "$PM_RC" 78 "lmtp = relative path: configuration error"
contains "$PM_ERR" "[test] lmtp: expected a unix socket (an absolute path) or HOST:PORT" \
	"lmtp = relative path: says what is expected"
write_config none 1 127.0.0.1 "lmtp=/run/x"
run_pm --dump-config
is "$PM_RC" 78 "maildir and lmtp: configuration error"
contains "$PM_ERR" "only one of maildir, mbox, mda, lmtp and smtp may be set" \
	"maildir and lmtp: the message names every way of delivery"
write_config none 1 127.0.0.1 -maildir "lmtp=/run/dovecot/lmtp" "deliver_to=ann"
run_pm --dump-config
is "$PM_RC" 0 "--dump-config with lmtp: exit 0"
contains "$PM_OUT" "lmtp = /run/dovecot/lmtp" "--dump-config shows lmtp"
contains "$PM_OUT" "deliver_to = ann" "--dump-config shows deliver_to"

done_testing
