#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# tls-refused.sh - certificates that do not verify and a server without
# STLS end the account with status 77 before anything is fetched.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

start_server
seed 7

# untouched NAME: the server keeps every message and the Maildir is empty
untouched() {
	is "$(server_count)" 7 "$1: the server still holds every message"
	is "$(maildir_count)" 0 "$1: nothing in the Maildir"
}

# refused NAME FRAGMENT...: exit 77, one line on stderr with every FRAGMENT
refused() {
	local name=$1 f
	shift
	is "$PM_RC" 77 "$name: exit status 77" || show_pm
	is "$(line_count "$PM_ERR")" 1 "$name: one line on stderr"
	for f in "$@"; do
		contains "$PM_ERR" "$f" "$name: stderr says '$f'"
	done
	is "$PM_OUT" "" "$name: nothing on stdout"
	untouched "$name"
}

# no_login NAME: the -vv trace of the last run shows no USER or PASS
no_login() {
	lacks "$PM_ERR" "> USER" "$1: USER never sent"
	lacks "$PM_ERR" "> PASS" "$1: PASS never sent"
}

# A CA that did not sign the server certificate
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "ca_file=$OTHER_CA_FILE"
run_pm
refused "wrong CA" "certificate" "unable to get local issuer certificate"
run_pm -vv
is "$PM_RC" 77 "wrong CA, -vv: exit status 77"
no_login "wrong CA"

# The right CA, but the certificate names localhost, not 127.0.0.1
write_config implicit "$POP3S_PORT" "$POP3_HOST" "ca_file=$CA_FILE"
run_pm
refused "host name mismatch" "certificate" "mismatch"
run_pm -vv
is "$PM_RC" 77 "host name mismatch, -vv: exit status 77"
no_login "host name mismatch"

# No ca_file: the system store does not know the test CA
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -ca_file
run_pm
refused "system store only" "certificate" "unable to get local issuer certificate"

# STLS with the wrong CA
write_config starttls "$POP3_PORT" "$POP3_TLS_HOST" "ca_file=$OTHER_CA_FILE"
run_pm -vv
is "$PM_RC" 77 "STLS, wrong CA: exit status 77" || show_pm
contains "$PM_ERR" "> STLS" "STLS, wrong CA: STLS was sent"
contains "$PM_ERR" "unable to get local issuer certificate" "STLS, wrong CA: stderr gives the reason"
no_login "STLS, wrong CA"
untouched "STLS, wrong CA"

# tls = starttls against a listener whose CAPA lacks STLS: no fallback
if [ -n "${NOSTLS_PORT:-}" ]; then
	write_config starttls "$NOSTLS_PORT" "$NOSTLS_ADDR"
	run_pm
	refused "no STLS" "does not offer STLS"
	run_pm -vv
	is "$PM_RC" 77 "no STLS, -vv: exit status 77"
	no_login "no STLS"
else
	ok "the NOSTLS listener of dovecot.sh is available (127.0.0.2)" false
fi

# and the same messages are still fetched fine with the right settings
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "ca_file=$CA_FILE"
run_pm
is "$PM_RC" 0 "correct settings: exit status 0" || show_pm
is "$(server_count)" 0 "correct settings: server empty"
ok "correct settings: Maildir identical to the seed" mailcheck

done_testing
