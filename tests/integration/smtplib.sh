# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# shellcheck shell=bash
# smtplib.sh - helpers shared by lmtp.sh and smtp.sh (sourced after lib.sh)
#
#   smtp_start [--lmtp] [--unix] [FAKESMTP-ARG...]
#       (re)start tests/lib/fakesmtp.py in $SD = $T/smtp.N: on a unix
#       socket ($SMTP_SOCK) with --unix, else on 127.0.0.1:$SMTP_PORT;
#       accepted messages in $SMTP_OUT (a Maildir), transcript $SMTP_LOG
#   smtp_stop
#   out_check [MAILCHECK-ARG...]   $SMTP_OUT against $EXPECTED (MC_OUT)
#   violations                     the V: lines of the transcript

# shellcheck disable=SC2034 # variables for the test scripts
SMTP_N=0
SMTP_PID=
smtp_stop() {
	if [ -n "$SMTP_PID" ]; then
		kill -TERM "$SMTP_PID" 2>/dev/null
		wait "$SMTP_PID" 2>/dev/null
		untrack_pid "$SMTP_PID"
		SMTP_PID=
	fi
}
smtp_start() {
	local -a args=()
	local unix=0
	smtp_stop
	SMTP_N=$((SMTP_N + 1))
	SD=$T/smtp.$SMTP_N
	SMTP_OUT=$SD/out
	SMTP_LOG=$SD/transcript
	SMTP_SOCK=$SD/sock
	mkdir -p "$SD" || bail_out "cannot set up $SD"
	for a in "$@"; do
		if [ "$a" = --unix ]; then unix=1; else args+=("$a"); fi
	done
	if [ $unix = 1 ]; then
		args+=(--unix "$SMTP_SOCK")
	else
		args+=(--port-file "$SD/port")
	fi
	"$PYTHON3" -S "$TESTLIB/fakesmtp.py" --out "$SMTP_OUT" --log "$SMTP_LOG" \
		"${args[@]}" 2>"$SD/err" &
	SMTP_PID=$!
	track_pid "$SMTP_PID"
	if [ $unix = 1 ]; then
		wait_for 30 eval "[ -S '$SMTP_SOCK' ] || ! kill -0 $SMTP_PID 2>/dev/null" || true
		[ -S "$SMTP_SOCK" ] || bail_out "fakesmtp did not start: $(cat "$SD/err")"
	else
		wait_fakepop "$SMTP_PID" "$SD/port" "$SD/err" fakesmtp
		SMTP_PORT=$(cat "$SD/port")
	fi
}

out_check() {
	local rc
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$EXPECTED" \
		--maildir "$SMTP_OUT" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

violations() {
	grep '^V:' "$SMTP_LOG" 2>/dev/null || true
}

# tlog_count FIXED-STRING: transcript lines containing it
tlog_count() {
	grep -cF -- "$1" "$SMTP_LOG" 2>/dev/null || true
}
