#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# faults.sh - fault injection: pullmail against tests/lib/fakepop.py, a POP3
# server that drops, stalls, refuses and lies on cue.  For each fault: the
# exit status, one error line naming the cause, nothing lost (every message
# on the server or whole in the Maildir, nothing partial, tmp/ empty), no
# DELE before the message was received whole, no QUIT after an aborting
# error; then a clean run empties the server and leaves every message in the
# Maildir exactly once (those delivered before the failure are deleted, not
# delivered again).
#
# Environment: PULLMAIL (default ../../pullmail from here), TESTLIB (default
# ../lib), PYTHON3 (default python3), KEEP_TMP=1 to keep the temp directory,
# FAULTS_JOBS (default 4) cases at once, FAULTS_ONLY=GLOB only the cases
# # whose command line matches GLOB (for debugging).  Self-contained (does not
# use lib.sh); prints TAP.
#
# Each case runs in a subshell with its own directory and fakepop (killed by
# the subshell's trap); several run at once, since most of the time is spent
# waiting for timeouts.  Their results are numbered and printed in order.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PULLMAIL=${PULLMAIL:-$here/../../pullmail}
TESTLIB=${TESTLIB:-$here/../lib}
PYTHON3=${PYTHON3:-python3}
case $PULLMAIL in /*) ;; *) PULLMAIL=$PWD/$PULLMAIL ;; esac
case $TESTLIB in /*) ;; *) TESTLIB=$PWD/$TESTLIB ;; esac
# Use the real interpreter, not a slow wrapper such as a pyenv shim, and
# without site (-S): the scripts need only the standard library, and a
# site-packages full of .pth files can cost 0.1 s per start.
_py=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null) &&
	[ -n "$_py" ] && [ -x "$_py" ] && PYTHON3=$_py
py() {
	"$PYTHON3" -S "$@"
}

# ---------------------------------------------------------------- TAP

n=0
failed=0
finished=0
CASE_PIDS=()

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do
		printf '# %s\n' "$line"
	done
}

# result PASSED DESCRIPTION: "ok - ..." or "not ok - ..." on stdout (the
# case's result file); print_case numbers them
result() {
	if [ "$1" = 1 ]; then
		printf 'ok - %s\n' "$2"
		return 0
	fi
	printf 'not ok - %s\n' "$2"
	return 1
}

ok() { # DESCRIPTION COMMAND...
	local desc=$1
	shift
	if "$@"; then
		result 1 "$desc"
	else
		result 0 "$desc"
		diag "  failed: $*"
		return 1
	fi
}

is() { # GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then
		result 1 "$3"
	else
		result 0 "$3"
		diag "       got: '$1'" "  expected: '$2'"
		return 1
	fi
}

contains() { # TEXT FRAGMENT DESCRIPTION
	case $1 in
	*"$2"*) result 1 "$3" ;;
	*)
		result 0 "$3"
		diag "  '$1'" "  does not contain '$2'"
		return 1
		;;
	esac
}

bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 99
}

# needs python3 and openssl: without them skipped (exit status 77, see
# tests/lib/run-tap.sh), as lib.sh's "need" does
"$PYTHON3" -c '' 2>/dev/null ||
	{ echo "1..0 # SKIP $PYTHON3 not found (apt-get install python3)"; exit 77; }
command -v openssl >/dev/null 2>&1 ||
	{ echo "1..0 # SKIP openssl not found (apt-get install openssl)"; exit 77; }

# ---------------------------------------------------------- temp dir

T=$(mktemp -d "${TMPDIR:-/tmp}/pm-faults.XXXXXX") || bail_out "mktemp failed"
T=$(cd "$T" && pwd -P)
ORIG=$T/orig            # the original messages
NMSG=12
ACCOUNT=fake
FAKE_PID=
# per case, in $C = $T/c.N: srv (fakepop's mailbox, a copy of ORIG),
# Maildir, transcript, home, state

stop_fake() {
	if [ -n "$FAKE_PID" ]; then
		kill -TERM "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		rm -f "$C/fakepop.pid"
		FAKE_PID=
	fi
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	# the servers first, so that a pullmail waiting for one ends at once
	for pid in "$T"/c.*/fakepop.pid; do
		[ -f "$pid" ] && kill -TERM "$(cat "$pid")" 2>/dev/null
	done
	for pid in "${CASE_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	[ "$finished" = 1 ] || rc=99
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

py "$TESTLIB/genmail.py" --out "$ORIG" --mix edge --count "$NMSG" ||
	bail_out "genmail.py failed"
[ "$(find "$ORIG" -type f | wc -l)" = "$NMSG" ] || bail_out "genmail.py did not make $NMSG messages"

# check.py PREFIX ORIG SRV MAILDIR LOG CHECK...: the checks on mailbox,
# Maildir and transcript, one TAP result each (one Python start for all)
#   lost        every original is on the server or in the Maildir
#   whole       every message in the Maildir is an original, tmp/ is empty
#   transcript  no DELE of a message not sent whole before (fakepop's V:
#               lines, and "S: marked" without an earlier "S: sent")
cat >"$T/check.py" <<'PY'
import os, re, sys

def strip_received(data):
    """Drop the Received: field pullmail adds at the top."""
    if not data.startswith(b"Received: from "):
        return data
    end = data.find(b"\n")
    while end != -1 and data[end + 1:end + 2] in (b" ", b"\t"):
        end = data.find(b"\n", end + 1)
    if end == -1 or b"(pullmail " not in data[:end]:
        return data
    return data[end + 1:]

def files(d):
    try:
        names = sorted(os.listdir(d))
    except FileNotFoundError:
        return {}
    out = {}
    for name in names:
        p = os.path.join(d, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out[name] = f.read()
    return out

def delivered(maildir):
    out = files(os.path.join(maildir, "new"))
    out.update(("cur/" + k, v) for k, v in
               files(os.path.join(maildir, "cur")).items())
    return {k: strip_received(v) for k, v in out.items()}

def lost():
    have = set(files(srv).values()) | set(delivered(md).values())
    return ["lost: %s" % k for k, v in files(orig).items() if v not in have]

def whole():
    want = set(files(orig).values())
    bad = ["not an original (partial?): %s (%d bytes)" % (k, len(v))
           for k, v in delivered(md).items() if v not in want]
    return bad + ["left in tmp/: %s" % k
                  for k in files(os.path.join(md, "tmp"))]

def transcript():
    bad, sent = [], set()
    for line in open(log, encoding="ascii"):
        line = line.rstrip("\n")
        if line.startswith("V: "):
            bad.append(line)
        m = re.match(r"S: sent \d+ (.*)", line)
        if m:
            sent.add(m.group(1))
        m = re.match(r"S: marked (\d+) (.*)", line)
        if m and m.group(2) not in sent:
            bad.append("DELE %s (%s) before it was sent whole" % m.groups())
    return bad

DESC = {
    "lost": "nothing lost: every message on the server or in the Maildir",
    "whole": "every message in the Maildir whole, tmp/ empty",
    "transcript": "no DELE before the message was received whole",
}
prefix, orig, srv, md, log = sys.argv[1:6]
for check in sys.argv[6:]:
    bad = globals()[check]()
    print("%s - %s %s" % ("not ok" if bad else "ok", prefix, DESC[check]))
    for b in bad[:20]:
        print("#   " + b)
PY

check() { # PREFIX CHECK...
	local prefix=$1
	shift
	py "$T/check.py" "$prefix" "$ORIG" "$SRV" "$MAILDIR" "$LOG" "$@" 2>&1
}

# TLS certificate for the STLS case: self-signed, valid for 127.0.0.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	bail_out "openssl could not make a certificate"

# -------------------------------------------------------------- helpers

FAKE_ARGS=()            # extra fakepop arguments (TLS)
CONF_TLS=(tls=none)     # TLS keys of the configuration

# start_fake FAULT...: fresh mailbox (a copy of the originals), Maildir,
# state and transcript; start fakepop with these faults
start_fake() {
	local f
	local -a a=()
	stop_fake
	rm -rf "$SRV" "$MAILDIR" "$C/state" "$LOG" "$C/port"
	mkdir -p "$SRV" "$C/state" "$(dirname "$CONFIG")" &&
		cp "$ORIG"/* "$SRV"/ || bail_out "cannot set up $SRV"
	for f; do a+=(--fault "$f"); done
	# not through py(): $! must be the server itself, for stop_fake
	"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$SRV" --port-file "$C/port" \
		--log "$LOG" "${FAKE_ARGS[@]}" "${a[@]}" 2>"$C/fakepop.err" &
	FAKE_PID=$!
	echo "$FAKE_PID" >"$C/fakepop.pid"
	for _ in $(seq 100); do
		[ -s "$C/port" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$C/port" ] || bail_out "fakepop did not start: $(cat "$C/fakepop.err")"
	PORT=$(cat "$C/port")
	write_config
}

# write_config: the mode-0600 configuration of the account "fake"
write_config() {
	local kv
	(
		umask 077
		printf '[%s]\n' "$ACCOUNT"
		printf 'host = 127.0.0.1\nport = %s\n' "$PORT"
		for kv in "${CONF_TLS[@]}"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
		printf 'allow_plaintext = yes\nuser = u\npassword = p\ntimeout = 3\n'
		printf 'maildir = %s\n' "$MAILDIR"
	) >"$CONFIG" || bail_out "cannot write $CONFIG"
	chmod 0600 "$CONFIG"
}

# run_pm: run pullmail; RC, ERR (stderr), files $C/pm.out, $C/pm.err
run_pm() {
	env -u XDG_CONFIG_HOME HOME="$C/home" XDG_STATE_HOME="$C/state" \
		timeout -k 2 30 "$PULLMAIL" </dev/null >"$C/pm.out" 2>"$C/pm.err"
	RC=$?
	ERR=$(cat "$C/pm.err")
}

show_pm() {
	diag "exit $RC" "stdout: $(cat "$C/pm.out")" "stderr: $ERR"
}

nfiles() { # DIR: regular files in DIR
	find "$1" -mindepth 1 -maxdepth 1 -type f 2>/dev/null | wc -l | tr -d ' '
}

nlines() { # TEXT
	if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi
}

# conn_count CONN PATTERN: lines of connection CONN (last: the last one)
# in the transcript matching the extended regex PATTERN
conn_count() {
	awk -v want="$1" -v pat="$2" '
		/^S: connection / { c = $3; if (c > last) last = c }
		{ conn[NR] = c; line[NR] = $0 }
		END {
			if (want == "last") want = last
			for (i = 1; i <= NR; i++)
				if (conn[i] == want && line[i] ~ pat) k++
			print k + 0
		}' "$LOG"
}

# no_ctl FILE: FILE has no control character but newline (no ESC, BEL...)
no_ctl() {
	! LC_ALL=C grep -q '[[:cntrl:]]' "$1"
}

SAFE_RE='delivered before the error (is|are) safe in'
DUPS=0          # duplicates the clean run is documented to make
EXTRA=0         # lines on stderr besides the error (and the safe line)
CLEAN_LEFT=0    # messages the clean run leaves on the server
CLEAN_FRAG=     # what the clean run's one line on stderr says, if any

# fault_case RC SAFE QUIT FRAGMENT FAULT...: run pullmail against fakepop
# with FAULT..., then again without.
#   RC        exit status expected from the faulty run
#   SAFE      messages delivered before the error (the second "safe in"
#             line of stderr), 0 if there is no such line
#   QUIT      yes if the faulty session still ends with QUIT, no if the
#             failure aborts it
#   FRAGMENT  what the one error line must contain; "" if stderr must be
#             empty (the fault is tolerated)
fault_case() {
	local rc=$1 safe=$2 quit=$3 frag=$4 f name errline got1 retr t0
	shift 4
	name="[$*]"
	t0=$(date +%s%N)
	start_fake "$@"
	run_pm
	is "$RC" "$rc" "$name exit status $rc" || show_pm
	if [ -z "$frag" ]; then
		is "$ERR" "" "$name nothing on stderr"
	else
		errline=$(printf '%s\n' "$ERR" | grep -Ev "$SAFE_RE")
		is "$(nlines "$ERR")" $((EXTRA + (safe > 0 ? 2 : 1))) \
			"$name stderr: one error line$([ "$safe" -gt 0 ] && echo ' and the safe line')" || show_pm
		contains "$errline" "$frag" "$name the error line names the cause"
		if [ "$safe" -gt 0 ]; then
			contains "$ERR" "pullmail: $ACCOUNT: the $safe message$([ "$safe" = 1 ] || echo s) delivered before the error $([ "$safe" = 1 ] && echo is || echo are) safe in $MAILDIR" \
				"$name stderr says the $safe messages delivered are safe"
		fi
	fi
	ok "$name stderr has no control characters" no_ctl "$C/pm.err"
	FIRST_ERR=$ERR
	cp "$C/pm.err" "$C/pm.err.fault"
	for f; do
		ok "$name fakepop fired $f" grep -qFx "F: $f" "$LOG"
	done
	check "$name" lost whole transcript
	is "$(conn_count 1 '^C: QUIT$')" "$([ "$quit" = yes ] && echo 1 || echo 0)" \
		"$name $([ "$quit" = yes ] && echo "session ends with QUIT" || echo "no QUIT after the failure")"
	got1=$(nfiles "$MAILDIR/new")

	# the clean run
	run_pm
	is "$RC" 0 "$name clean run: exit status 0" || show_pm
	if [ -n "$CLEAN_FRAG" ]; then
		is "$(nlines "$ERR")" 1 "$name clean run: one line on stderr"
		contains "$ERR" "$CLEAN_FRAG" "$name clean run: it says $CLEAN_FRAG"
	else
		is "$ERR" "" "$name clean run: nothing on stderr"
	fi
	is "$(nfiles "$SRV")" "$CLEAN_LEFT" "$name clean run: $CLEAN_LEFT left on the server"
	if [ "$CLEAN_LEFT" != 0 ]; then
		is "$(nfiles "$MAILDIR/new")" $((NMSG - CLEAN_LEFT)) \
			"$name clean run: the others delivered"
	elif [ "$DUPS" = 0 ]; then
		ok "$name clean run: every message in the Maildir exactly once" \
			check_mail
		retr=$((NMSG - got1))
		is "$(conn_count last '^C: RETR ')" "$retr" \
			"$name clean run: only the $retr messages not delivered before are retrieved"
	else
		ok "$name clean run: every message in the Maildir" check_mail --allow-duplicates
		contains "$MC_OUT" "duplicates=$DUPS " "$name clean run: the $DUPS messages of the failed session twice (no UIDL)"
	fi
	check "$name clean run:" whole transcript
	is "$(conn_count last '^C: QUIT$')" 1 "$name clean run: session ends with QUIT"
	diag "$name took $((($(date +%s%N) - t0) / 1000000)) ms"
}

# check_mail [--allow-duplicates]: mailcheck.py on the Maildir
check_mail() {
	local rc
	MC_OUT=$(py "$TESTLIB/mailcheck.py" --expected "$ORIG" \
		--maildir "$MAILDIR" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

# ----------------------------------------------------------- scheduling

NCASES=0
PRINTED=0
MAXJOBS=${FAULTS_JOBS:-4}

# case_main ID COMMAND...: the body of a case's subshell
case_main() {
	C=$T/c.$1
	shift
	SRV=$C/srv
	MAILDIR=$C/Maildir
	LOG=$C/transcript
	CONFIG=$C/home/.config/pullmail/config
	FAKE_PID=
	trap stop_fake EXIT
	trap 'exit 143' TERM
	"$@"
	exit 0
}

# launch COMMAND...: run a case in the background (at most MAXJOBS at once)
# with the variables as they are now
launch() {
	# shellcheck disable=SC2053
	[[ "$*" == ${FAULTS_ONLY:-*} ]] || return 0
	while [ "$(jobs -rp | wc -l)" -ge "$MAXJOBS" ]; do
		wait -n
	done
	NCASES=$((NCASES + 1))
	(case_main "$NCASES" "$@") >"$T/res.$NCASES" 2>&1 &
	CASE_PIDS[NCASES]=$!
	print_done
}

# print_case ID: wait for case ID and print its results, numbered
print_case() {
	local line rc
	wait "${CASE_PIDS[$1]}"
	rc=$?
	unset "CASE_PIDS[$1]"
	[ $rc -eq 0 ] || echo "not ok - case $1 ended with status $rc" >>"$T/res.$1"
	while IFS= read -r line; do
		case $line in
		"ok - "*)
			n=$((n + 1))
			printf 'ok %d %s\n' "$n" "${line#ok }"
			;;
		"not ok - "*)
			n=$((n + 1))
			failed=$((failed + 1))
			printf 'not ok %d %s\n' "$n" "${line#not ok }"
			;;
		"#"* | "Bail out!"*) printf '%s\n' "$line" ;;
		*) printf '# %s\n' "$line" ;;
		esac
	done <"$T/res.$1"
	PRINTED=$1
}

# print_done [all]: print the finished cases that follow those printed
print_done() {
	local next
	while [ "$PRINTED" -lt "$NCASES" ]; do
		next=$((PRINTED + 1))
		if [ "${1:-}" != all ] && kill -0 "${CASE_PIDS[$next]}" 2>/dev/null; then
			break
		fi
		print_case "$next"
	done
}

# ----------------------------------------------------------------- cases

closed='connection closed by the server'
timedout='timed out after 3 seconds'

# The slow ones first, so that the others run while these wait.

# a message that never ends: past the size guard (twice the LIST size plus
# 64 MiB; fakepop sends up to 256 MiB) it is a protocol violation;
# later runs leave it on the server with a notice and fetch the rest
CLEAN_LEFT=1 CLEAN_FRAG='message 3 (UID msg-00003.eml) was sent far larger than the 2.2 KB LIST announces: left on the server'
launch fault_case 76 2 no 'message 3 is far larger than the 2.2 KB LIST announced' huge-msg=3
CLEAN_LEFT=0 CLEAN_FRAG=

# silence: timeouts
launch fault_case 75 4 no "$timedout" stall-mid-retr=5
launch fault_case 75 0 no "$timedout" stall-greeting
launch fault_case 75 0 no "$timedout" unterminated-uidl

# the connection lost: mid-message, between messages, among the DELEs,
# and at QUIT before and after the server commits
launch fault_case 75 4 no "$closed" drop-mid-retr=5
launch fault_case 75 0 no "$closed" drop-mid-retr=1
# message 5 arrived whole, but no reply after it showed the stream in step
launch fault_case 75 4 no "$closed" drop-after-retr=5
launch fault_case 75 12 no "$closed" drop-at-dele=3
launch fault_case 75 12 yes "$closed" drop-before-quit-reply
launch fault_case 75 12 yes "$closed" quit-commits-then-drop

# one message refused: the session goes on and ends with QUIT
launch fault_case 75 0 yes "message 4: RETR refused, left on the server: [SYS/TEMP] cannot read message" err-retr=4
launch fault_case 75 0 yes "message 4: DELE refused" err-dele=4

# refusals with response codes
launch fault_case 75 0 no "server refused the connection: [IN-USE] mailbox locked" greeting-err
launch fault_case 75 0 no "login refused (USER): [LOGIN-DELAY] wait 5 minutes" login-delay
launch fault_case 77 0 no "login refused (USER): [AUTH] invalid credentials" auth-err

# a LIST size that lies either way: the message is taken for damaged, not
# delivered, left on the server, and tried again next run (then whole)
# (a LIST size far too small, the message whole: not damaged by the rule)
launch fault_case 0 0 yes "" lie-size=3:10
launch fault_case 76 0 yes "message 7 (UID msg-00007.eml) arrived damaged: LIST announced 5.0 GB, 6.8 KB arrived" lie-size=7:5000000000

# the damaged shapes of issue 16: cut short but terminated, extra bytes
# appended (the session goes on); a stray terminator mid-message (the rest
# arrives as replies) and a reply no command asked for (the stream out of
# step: the session ends, nothing after the last message in step counts)
launch fault_case 76 0 yes "message 4 (UID msg-00004.eml) arrived damaged: LIST announced" short-retr=4
launch fault_case 76 0 yes "message 4 (UID msg-00004.eml) arrived damaged: LIST announced" append-junk=4
EXTRA=1
launch fault_case 76 3 no "protocol error: expected +OK or -ERR" early-dot=4
launch fault_case 76 3 no "protocol error: expected +OK or -ERR" lf-dot=4
EXTRA=0
launch fault_case 76 4 no "message 5 begins with a reply line" extra-after-retr=4

# tolerated: no UIDL, no PIPELINING
launch fault_case 0 0 yes "" no-uidl
launch fault_case 0 0 yes "" no-pipelining
# without UIDL nothing can be recorded: the messages delivered before the
# failure arrive again (documented in README, Safety)
DUPS=4
launch fault_case 75 4 no "$closed" no-uidl@all drop-after-retr=5
DUPS=0

# protocol violations
# two messages with one UID: both fetched, each once, with a notice
launch fault_case 0 0 yes 'message 1 and 1 other have the same UID msg-00001.eml: each is fetched once' dup-uid
# a UID with a control byte: told apart by its hash, silently
launch fault_case 0 0 yes "" bad-uid
launch fault_case 76 0 no 'line longer than 2048 bytes' long-line
launch fault_case 76 0 no 'NUL byte in a reply' nul-in-reply
launch fault_case 76 0 no 'expected +OK or -ERR, got "HELLO"' garbage-reply
launch fault_case 76 0 no 'protocol error in LIST reply: bad size: "1 ' bad-size
launch fault_case 76 0 no 'protocol error in UIDL reply: message number not in LIST' uidl-unknown-num
launch fault_case 76 0 no 'protocol error in UIDL reply: message number not in LIST: "1 ghost"' empty-list-uidl
launch fault_case 76 0 no 'protocol error: a reply to no command: "+OK 0 messages' extra-after-pass

# a server's text cannot reach the terminal raw
escape_case() {
	fault_case 77 0 no "login refused (USER): " escape-in-err
	contains "$FIRST_ERR" '\033[31mred\033]0;title' \
		"[escape-in-err] the refusal text is shown escaped"
}
launch escape_case

# STLS: data after the +OK could be an injected command (then a clean run
# does a real STLS handshake with the test certificate)
FAKE_ARGS=(--tls-cert "$T/cert.pem" --tls-key "$T/key.pem")
CONF_TLS=(tls=starttls "ca_file=$T/cert.pem")
launch fault_case 76 0 no "data after the reply to STLS" stls-inject
FAKE_ARGS=()
CONF_TLS=(tls=none)

print_done all
finished=1
printf '1..%d\n' "$n"
if [ "$failed" -ne 0 ]; then
	diag "faults: $failed of $n tests failed"
	exit 1
fi
exit 0
