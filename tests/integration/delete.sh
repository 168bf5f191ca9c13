#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# delete.sh - the default mode: fetch and delete; the UIDL cache; output
# on a terminal, under cron (not a terminal), with -v and with -q.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need script:bsdutils

# run_pm_tty ARG...: like run_pm, with stdout and stderr on a terminal
# (script(1)); the output, CRs removed, in PM_OUT
run_pm_tty() {
	local cmd
	cmd=$(printf '%q ' "$PULLMAIL" "$@")
	env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		timeout -k 2 25 script -qec "$cmd" /dev/null </dev/null >"$T/pm.tty" 2>&1
	PM_RC=$?
	PM_OUT=$(tr -d '\r' <"$T/pm.tty")
}

# maildir_bytes: total size of the messages in $MAILDIR
maildir_bytes() {
	find "$MAILDIR/new" "$MAILDIR/cur" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }'
}

# human N: N bytes as pullmail prints sizes (powers of 1000)
human() {
	"$PYTHON3" - "$1" <<'PY'
import sys
n = int(sys.argv[1])
print("%d B" % n if n < 1000 else "%.1f KB" % (n / 1000) if n < 999950 else "%.1f MB" % (n / 1e6))
PY
}

start_server
seed 32 --mix edge
seed 28 --mix mixed
is "$(server_count)" 60 "60 messages seeded"

# maildir under ~: expanded when used, shown as ~ in the summary
MAILDIR=$PM_HOME/Maildir
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "maildir=~/Maildir"
run_pm
is "$PM_RC" 0 "first run: exit status 0" || show_pm
is "$(server_count)" 0 "first run: server empty"
is "$(maildir_count)" 60 "first run: 60 messages in the Maildir"
ok "first run: Maildir identical to the seed" mailcheck
is "$(count_files "$MAILDIR/tmp")" 0 "first run: nothing left in tmp/"
is "$PM_OUT" "" "first run, stdout not a terminal: nothing on stdout"
is "$PM_ERR" "" "first run, stdout not a terminal: nothing on stderr"
ok "UIDL cache $ACCOUNT.uidl exists" test -f "$STATE_DIR/$ACCOUNT.uidl"
is "$(file_mode "$STATE_DIR/$ACCOUNT.uidl")" 600 "UIDL cache has mode 0600"
is "$(file_mode "$STATE_DIR")" 700 "state directory has mode 0700"
is "$(head -n 1 "$STATE_DIR/$ACCOUNT.uidl")" "pullmail-uidl 2" "UIDL cache starts with its header"
is "$(file_mode "$MAILDIR")" 700 "new Maildir created with mode 0700"

# an empty server, under cron: silent
run_pm
is "$PM_RC" 0 "empty server: exit status 0" || show_pm
is "$PM_OUT" "" "empty server, not a terminal: nothing on stdout"
is "$PM_ERR" "" "empty server, not a terminal: nothing on stderr"
is "$(maildir_count)" 60 "empty server: Maildir unchanged"

run_pm -v
is "$PM_RC" 0 "empty server, -v: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: no new messages" "empty server, -v: 'no new messages'"

run_pm_tty
is "$PM_RC" 0 "empty server, terminal: exit status 0"
is "$PM_OUT" "$ACCOUNT: no new messages" "empty server, terminal: 'no new messages'"

# -v: the summary line, and one line per message on stderr
seed 3
before=$(maildir_bytes)
run_pm -v
size=$(human $(($(maildir_bytes) - before)))
is "$PM_RC" 0 "-v: exit status 0" || show_pm
is "$PM_OUT" "$ACCOUNT: 3 new messages ($size) delivered to ~/Maildir, 3 deleted from the server" \
	"-v: the summary line"
is "$(printf '%s\n' "$PM_ERR" | grep -c "^pullmail: $ACCOUNT: message [0-9][0-9]* (")" 3 \
	"-v: one line per message delivered on stderr"
is "$(server_count)" 0 "-v: server empty"
ok "-v: Maildir identical to the seed" mailcheck

# a terminal gets the summary without -v
seed 1
before=$(maildir_bytes)
run_pm_tty
size=$(human $(($(maildir_bytes) - before)))
is "$PM_RC" 0 "terminal: exit status 0"
is "$PM_OUT" "$ACCOUNT: 1 new message ($size) delivered to ~/Maildir, 1 deleted from the server" \
	"terminal: the summary line, without -v"

# -q: nothing at all, even on a terminal
seed 2
run_pm -q
is "$PM_RC" 0 "-q: exit status 0" || show_pm
is "$PM_OUT" "" "-q: nothing on stdout"
is "$PM_ERR" "" "-q: nothing on stderr"
is "$(server_count)" 0 "-q: server empty"
seed 2
run_pm_tty -q
is "$PM_RC" 0 "-q on a terminal: exit status 0"
is "$PM_OUT" "" "-q on a terminal: no output"
is "$(server_count)" 0 "-q on a terminal: server empty"
is "$(maildir_count)" 68 "68 messages delivered in all"
ok "Maildir identical to everything seeded" mailcheck

run_pm -q -v
is "$PM_RC" 64 "-q with -v: exit status 64"

done_testing
