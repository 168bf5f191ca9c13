#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# tls-modes.sh - fetch over implicit TLS, STLS and plain text; plain text
# is refused without allow_plaintext; the wrong port for the TLS mode (TLS to
# the plain port, STLS or plain text to the TLS port) is a configuration
# error (78) that says what to change, never a timeout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

start_server

# fetch_mode NAME TLS PORT HOST [KEY=VALUE...]: seed a fresh set of
# messages, fetch them with -vv as account NAME into a Maildir of its own
# and check the result; the trace is left in PM_ERR.
fetch_mode() {
	local name=$1
	shift
	ACCOUNT=$name
	EXPECTED=$T/expected-$name
	MAILDIR=$T/Maildir-$name
	mkdir -p "$EXPECTED"
	seed 12 --mix edge
	seed 6 --mix small
	is "$(server_count)" 18 "$name: 18 messages seeded"
	write_config "$@"
	run_pm -vv
	is "$PM_RC" 0 "$name: exit status 0" || show_pm
	is "$(server_count)" 0 "$name: server empty afterwards"
	is "$(maildir_count)" 18 "$name: 18 messages in the Maildir"
	ok "$name: Maildir identical to the seed" mailcheck
	is "$(count_files "$MAILDIR/tmp")" 0 "$name: nothing left in tmp/"
	contains "$PM_OUT" "$name: 18 new messages" "$name: summary line with -v"
}

fetch_mode implicit implicit "$POP3S_PORT" "$POP3_TLS_HOST" "ca_file=$CA_FILE"
contains "$PM_ERR" "pullmail: implicit: TLSv1." "implicit: TLS version reported"
lacks "$PM_ERR" "> STLS" "implicit: no STLS sent"

fetch_mode stls starttls "$POP3_PORT" "$POP3_TLS_HOST" "ca_file=$CA_FILE"
contains "$PM_ERR" "> STLS" "stls: STLS sent"
contains "$PM_ERR" "< +OK Begin TLS negotiation" "stls: STLS accepted"
contains "$PM_ERR" "pullmail: stls: TLSv1." "stls: TLS version reported"

fetch_mode plain none "$POP3_PORT" "$POP3_HOST" allow_plaintext=yes auth=user
lacks "$PM_ERR" "> STLS" "plain: no STLS sent"
lacks "$PM_ERR" "TLSv1" "plain: no TLS"
contains "$PM_ERR" "> PASS ***" "plain: PASS sent (masked in the trace)"

# tls = none without allow_plaintext: refused before anything is fetched
ACCOUNT=noplain
EXPECTED=$T/expected-noplain
MAILDIR=$T/Maildir-noplain
mkdir -p "$EXPECTED"
seed 5
write_config none "$POP3_PORT" "$POP3_HOST" auth=user
run_pm
is "$PM_RC" 78 "plain without allow_plaintext: exit status 78" || show_pm
contains "$PM_ERR" "allow_plaintext" "plain without allow_plaintext: the error names allow_plaintext"
is "$(line_count "$PM_ERR")" 1 "plain without allow_plaintext: one line on stderr"
is "$PM_OUT" "" "plain without allow_plaintext: nothing on stdout"
is "$(server_count)" 5 "plain without allow_plaintext: nothing deleted"
is "$(count_files "$MAILDIR/new")" 0 "plain without allow_plaintext: Maildir new/ empty"

# allow_plaintext = no spelt out behaves the same, and -vv shows no USER/PASS
write_config none "$POP3_PORT" "$POP3_HOST" allow_plaintext=no auth=user
run_pm -vv
is "$PM_RC" 78 "allow_plaintext = no: exit status 78" || show_pm
lacks "$PM_ERR" "> USER" "allow_plaintext = no: USER never sent"
lacks "$PM_ERR" "> PASS" "allow_plaintext = no: PASS never sent"
is "$(server_count)" 5 "allow_plaintext = no: nothing deleted"
is "$(count_files "$MAILDIR/new")" 0 "allow_plaintext = no: Maildir new/ empty"

# The wrong port for the mode: one line saying what to change, status 78
# (not 75: cron setups that ignore temporary failures would never see it),
# nothing fetched or deleted.
ACCOUNT=wrongport
MAILDIR=$T/Maildir-wrongport
write_config implicit "$POP3_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 78 "TLS to the plain port: exit status 78" || show_pm
is "$(line_count "$PM_ERR")" 1 "TLS to the plain port: one line"
contains "$PM_ERR" "port $POP3_PORT speaks plain POP3, not TLS (it greeted \"+OK" \
	"TLS to the plain port: says it is a plain POP3 port, with its greeting"
contains "$PM_ERR" "set tls = starttls" "TLS to the plain port: says what to change"
lacks "$PM_ERR" "wrong version number" "TLS to the plain port: not OpenSSL's words"
for mode in starttls none; do
	write_config "$mode" "$POP3S_PORT" "$POP3_TLS_HOST" allow_plaintext=yes
	run_pm
	is "$PM_RC" 78 "tls = $mode to the TLS port: exit status 78" || show_pm
	is "$(line_count "$PM_ERR")" 1 "tls = $mode to the TLS port: one line"
	contains "$PM_ERR" "port $POP3S_PORT speaks TLS from the first byte" \
		"tls = $mode to the TLS port: says it is a TLS port"
	contains "$PM_ERR" "set tls = implicit" "tls = $mode to the TLS port: says what to change"
	lacks "$PM_ERR" "timed out" "tls = $mode to the TLS port: not a timeout"
done
is "$(server_count)" 5 "wrong ports: nothing deleted"
is "$(maildir_count)" 0 "wrong ports: nothing delivered"

done_testing
