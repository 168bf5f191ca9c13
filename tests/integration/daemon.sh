#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# daemon.sh - pullmail -d: fetching in cycles, SIGUSR1 (fetch now), SIGHUP
# (re-read the configuration, keeping the old one if the new one is broken),
# SIGTERM in the middle of a download (clean stop, nothing lost, nothing
# twice); and two one-shot runs on one account at once (the second exits 75
# naming the first's pid, or with --wait waits for it).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# bg_pm NAME [ARG...]: start pullmail in the background like run_pm (output
# in $T/NAME.out and $T/NAME.err); BG_PID is pullmail's own pid
_bg_pids=
bg_pm() {
	local name=$1
	shift
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$PULLMAIL" "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err") &
	BG_PID=$!
	_bg_pids="$_bg_pids $BG_PID"
	track_pid "$BG_PID"
}

# On exit, before lib.sh's cleanup: a background pullmail that ignores
# SIGTERM must not hang the test: SIGKILL after 3 s.
_kill_bg() {
	local pid
	for pid in $_bg_pids; do
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 30); do
			running "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
}
# shellcheck disable=SC2154 # _rc is set in the trap itself
trap '_rc=$?; _kill_bg; (exit $_rc); _cleanup' EXIT

# running PID: the process exists and is not a zombie
running() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_exit PID SECS: wait for PID to end (wait_for SECS: a cap that only
# catches a hang); EXIT_RC is its exit status (or "running" if it did not)
wait_exit() {
	if wait_for "$2" eval '! running '"$1"; then
		wait "$1"
		EXIT_RC=$?
	else
		EXIT_RC=running
	fi
}

# helpers for wait_for
counts_are() { # MAILDIR-COUNT SERVER-COUNT
	[ "$(maildir_count)" = "$1" ] && [ "$(server_count)" = "$2" ]
}
file_has() { # FILE FRAGMENT
	grep -qF -- "$2" "$1" 2>/dev/null
}
lines_with() { # FILE FRAGMENT: number of lines of FILE with FRAGMENT
	grep -cF -- "$2" "$1" 2>/dev/null
}
at_least() { # N FILE FRAGMENT: FILE has at least N lines with FRAGMENT
	[ "$(lines_with "$2" "$3")" -ge "$1" ]
}

start_server
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"

# ------------------------------------------------------ cycles with -d 1

seed 5
bg_pm cycle -d 1
pid=$BG_PID
ok "-d 1: the 5 seeded messages fetched, the server emptied" wait_for 30 counts_are 5 0
seed 3
ok "-d 1: 3 more seeded later fetched in a later cycle" wait_for 30 counts_are 8 0
# two cycles more, with nothing new: Dovecot logs the end of each session
idle="Logged out top=0/0, retr=0/0"
ok "-d 1: two more cycles with nothing new" dlog_grew "$idle" $(($(dlog_count "$idle") + 1))
ok "-d 1: still running" running "$pid"
ok "-d 1: every message delivered once" mailcheck
lacks "$(cat "$T/cycle.out")" "no new messages" "-d 1, without -v: no summary for an empty round"
contains "$(cat "$T/cycle.out")" "$ACCOUNT: 5 new messages (" "-d 1: summary of the first round"
kill -TERM "$pid"
wait_exit "$pid" 30
is "$EXIT_RC" 0 "-d 1: SIGTERM: exit status 0"
is "$(cat "$T/cycle.err")" "" "-d 1, without -v: nothing on stderr"

# ------------------------------------------------- SIGUSR1 with -d 3600

bg_pm usr1 -d 3600 -v
pid=$BG_PID
ok "-d 3600: the first round at once" wait_for 30 at_least 1 "$T/usr1.out" "$ACCOUNT: "
contains "$(cat "$T/usr1.err")" "polling every 3600 seconds" "-d 3600 -v: says it polls"
seed 4
# Nothing may happen here, so there is no event to wait for: a window of
# 1.5 s.  However slow the machine, this cannot fail falsely.
sleep 1.5
is "$(maildir_count)/$(server_count)" 8/4 "-d 3600: nothing fetched before the interval is over"
kill -USR1 "$pid"
ok "SIGUSR1: the 4 messages fetched at once" wait_for 30 counts_are 12 0
ok "SIGUSR1: a second round" wait_for 30 at_least 2 "$T/usr1.out" "$ACCOUNT: "
ok "SIGUSR1: still running" running "$pid"

# ------------------------------------------------------------ SIGHUP

cp "$CONFIG" "$T/config.good"
printf '[%s]\nhost = %s\nthis line is not a key\n' "$ACCOUNT" "$POP3_TLS_HOST" >"$CONFIG"
seed 2
kill -HUP "$pid"
ok "SIGHUP, broken config: says it keeps the previous configuration" \
	wait_for 30 file_has "$T/usr1.err" "(keeping the previous configuration)"
ok "SIGHUP, broken config: fetches at once with the previous configuration" \
	wait_for 30 counts_are 14 0
ok "SIGHUP, broken config: still running" running "$pid"

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" max_messages=1
seed 3
kill -HUP "$pid"
ok "SIGHUP, max_messages = 1 added: configuration re-read" \
	wait_for 30 file_has "$T/usr1.err" "configuration re-read"
ok "SIGHUP, max_messages = 1 added: the next round fetches just 1 of 3" \
	wait_for 30 counts_are 15 2
sleep 1 # again a window in which nothing may happen
is "$(maildir_count)/$(server_count)" 15/2 "SIGHUP: then waits for the interval"
kill -USR1 "$pid"
ok "SIGHUP, max_messages = 1: the next round too fetches 1" wait_for 30 counts_are 16 1
ok "SIGHUP: still running" running "$pid"
kill -TERM "$pid"
wait_exit "$pid" 30
is "$EXIT_RC" 0 "-d 3600: SIGTERM: exit status 0"
contains "$(cat "$T/usr1.err")" "pullmail: stopped" "-d 3600 -v: says it stopped"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 0 "after the daemon: a one-shot run fetches the last one" || show_pm
ok "after the daemon: every message delivered once" mailcheck
is "$(server_count)" 0 "after the daemon: server empty"

# ------------------------------------------- SIGTERM during a download
#
# From here on tests/lib/fakepop.py, which pauses in the middle of the
# session (pause-after-msgs): the signal comes then, whatever the speed of
# the machine, and once pullmail has taken it the server goes on (SIGUSR1).

# fake_mail NAME N: N new messages in $T/expected-NAME, which becomes
# $EXPECTED and what fake_start serves
fake_mail() {
	EXPECTED=$T/expected-$1
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count "$2" \
		--seed $((4200 + $2)) >/dev/null || bail_out "genmail.py failed"
	# shellcheck disable=SC2034 # read by lib.sh's fake_start
	FAKE_MAIL=$EXPECTED
}

# fake_config: the account on the fakepop just started, into $FAKE_MD
fake_config() {
	MAILDIR=$FAKE_MD
	write_config none "$FAKE_PORT" 127.0.0.1 allow_plaintext=yes user=u password=p
}

fake_mail term 300
fake_start --fault pause-after-msgs=5
fake_config
bg_pm term -d 3600 -v
pid=$BG_PID
ok "SIGTERM during a download: the server paused after 5 messages" \
	wait_for 30 file_has "$FAKE_LOG" "S: paused"
kill -TERM "$pid"
ok "SIGTERM during a download: pullmail took the signal" wait_signal_taken "$pid"
kill -USR1 "$FAKE_PID"
wait_exit "$pid" 60
is "$EXIT_RC" 0 "SIGTERM during a download: exit status 0, ended by itself" ||
	diag "$(cat "$T/term.err")"
contains "$(cat "$T/term.out")" "left for the next run" \
	"SIGTERM during a download: stopped mid-download, some left for the next run"
got=$(maildir_count)
left=$(count_files "$FAKE_SRV")
is "$((got + left))" 300 "SIGTERM during a download: each message in the Maildir ($got) or on the server ($left)"
ok "SIGTERM during a download: no new RETR after it, the rest left ($left)" \
	test "$left" -gt 0
is "$(count_files "$MAILDIR/tmp")" 0 "SIGTERM during a download: nothing left in tmp/"
MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$EXPECTED" --maildir "$MAILDIR" \
	--strip-received --allow-duplicates 2>&1) # missing=$left: exit status 1
contains "$MC_OUT" "missing=$left duplicates=0 unexpected=0" \
	"SIGTERM during a download: new/ holds only whole messages"
ok "SIGTERM during a download: the session ended with QUIT" grep -qx "C: QUIT" "$FAKE_LOG"
run_pm
is "$PM_RC" 0 "after SIGTERM: a clean run: exit status 0" || show_pm
ok "after SIGTERM: every message delivered exactly once" mailcheck
is "$(count_files "$FAKE_SRV")" 0 "after SIGTERM: server empty"

# ------------------------------------ two one-shot runs on one account
#
# The first run is held in its session by the paused server: the second
# can only give up (75) or wait (--wait), not get in after it.

fake_mail concurrent 20
fake_start --fault pause-after-msgs=5
fake_config
bg_pm first -v
pid1=$BG_PID
ok "concurrent: the first run is in its session (the server paused)" \
	wait_for 30 file_has "$FAKE_LOG" "S: paused"
bg_pm waiter --wait -v
pid3=$BG_PID
ok "concurrent, --wait -v: says it waits" \
	wait_for 30 file_has "$T/waiter.err" "$ACCOUNT: waiting for another pullmail to finish"
run_pm
is "$PM_RC" 75 "concurrent: the second run exits 75" || show_pm
contains "$PM_ERR" "$ACCOUNT: already being fetched by pid $pid1" \
	"concurrent: the second names the first's pid"
ok "concurrent: the second gave up while the first was still fetching" running "$pid1"
ok "concurrent, --wait: still waiting" running "$pid3"
kill -USR1 "$FAKE_PID"
wait_exit "$pid1" 60
is "$EXIT_RC" 0 "concurrent: the first exits 0" || diag "$(cat "$T/first.err")"
contains "$(cat "$T/first.out")" "$ACCOUNT: 20 new messages (" "concurrent: the first fetched all 20"
wait_exit "$pid3" 60
is "$EXIT_RC" 0 "concurrent, --wait: exits 0" || diag "$(cat "$T/waiter.err")"
is "$(cat "$T/waiter.out")" "$ACCOUNT: no new messages" "concurrent, --wait: then nothing new to fetch"
ok "concurrent: every message delivered exactly once" mailcheck
is "$(count_files "$FAKE_SRV")" 0 "concurrent: server empty"
fake_stop

done_testing
