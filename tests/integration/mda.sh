#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# mda.sh - delivery through an MDA: real procmail and maildrop into
# Maildirs, the %F / %a / %u / %% substitutions, and every way an MDA can
# fail (75, other statuses, a signal, a hang, not found, exit 0 without
# reading the whole message unless mda_partial_read), its stderr, an MDA
# reading with pread where it can, and a delivery that fails part-way (no
# loss, no duplicate on the next run).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need procmail:procmail maildrop:maildrop pgrep:procps

# ------------------------------------------------------------ local helpers

# seed_set SET N [GENMAIL-ARGS...]: seed (lib.sh) and also copy the new
# messages into $T/set-SET, so each part can be checked on its own
seed_set() {
	local set=$T/set-$1 f
	shift
	mkdir -p "$set"
	ls "$EXPECTED" >"$T/seed.before"
	seed "$@"
	ls "$EXPECTED" | comm -13 "$T/seed.before" - | while IFS= read -r f; do
		cp "$EXPECTED/$f" "$set/" || exit 1
	done || bail_out "copying into $set failed"
}

# maildir_check SET DIR [ARGS...]: mailcheck.py on the Maildir DIR against
# the set; output in MC_OUT (shown on failure)
maildir_check() {
	local set=$T/set-$1 dir=$2 rc
	shift 2
	MC_OUT=$("$PYTHON3" "$TESTLIB/mailcheck.py" --expected "$set" \
		--maildir "$dir" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

# server_holds SET...: every message of the sets is on the server, byte
# for byte (Dovecot keeps the seeded files as they are)
server_holds() {
	"$PYTHON3" - "$SERVER_MAILDIR" "$@" <<'PY'
import hashlib, os, sys
server = set()
for sub in ("new", "cur"):
    p = os.path.join(sys.argv[1], sub)
    for n in os.listdir(p) if os.path.isdir(p) else []:
        with open(os.path.join(p, n), "rb") as fh:
            server.add(hashlib.sha256(fh.read()).digest())
bad = 0
for s in sys.argv[2:]:
    for n in sorted(os.listdir(s)):
        with open(os.path.join(s, n), "rb") as fh:
            if hashlib.sha256(fh.read()).digest() not in server:
                print("# not on the server: %s/%s" % (os.path.basename(s), n))
                bad += 1
sys.exit(1 if bad else 0)
PY
}

# mda_config COMMAND [KEY=VALUE...]: one account delivering through COMMAND
mda_config() {
	local cmd=$1
	shift
	write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mda=$cmd" "$@"
}

# new_maildir DIR: an empty Maildir
new_maildir() {
	mkdir -p "$1/new" "$1/cur" "$1/tmp" || bail_out "mkdir $1 failed"
}

# empty_server: deliver whatever is on the server to a discarding MDA
empty_server() {
	mda_config "sh $BIN/discard.sh"
	run_pm
	[ "$PM_RC" = 0 ] && [ "$(server_count)" = 0 ] ||
		bail_out "could not empty the server: $PM_RC $PM_ERR"
}

# hang_pids: the processes still running $BIN/sleep (started by this test)
hang_pids() {
	pgrep -f "^$BIN/sleep " || true
}

BIN=$T/bin
mkdir -p "$BIN"
# A hung MDA's leftovers (its own $BIN/sleep) die with the test.
trap '_rc=$?; _left=$(hang_pids); [ -z "$_left" ] || kill -9 $_left 2>/dev/null; (exit $_rc); _cleanup' EXIT
ln -s "$(command -v sleep)" "$BIN/sleep"
cat >"$BIN/discard.sh" <<'EOF'
cat >/dev/null
EOF
cat >"$BIN/todir.sh" <<'EOF'
# todir.sh DIR: deliver standard input into the Maildir DIR
name=$(date +%s.%N).$$
cat >"$1/tmp/$name" && mv "$1/tmp/$name" "$1/new/$name"
EOF
cat >"$BIN/args.sh" <<'EOF'
# args.sh OUT ARG...: append the arguments to OUT, one per line in [], then ---
out=$1
shift
cat >/dev/null
for a in "$@"; do
	printf '[%s]\n' "$a"
done >>"$out"
echo --- >>"$out"
EOF
cat >"$BIN/exit.sh" <<'EOF'
cat >/dev/null
exit "$1"
EOF
cat >"$BIN/killself.sh" <<'EOF'
cat >/dev/null
kill -9 $$
EOF
cat >"$BIN/hang.sh" <<EOF
cat >/dev/null
$BIN/sleep 60
EOF
cat >"$BIN/timed.sh" <<'EOF'
# timed.sh OUT: run until SIGTERM, then write to OUT how many ms it ran,
# counted from its fork (its start time in /proc/PID/stat, field 22), which
# is before pullmail starts the clock of mda_timeout: a slow start or a
# late look can only make it longer
ran_ms() {
	awk -v tck="$(getconf CLK_TCK)" '
		FILENAME == "/proc/uptime" { up = $1; next }
		{ sub(/.*\) /, ""); start = $20 / tck }
		END { printf "%d\n", (up - start) * 1000 }' "/proc/$$/stat" /proc/uptime
}
trap 'kill $! 2>/dev/null; ran_ms >"$1"; exit 143' TERM
cat >/dev/null
sleep 30 &
wait
EOF
cat >"$BIN/noisy.sh" <<'EOF'
# noisy.sh DIR: a marker on stderr and on stdout, then deliver into DIR
echo "MDA-STDERR-MARKER" >&2
echo "MDA-STDOUT-MARKER"
exec sh "$(dirname "$0")/todir.sh" "$1"
EOF
cat >"$BIN/partial.sh" <<'EOF'
# partial.sh COUNTFILE DIR: deliver the first 3 messages into the Maildir
# DIR, fail every later one with exit 1
n=$(cat "$1" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$1"
if [ "$n" -gt 3 ]; then
	cat >/dev/null
	exit 1
fi
exec sh "$(dirname "$0")/todir.sh" "$2"
EOF

cat >"$BIN/head100.sh" <<'EOF'
head -c 100 >/dev/null
EOF
cat >"$BIN/preader.py" <<'EOF'
# preader.py DIR: deliver into the Maildir DIR, reading standard input
# with pread where it can, as dovecot-lda does with a file
import os, sys, time
try:
    data = b""
    while True:
        chunk = os.pread(0, 65536, len(data))
        if not chunk:
            break
        data += chunk
except OSError:
    data = sys.stdin.buffer.read()
name = "%d.%d.preader" % (time.time_ns(), os.getpid())
with open(os.path.join(sys.argv[1], "tmp", name), "wb") as f:
    f.write(data)
os.rename(os.path.join(sys.argv[1], "tmp", name), os.path.join(sys.argv[1], "new", name))
EOF

# ------------------------------------------------------------------ tests

start_server

# --- real procmail into a Maildir
PM_MD=$T/procmail-md
new_maildir "$PM_MD"
cat >"$T/procmailrc" <<EOF
MAILDIR=$PM_MD/
DEFAULT=\$MAILDIR
EOF
seed_set procmail 20 --mix edge
mda_config "procmail -m $T/procmailrc"
run_pm
is "$PM_RC" 0 "procmail: exit status 0" || show_pm
is "$PM_ERR" "" "procmail: nothing on stderr"
is "$(server_count)" 0 "procmail: server empty"
is "$(maildir_count "$PM_MD")" 20 "procmail: 20 messages in its Maildir"
ok "procmail: every message byte-identical" maildir_check procmail "$PM_MD"

# --- real maildrop into a Maildir
MD_MD=$T/maildrop-md
new_maildir "$MD_MD"
printf 'to "%s/"\n' "$MD_MD" >"$T/mailfilter"
chmod 0600 "$T/mailfilter"
seed_set maildrop 20 --mix edge
mda_config "maildrop $T/mailfilter"
run_pm
is "$PM_RC" 0 "maildrop: exit status 0" || show_pm
is "$PM_ERR" "" "maildrop: nothing on stderr"
is "$(server_count)" 0 "maildrop: server empty"
is "$(maildir_count "$MD_MD")" 20 "maildrop: 20 messages in its Maildir"
ok "maildrop: every message byte-identical" maildir_check maildrop "$MD_MD"

# --- %F, %a, %u, %% and an argument with spaces
seed_set args 3
mkdir -p "$T/hand"
printf 'From: nobody@example.org\nSubject: no Return-Path\nMessage-ID: <hand1@example.org>\n\nbody\n' >"$T/hand/a.eml"
printf 'Return-Path: <>\nFrom: MAILER-DAEMON@example.org\nSubject: a bounce\nMessage-ID: <hand2@example.org>\n\nbody\n' >"$T/hand/b.eml"
printf 'Return-Path: <evil address@example.org>\nSubject: a blank in Return-Path\nMessage-ID: <hand3@example.org>\n\nbody\n' >"$T/hand/c.eml"
bash "$TESTLIB/dovecot.sh" seed "$SERVER" "$T/hand" || bail_out "seeding failed"
mda_config "sh $BIN/args.sh $T/args.out %F %a \"one arg  with spaces\" %u 100%%"
run_pm
is "$PM_RC" 0 "arguments: exit status 0" || show_pm
is "$(server_count)" 0 "arguments: server empty"
want=
for f in "$T/set-args"/*; do
	rp=$(sed -n 's/^Return-Path: *<\([^>]*\)>.*/\1/p' "$f" | head -n 1)
	want="${want}[$rp]
[$ACCOUNT]
[one arg  with spaces]
[$(id -un)]
[100%]
---
"
done
for f in a b c; do
	want="${want}[MAILER-DAEMON]
[$ACCOUNT]
[one arg  with spaces]
[$(id -un)]
[100%]
---
"
done
got=$(cat "$T/args.out" 2>/dev/null)
is "$got" "${want%
}" "arguments: %F = Return-Path (else MAILER-DAEMON), %a = account, %u = user, %% = %, spaces kept in one argument"

# --- the MDA's stdout and stderr go to pullmail's stderr
NOISY_MD=$T/noisy-md
new_maildir "$NOISY_MD"
seed_set noisy 2
mda_config "sh $BIN/noisy.sh $NOISY_MD"
run_pm
is "$PM_RC" 0 "noisy MDA: exit status 0" || show_pm
contains "$PM_ERR" "MDA-STDERR-MARKER" "noisy MDA: its stderr reaches pullmail's stderr"
contains "$PM_ERR" "MDA-STDOUT-MARKER" "noisy MDA: its stdout reaches pullmail's stderr"
is "$(printf '%s\n' "$PM_ERR" | grep -c MDA-STDERR-MARKER)" 2 "noisy MDA: once per message"
is "$PM_OUT" "" "noisy MDA: nothing on pullmail's stdout"
is "$(server_count)" 0 "noisy MDA: server empty"
ok "noisy MDA: messages delivered" maildir_check noisy "$NOISY_MD"

# --- failures: each with a fresh seed; the server keeps every message
# fail_case NAME COMMAND STATUS FRAGMENT [KEY=VALUE...]
fail_case() {
	local name=$1 cmd=$2 status=$3 frag=$4
	shift 4
	seed_set "$name" 3
	mda_config "$cmd" "$@"
	t0=$(now_ms)
	run_pm
	elapsed=$(($(now_ms) - t0))
	is "$PM_RC" "$status" "$name: exit status $status" || show_pm
	contains "$PM_ERR" "$frag" "$name: stderr says '$frag'"
	is "$(server_count)" 3 "$name: all 3 messages still on the server"
	ok "$name: they are the seeded messages" server_holds "$T/set-$name"
}

fail_case "MDA exits 75" "sh $BIN/exit.sh 75" 75 "mda sh exited 75 (EX_TEMPFAIL)"
is "$(line_count "$PM_ERR")" 1 "MDA exits 75: one line on stderr" || show_pm
empty_server
fail_case "MDA exits 67" "sh $BIN/exit.sh 67" 74 "mda sh exited 67 (EX_NOUSER)"
is "$(line_count "$PM_ERR")" 1 "MDA exits 67: one line on stderr" || show_pm
empty_server
fail_case "MDA killed by a signal" "sh $BIN/killself.sh" 74 "signal"
contains "$PM_ERR" "mda sh" "MDA killed by a signal: stderr names the MDA"
empty_server
fail_case "MDA not found" "$BIN/no-such-mda -x" 74 "no-such-mda"
empty_server

# a hung MDA, itself
# (exit 74, not run_pm's timeout: it gave up on the MDA, not waited 60 s)
fail_case "MDA hangs (sleep)" "$BIN/sleep 60" 74 "did not finish in 2 seconds" mda_timeout=2
diag "MDA hangs (sleep): pullmail took $elapsed ms"
left=$(hang_pids)
is "$left" "" "MDA hangs (sleep): the sleeping process is gone afterwards"
[ -z "$left" ] || kill -9 $left 2>/dev/null
empty_server

# how long a hung MDA really runs before its SIGTERM
fail_case "MDA hangs (timed)" "sh $BIN/timed.sh $T/timed.out" 74 "did not finish in 2 seconds" mda_timeout=2
ran=$(cat "$T/timed.out" 2>/dev/null)
diag "MDA hangs (timed): the MDA ran ${ran:-?} ms before its SIGTERM"
ok "MDA hangs (timed): the MDA ran the whole mda_timeout (>= 1.9 s) before its SIGTERM" \
	test "${ran:-0}" -ge 1900
empty_server

# a hung MDA that is a shell script running sleep
fail_case "MDA hangs (script)" "sh $BIN/hang.sh" 74 "did not finish in 2 seconds" mda_timeout=2
diag "MDA hangs (script): pullmail took $elapsed ms"
left=$(hang_pids)
is "$left" "" "MDA hangs (script): the sleeping process is gone afterwards"
[ -n "$left" ] && diag "still running: $(ps -o pid=,ppid=,args= -p "$(echo $left | tr ' ' ,)")"
[ -z "$left" ] || kill -9 $left 2>/dev/null
empty_server

# --- an MDA that exits 0 without reading the whole message: not delivered
# (exit 74) unless mda_partial_read = yes
fail_case "MDA reads 100 bytes" "sh $BIN/head100.sh" 74 "mda sh exited 0 but read only 100 of the message's"
is "$(line_count "$PM_ERR")" 1 "MDA reads 100 bytes: one line on stderr" || show_pm
contains "$PM_ERR" "mda_partial_read" "MDA reads 100 bytes: stderr names the key that accepts it"
empty_server
fail_case "MDA reads nothing" "true" 74 "mda true exited 0 but read only 0 of the message's"
is "$(line_count "$PM_ERR")" 1 "MDA reads nothing: one line on stderr" || show_pm
empty_server
for cmd in "sh $BIN/head100.sh" true; do
	seed_set "partialok" 3
	mda_config "$cmd" "mda_partial_read=yes"
	run_pm
	is "$PM_RC" 0 "$cmd, mda_partial_read = yes: exit status 0" || show_pm
	is "$PM_ERR" "" "$cmd, mda_partial_read = yes: nothing on stderr"
	is "$(server_count)" 0 "$cmd, mda_partial_read = yes: delivered, deleted from the server"
done

# --- an MDA that reads its input with pread where it can (dovecot-lda)
PREAD_MD=$T/preader-md
new_maildir "$PREAD_MD"
seed_set preader 3
mda_config "$PYTHON3 $BIN/preader.py $PREAD_MD"
run_pm
is "$PM_RC" 0 "pread reader: exit status 0" || show_pm
is "$(server_count)" 0 "pread reader: server empty"
ok "pread reader: every message delivered whole" maildir_check preader "$PREAD_MD"

# --- a delivery that fails part-way, then a working MDA
PART_MD=$T/partial-md
new_maildir "$PART_MD"
seed_set partial 10
mda_config "sh $BIN/partial.sh $T/partial.count $PART_MD"
run_pm
is "$PM_RC" 74 "partial: exit status 74" || show_pm
contains "$PM_ERR" "mda sh exited 1" "partial: stderr names the failure"
is "$(cat "$T/partial.count")" 4 "partial: MDA called 4 times (3 delivered, the 4th failed)"
is "$(maildir_count "$PART_MD")" 3 "partial: 3 messages delivered"
ok "partial: every message still on the server (no QUIT)" server_holds "$T/set-partial"
mda_config "sh $BIN/todir.sh $PART_MD"
run_pm
is "$PM_RC" 0 "partial, rerun with a working MDA: exit status 0" || show_pm
is "$(server_count)" 0 "partial, rerun: server empty"
is "$(maildir_count "$PART_MD")" 10 "partial, rerun: 10 messages in all (7 more)"
ok "partial, rerun: every message delivered exactly once over both runs" \
	maildir_check partial "$PART_MD"

done_testing
