#!/bin/bash
# kill.sh - pullmail killed with SIGKILL at random moments, again and again,
# in delete mode into a Maildir: after a final clean run every message is
# there at least once, whole, the server is empty, and the duplicates stay
# within one batch (64 messages) per kill.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

BATCH=64           # PM_BATCH_MSGS
MIN_ITER=50        # at least this many start-sleep-kill rounds
WANT_KILLS=50      # go on (within the limits below) until this many kills
MAX_ITER=150
LOOP_BUDGET_MS=55000

# The pullmail running in the background, if any, is killed at exit (not
# with lib.sh's track_pid: its list would keep pids long reaped).
BG_PID=
trap '_rc=$?; [ -z "$BG_PID" ] || kill -9 "$BG_PID" 2>/dev/null; (exit $_rc); _cleanup' EXIT

# pm_bg: start pullmail in the background like run_pm does; PID in BG_PID
pm_bg() {
	env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$PULLMAIL" -q </dev/null >>"$T/bg.out" 2>>"$T/bg.err" &
	BG_PID=$!
}

start_server
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"

# How long a run takes to start, connect, log in and quit (an empty
# server), here and now: on a loaded machine that alone can exceed 150 ms,
# and kills that all land before the first message prove little.  The kill
# comes after a random 0 to (that + 150) ms.
startup=0
for i in 1 2 3; do
	t0=$(now_ms)
	pm_bg
	wait "$BG_PID"
	rc=$?
	BG_PID=
	d=$(($(now_ms) - t0))
	[ "$rc" = 0 ] || bail_out "a run on an empty server failed ($rc): $(cat "$T/bg.err")"
	[ "$d" -gt "$startup" ] && startup=$d
done
# Time one whole fetch of 300 messages too: kills then land between half
# the start-up time and the end of a fetch, so that most of them hit a
# session that is delivering, however slow the build (ASan) or machine.
seed 300 --mix small
t0=$(now_ms)
pm_bg
wait "$BG_PID" || bail_out "the timing run failed: $(cat "$T/bg.err")"
BG_PID=
full=$(($(now_ms) - t0))
lo=$((startup / 2))
span=$((full - lo))
[ "$span" -ge 100 ] || span=100
diag "a run takes up to $startup ms on an empty server, $full ms for 300 messages: kills after $lo-$((lo + span)) ms"

seed 300 --mix small

# delivered_now: files in the Maildir (grows when a run got to delivering)
delivered_now() {
	find "$MAILDIR" -type f | wc -l
}

# elapsed_ms: milliseconds since the loop started, without forking
elapsed_ms() {
	local now=${EPOCHREALTIME//[^0-9]/}
	ELAPSED=$((now / 1000 - loop_start))
}

iter=0 kills=0 finished=0 reseeds=0 midkills=0 last=0
declare -A statuses=()
loop_start=${EPOCHREALTIME//[^0-9]/}
loop_start=$((loop_start / 1000))
ELAPSED=0
while [ "$iter" -lt "$MIN_ITER" ] ||
	{ { [ "$kills" -lt "$WANT_KILLS" ] || [ "$midkills" -lt 15 ]; } &&
		[ "$iter" -lt "$MAX_ITER" ] &&
		[ "$ELAPSED" -lt "$LOOP_BUDGET_MS" ]; }; do
	iter=$((iter + 1))
	pm_bg
	ms=$((lo + RANDOM % (span + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -9 "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
	rc=$?
	BG_PID=
	statuses[$rc]=$((${statuses[$rc]:-0} + 1))
	now=$(delivered_now)
	if [ "$rc" = 137 ]; then
		kills=$((kills + 1))
		# killed while delivering, not before (connecting, logging in)
		[ "$now" -gt "$last" ] && midkills=$((midkills + 1))
	else
		# it got to the end before the kill: give the next ones more to do
		finished=$((finished + 1))
		seed 300 --mix small
		reseeds=$((reseeds + 1))
	fi
	last=$now
	elapsed_ms
	[ "$ELAPSED" -lt 70000 ] || break
done
elapsed_ms
loop_ms=$ELAPSED
nexp=$(count_files "$EXPECTED")
st=
for rc in "${!statuses[@]}"; do st="$st exit $rc: ${statuses[$rc]};"; done
diag "$iter rounds in $loop_ms ms: $kills killed ($midkills of them while delivering), $finished finished before the kill ($st), $reseeds reseeds, $nexp messages seeded in all"
ok "at least $MIN_ITER rounds" test "$iter" -ge "$MIN_ITER"
ok "at least 40 runs really killed ($kills)" test "$kills" -ge 40
ok "at least 15 of them killed while delivering ($midkills)" test "$midkills" -ge 15
if [ -s "$T/bg.err" ]; then
	diag "stderr of the runs that finished:" "$(sort "$T/bg.err" | uniq -c | head -n 10)"
fi

diag "after the loop: $(maildir_count) messages in new/ and cur/, $(server_count) on the server"

# a final clean run
run_pm
is "$PM_RC" 0 "final clean run: exit status 0" || show_pm
is "$(server_count)" 0 "final clean run: server empty"

# every message at least once, whole; count the duplicates
mailcheck --allow-duplicates
mc_rc=$?
ok "every seeded message delivered, none partial or unexpected" test "$mc_rc" = 0
summary=$(printf '%s\n' "$MC_OUT" | grep '^delivered=' | head -n 1)
diag "mailcheck: $summary"
missing=$(printf '%s\n' "$summary" | sed -n 's/.*missing=\([0-9]*\).*/\1/p')
dups=$(printf '%s\n' "$summary" | sed -n 's/.*duplicates=\([0-9]*\).*/\1/p')
unexp=$(printf '%s\n' "$summary" | sed -n 's/.*unexpected=\([0-9]*\).*/\1/p')
is "$missing" 0 "missing=0: no message lost"
is "$unexp" 0 "unexpected=0: new/ holds only whole, unaltered messages"
tmpleft=$(count_files "$MAILDIR/tmp")
diag "duplicates: $dups over $kills kills ($nexp messages); leftovers in tmp/: $tmpleft"
ok "duplicates ($dups) <= $BATCH x kills ($((BATCH * kills)))" \
	test "${dups:-999999}" -le $((BATCH * kills))

# the UIDL cache survived the kills: nothing is fetched again
before=$(maildir_count)
run_pm
is "$PM_RC" 0 "one more run: exit status 0" || show_pm
is "$(maildir_count)" "$before" "one more run: nothing delivered again"

done_testing
