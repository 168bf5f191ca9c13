#!/bin/bash
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

# wait_for SECS COMMAND...: poll COMMAND every 50 ms until it succeeds;
# status 1 if it did not within SECS seconds
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# wait_exit PID SECS: wait for PID to end within SECS seconds; EXIT_RC is
# its exit status (or "running" if it did not end)
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
ok "-d 1: the 5 seeded messages fetched, the server emptied" wait_for 15 counts_are 5 0
seed 3
ok "-d 1: 3 more seeded later fetched in a later cycle" wait_for 15 counts_are 8 0
sleep 1.5 # a cycle or two with nothing new
ok "-d 1: still running" running "$pid"
ok "-d 1: every message delivered once" mailcheck
lacks "$(cat "$T/cycle.out")" "no new messages" "-d 1, without -v: no summary for an empty round"
contains "$(cat "$T/cycle.out")" "$ACCOUNT: 5 new messages (" "-d 1: summary of the first round"
kill -TERM "$pid"
wait_exit "$pid" 5
is "$EXIT_RC" 0 "-d 1: SIGTERM: exit status 0 within 5 s"
is "$(cat "$T/cycle.err")" "" "-d 1, without -v: nothing on stderr"

# ------------------------------------------------- SIGUSR1 with -d 3600

bg_pm usr1 -d 3600 -v
pid=$BG_PID
ok "-d 3600: the first round at once" wait_for 15 at_least 1 "$T/usr1.out" "$ACCOUNT: "
contains "$(cat "$T/usr1.err")" "polling every 3600 seconds" "-d 3600 -v: says it polls"
seed 4
sleep 1.5
is "$(maildir_count)/$(server_count)" 8/4 "-d 3600: nothing fetched before the interval is over"
kill -USR1 "$pid"
ok "SIGUSR1: the 4 messages fetched at once" wait_for 15 counts_are 12 0
ok "SIGUSR1: a second round" wait_for 5 at_least 2 "$T/usr1.out" "$ACCOUNT: "
ok "SIGUSR1: still running" running "$pid"

# ------------------------------------------------------------ SIGHUP

cp "$CONFIG" "$T/config.good"
printf '[%s]\nhost = %s\nthis line is not a key\n' "$ACCOUNT" "$POP3_TLS_HOST" >"$CONFIG"
seed 2
kill -HUP "$pid"
ok "SIGHUP, broken config: says it keeps the previous configuration" \
	wait_for 15 file_has "$T/usr1.err" "(keeping the previous configuration)"
ok "SIGHUP, broken config: fetches at once with the previous configuration" \
	wait_for 15 counts_are 14 0
ok "SIGHUP, broken config: still running" running "$pid"

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" max_messages=1
seed 3
kill -HUP "$pid"
ok "SIGHUP, max_messages = 1 added: configuration re-read" \
	wait_for 15 file_has "$T/usr1.err" "configuration re-read"
ok "SIGHUP, max_messages = 1 added: the next round fetches just 1 of 3" \
	wait_for 15 counts_are 15 2
sleep 1
is "$(maildir_count)/$(server_count)" 15/2 "SIGHUP: then waits for the interval"
kill -USR1 "$pid"
ok "SIGHUP, max_messages = 1: the next round too fetches 1" wait_for 15 counts_are 16 1
ok "SIGHUP: still running" running "$pid"
kill -TERM "$pid"
wait_exit "$pid" 5
is "$EXIT_RC" 0 "-d 3600: SIGTERM: exit status 0 within 5 s"
contains "$(cat "$T/usr1.err")" "pullmail: stopped" "-d 3600 -v: says it stopped"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 0 "after the daemon: a one-shot run fetches the last one" || show_pm
ok "after the daemon: every message delivered once" mailcheck
is "$(server_count)" 0 "after the daemon: server empty"

# ------------------------------------------- SIGTERM during a download

seed 300
base=$(maildir_count)
bg_pm term -d 3600 -v
pid=$BG_PID
wait_for 15 file_has "$T/term.err" ": message 1 (" || diag "the download never started"
t0=$(now_ms)
kill -TERM "$pid"
wait_exit "$pid" 10
t1=$(now_ms)
is "$EXIT_RC" 0 "SIGTERM during a download: exit status 0" || diag "$(cat "$T/term.err")"
ok "SIGTERM during a download: ended within 5 s ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 5000
contains "$(cat "$T/term.out")" "left for the next run" \
	"SIGTERM during a download: stopped mid-download, some left for the next run"
got=$(($(maildir_count) - base))
left=$(server_count)
is "$((got + left))" 300 "SIGTERM during a download: each message in the Maildir ($got) or on the server ($left)"
is "$(count_files "$MAILDIR/tmp")" 0 "SIGTERM during a download: nothing left in tmp/"
MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$EXPECTED" --maildir "$MAILDIR" \
	--strip-received --allow-duplicates 2>&1) # missing=$left: exit status 1
contains "$MC_OUT" "missing=$left duplicates=0 unexpected=0" \
	"SIGTERM during a download: new/ holds only whole messages"
run_pm
is "$PM_RC" 0 "after SIGTERM: a clean run: exit status 0" || show_pm
ok "after SIGTERM: every message delivered exactly once" mailcheck
is "$(server_count)" 0 "after SIGTERM: server empty"

# ------------------------------------ two one-shot runs on one account

seed 600
bg_pm first -v
pid1=$BG_PID
wait_for 15 file_has "$T/first.err" ": message 1 (" || diag "the first run never started fetching"
bg_pm waiter --wait -v
pid3=$BG_PID
t0=$(now_ms)
run_pm
t1=$(now_ms)
is "$PM_RC" 75 "concurrent: the second run exits 75" || show_pm
contains "$PM_ERR" "$ACCOUNT: already being fetched by pid $pid1" \
	"concurrent: the second names the first's pid"
ok "concurrent: the second gives up at once ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 2000
ok "concurrent: the first is still fetching meanwhile" running "$pid1"
wait_exit "$pid1" 20
is "$EXIT_RC" 0 "concurrent: the first exits 0" || diag "$(cat "$T/first.err")"
contains "$(cat "$T/first.out")" "$ACCOUNT: 600 new messages (" "concurrent: the first fetched all 600"
wait_exit "$pid3" 10
is "$EXIT_RC" 0 "concurrent, --wait: exits 0" || diag "$(cat "$T/waiter.err")"
contains "$(cat "$T/waiter.err")" "$ACCOUNT: waiting for another pullmail to finish" \
	"concurrent, --wait -v: says it waits"
is "$(cat "$T/waiter.out")" "$ACCOUNT: no new messages" "concurrent, --wait: then nothing new to fetch"
ok "concurrent: every message delivered exactly once" mailcheck
is "$(server_count)" 0 "concurrent: server empty"

done_testing
