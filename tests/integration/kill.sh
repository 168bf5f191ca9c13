#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# kill.sh - pullmail killed with SIGKILL again and again in the middle of
# sessions that are delivering, in delete mode: after a final clean run
# every message is there at least once, whole and byte-exact, the server is
# empty, and the duplicates stay within one batch (64 messages) per kill.
#
# Every kill lands on cue, however slow the machine: fakepop.py pauses once
# K messages of the session are sent (pause-after-msgs=K) or half-way
# through the next one (pause-mid-msg=K) and says so in its transcript; the
# test waits for that line, then kills.  K changes from round to round
# (seeded RNG, the seed printed; KILL_SEED=N repeats a run), from 0 to past
# two batches, with the batch edges always among them.  A few more kills
# land inside a batch's commit: strace kills pullmail at its J-th link(2),
# while the batch is being linked into new/ and none of it is recorded.
# Then a few rounds into an mbox.  Every loop is bounded by a count.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

BATCH=64                # PM_BATCH_MSGS
ROUNDS=36               # Maildir rounds with a pause
EDGES="0 1 63 64 65 127 128 129"        # K values every run has
KMAX=$((2 * BATCH + 40))                # other K: 0..KMAX
LINKS="1 33 64 65"      # strace rounds: killed at the J-th link(2)
MBOX_ROUNDS=6
MBOX_EDGES="0 64 65"
STOCK=$((KMAX + 2 * BATCH))     # messages known to be new before a round
POLLS=1200              # x 50 ms: the cap on a wait, only to catch a hang

SEED=${KILL_SEED:-$(((RANDOM << 15 | RANDOM) % 1000000))}
RANDOM=$SEED
diag "seed $SEED (KILL_SEED=$SEED repeats this run)"

# The pullmail running in the background, if any, is killed at exit (not
# with lib.sh's track_pid: its list would keep pids long reaped).
BG_PID=
# shellcheck disable=SC2154 # _rc is set in the trap itself
trap '_rc=$?; [ -z "$BG_PID" ] || kill -9 "$BG_PID" 2>/dev/null; (exit $_rc); _cleanup' EXIT

# pm_bg [WRAPPER...]: start pullmail -q in the background like run_pm does
# (after WRAPPER, such as strace); PID in BG_PID
pm_bg() {
	env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$@" "$PULLMAIL" -q </dev/null >>"$T/bg.out" 2>>"$T/bg.err" &
	BG_PID=$!
}

# pm_wait: wait for BG_PID; its status in BG_RC
pm_wait() {
	wait "$BG_PID" 2>/dev/null
	BG_RC=$?
	BG_PID=
}

# ------------------------------------------------------------ the server

SRV=                    # the server's mailbox (one per part)
BOX=()                  # the delivery keys of the configuration
SRV_N=0
SRV_PID=
declare -A SENT=()      # UIDs the server has sent whole, in any session

# srv_start [FAULT...]: a fresh fakepop.py on $SRV (kept across sessions:
# nothing is deleted but at a QUIT), its transcript $RD/transcript; the
# configuration points at it
srv_start() {
	local f
	local -a a=()
	SRV_N=$((SRV_N + 1))
	RD=$T/session.$SRV_N
	mkdir -p "$RD" || bail_out "mkdir $RD failed"
	for f; do a+=(--fault "$f"); done
	"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$SRV" --port-file "$RD/port" \
		--log "$RD/transcript" "${a[@]}" 2>"$RD/fakepop.err" &
	SRV_PID=$!
	track_pid "$SRV_PID"
	wait_fakepop "$SRV_PID" "$RD/port" "$RD/fakepop.err"
	write_config none "$(cat "$RD/port")" 127.0.0.1 allow_plaintext=yes \
		user=u password=p "${BOX[@]}"
}

# srv_stop: stop it, and note which messages it sent whole
srv_stop() {
	local uid
	kill -TERM "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	untrack_pid "$SRV_PID"
	while read -r _ _ _ uid; do
		SENT[$uid]=1
	done < <(grep '^S: sent ' "$RD/transcript")
}

# new_min: how many messages on the server pullmail has surely not
# recorded yet (it records only what it was sent whole), so that a session
# surely RETRs that many: a pause after fewer surely comes
new_min() {
	echo $(($(count_files "$SRV") - ${#SENT[@]}))
}

GEN=0
# stock: make sure at least $STOCK messages are new to pullmail, adding
# messages (genmail.py, a new seed each time) to $EXPECTED and the server
stock() {
	local have first
	have=$(new_min)
	[ "$have" -lt "$STOCK" ] || return 0
	GEN=$((GEN + 1))
	first=$(($(count_files "$EXPECTED") + 1))
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$T/gen.$GEN" \
		--count $((2 * STOCK - have)) --seed $((20240700 + GEN)) \
		--first "$first" --mix small || bail_out "genmail.py failed"
	{ cp "$T/gen.$GEN"/* "$EXPECTED"/ && cp "$T/gen.$GEN"/* "$SRV"/; } ||
		bail_out "copying messages failed"
	rm -rf "$T/gen.$GEN"
}

# wait_paused: poll the transcript (every 50 ms, at most $POLLS times) until
# the server has paused; fails if pullmail ended first or it never did
wait_paused() {
	local i
	for ((i = 0; i < POLLS; i++)); do
		grep -q '^S: paused' "$RD/transcript" && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q '^S: paused' "$RD/transcript"
}

# --------------------------------------------------------------- checks

# delivered_count: messages delivered so far (Maildir new/ and cur/, or
# From_ lines in the mbox)
delivered_count() {
	if [ -n "${MBOX:-}" ]; then
		if [ -f "$MBOX" ]; then grep -c '^From ' "$MBOX"; else echo 0; fi
	else
		maildir_count
	fi
}

# finish PART KILLS: the final clean run, then the checks of a part
finish() {
	local part=$1 kills=$2 rc summary missing dups unexp where
	local -a target
	srv_start
	run_pm
	srv_stop
	is "$PM_RC" 0 "$part: final clean run: exit status 0" || show_pm
	is "$(count_files "$SRV")" 0 "$part: final clean run: server empty"

	if [ -n "${MBOX:-}" ]; then
		target=(--mbox "$MBOX")
	else
		target=(--maildir "$MAILDIR")
	fi
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$EXPECTED" \
		"${target[@]}" --strip-received --allow-duplicates 2>&1)
	rc=$?
	[ "$rc" = 0 ] || diag "$MC_OUT"
	ok "$part: every message delivered, none partial or unexpected" test "$rc" = 0
	summary=$(printf '%s\n' "$MC_OUT" | grep '^delivered=' | head -n 1)
	diag "$part: mailcheck: $summary"
	missing=$(printf '%s\n' "$summary" | sed -n 's/.*missing=\([0-9]*\).*/\1/p')
	dups=$(printf '%s\n' "$summary" | sed -n 's/.*duplicates=\([0-9]*\).*/\1/p')
	unexp=$(printf '%s\n' "$summary" | sed -n 's/.*unexpected=\([0-9]*\).*/\1/p')
	is "$missing" 0 "$part: missing=0: no message lost"
	is "$unexp" 0 "$part: unexpected=0: only whole, unaltered messages"
	where=
	[ -n "${MBOX:-}" ] || where="; leftovers in tmp/: $(count_files "$MAILDIR/tmp")"
	diag "$part: $dups duplicates over $kills kills ($(count_files "$EXPECTED") messages)$where"
	# Maildir messages are recorded a batch at a time; an mbox append
	# (like an MDA's delivery) is recorded at once, so a kill duplicates
	# at most the message in hand
	ok "$part: duplicates ($dups) <= $PER_KILL x kills ($((PER_KILL * kills)))" \
		test "${dups:-999999}" -le $((PER_KILL * kills))

	# The DELEs of killed sessions never counted: no QUIT came.  Within a
	# session no DELE may come before its message was received whole.
	ok "$part: no DELE before its message was sent whole" \
		test -z "$(grep -h 'received before its RETR' "$T"/session.*/transcript)"

	# the UIDL cache survived the kills
	local before
	before=$(delivered_count)
	srv_start
	run_pm
	srv_stop
	is "$PM_RC" 0 "$part: one more run: exit status 0" || show_pm
	is "$(delivered_count)" "$before" "$part: one more run: nothing delivered again"
}

# pause_round N K MODE [FAULT...]: one session paused by the server after K
# messages (MODE: after, or mid for half-way into the next), then killed
KILLED=0
pause_round() {
	local n=$1 k=$2 mode=$3 before line
	shift 3
	stock
	before=$(delivered_count)
	if [ "$mode" = mid ]; then
		srv_start "pause-mid-msg=$k" "$@"
	else
		srv_start "pause-after-msgs=$k" "$@"
	fi
	pm_bg
	if wait_paused; then
		kill -KILL "$BG_PID" 2>/dev/null
		pm_wait
		line=$(grep -m 1 '^S: paused' "$RD/transcript")
	else
		kill -KILL "$BG_PID" 2>/dev/null
		pm_wait
		line="no pause seen (pullmail ended first, or a hang)"
		BG_RC="no pause, $BG_RC"
	fi
	srv_stop
	if [ "$BG_RC" = 137 ]; then
		KILLED=$((KILLED + 1))
	else
		FAILED_ROUNDS="$FAILED_ROUNDS $n"
	fi
	diag "round $n: K=$k $mode${1:+ $*}: ${line#S: }; exit $BG_RC, $(($(delivered_count) - before)) more delivered"
}

# ------------------------------------------------------ Maildir, paused

SRV=$T/srv
mkdir -p "$SRV" || bail_out "mkdir $SRV failed"
BOX=("maildir=$MAILDIR")

# The rounds' K: the edges twice (with and without pipelining), then
# random ones; one in three mid-message.  Pipelined, pullmail may still be
# busy with (or committing) any of the K messages when it is killed;
# without pipelining it has just delivered exactly K.
KS=() PIPE=()
for k in $EDGES; do KS+=("$k" "$k") PIPE+=(yes no); done
while [ "${#KS[@]}" -lt "$ROUNDS" ]; do
	KS+=($((RANDOM % (KMAX + 1))))
	if [ $((RANDOM % 2)) = 0 ]; then PIPE+=(yes); else PIPE+=(no); fi
done
FAILED_ROUNDS=
for ((i = 0; i < ROUNDS; i++)); do
	if [ $((RANDOM % 3)) = 0 ]; then mode=mid; else mode=after; fi
	if [ "${PIPE[i]}" = yes ]; then
		pause_round $((i + 1)) "${KS[i]}" "$mode"
	else
		pause_round $((i + 1)) "${KS[i]}" "$mode" no-pipelining
	fi
done
is "$KILLED" "$ROUNDS" "Maildir: all $ROUNDS sessions paused on cue and killed${FAILED_ROUNDS:+ (not:$FAILED_ROUNDS)}"
kills=$KILLED

# -------------------------------------- Maildir, killed inside a commit

if command -v strace >/dev/null 2>&1 &&
	strace -qq -o /dev/null -e trace=link true >/dev/null 2>&1; then
	n=0
	for j in $LINKS; do
		n=$((n + 1))
		stock
		before=$(maildir_count)
		srv_start
		# link is what pullmail calls; glibc may make it linkat
		pm_bg strace -qq -o /dev/null -e trace=link,linkat \
			-e inject=link,linkat:signal=KILL:when="$j"
		pm_wait
		srv_stop
		diag "commit $n: killed at link $j (exit $BG_RC), $(($(maildir_count) - before)) more in new/"
		[ "$BG_RC" = 137 ] && kills=$((kills + 1))
		is "$BG_RC" 137 "Maildir: killed by strace at the batch commit's link $j"
	done
else
	for j in $LINKS; do
		skip "Maildir: killed by strace at the batch commit's link $j" \
			"strace is not installed or cannot trace here"
	done
fi

if [ -s "$T/bg.err" ]; then
	diag "stderr of the killed runs:" "$(sort "$T/bg.err" | uniq -c | head -n 10)"
fi
PER_KILL=$BATCH
finish Maildir "$kills"

# --------------------------------------------------------------- mbox
#
# Without pipelining, pullmail sends RETR K+1 only once message K is
# appended, fsync'd and (at a batch's end) recorded: the kill then lands
# while it waits for the server, never in the middle of an append (which
# SIGKILL, unlike the signals pullmail holds off there, could cut short).

SRV=$T/srv-mbox
EXPECTED=$T/expected-mbox
MBOX=$T/mbox
mkdir -p "$SRV" "$EXPECTED" || bail_out "mkdir $SRV failed"
BOX=(-maildir "mbox=$MBOX")
SENT=()
rm -rf "$STATE_DIR"
KS=()
for k in $MBOX_EDGES; do KS+=("$k"); done
while [ "${#KS[@]}" -lt "$MBOX_ROUNDS" ]; do KS+=($((RANDOM % (KMAX + 1)))); done
KILLED=0
FAILED_ROUNDS=
for ((i = 0; i < MBOX_ROUNDS; i++)); do
	if [ $((RANDOM % 3)) = 0 ]; then mode=mid; else mode=after; fi
	pause_round "mbox $((i + 1))" "${KS[i]}" "$mode" no-pipelining
done
is "$KILLED" "$MBOX_ROUNDS" "mbox: all $MBOX_ROUNDS sessions paused on cue and killed${FAILED_ROUNDS:+ (not:$FAILED_ROUNDS)}"
PER_KILL=1
finish mbox "$KILLED"

done_testing
