#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# tls-options.sh - the TLS keys of pullmail.conf(5) against the private
# Dovecot and, where Dovecot cannot do it, tests/lib/fakepop.py:
#
#   fingerprint      the right pin is accepted without ca_file (an unknown
#                    CA, a host name the certificate does not list, an
#                    expired certificate), over implicit TLS and STLS; a
#                    wrong pin is refused (77), naming the fingerprint
#                    actually seen, before anything is sent over TLS
#   tls_min_version  1.3 refused by a server capped at TLS 1.2 (fakepop
#                    --tls-max 1.2; Dovecot 2.3 has no maximum), accepted
#                    by Dovecot; 1.2 accepted by both
#   ca_path          a hashed directory with the test CA verifies, one with
#                    only another CA does not (77)
#   tls_server_name  127.0.0.1 with the certificate's name verifies; a
#                    wrong name is refused (77), naming the name; the name
#                    is sent as SNI, an IP address is not (fakepop logs it)
#   client_cert      auth = external logs in by the certificate (Dovecot
#                    takes the user from its CN), without any password; no
#                    certificate, one for another user, one from another
#                    CA: refused (77)
#   --serverinfo     TLS version, cipher, subject, issuer, dates, the
#                    fingerprint (pasted back into the config: accepted),
#                    CAPA with the SASL mechanisms and PIPELINING; terminal
#                    escapes in the greeting, CAPA and the certificate's
#                    subject are made harmless
#
# Every success fetches exactly one message (max_messages = 1) and checks
# that it arrived; every refusal checks the exit status, the one error line
# and that nothing was fetched.
#
# Environment: see lib.sh (PULLMAIL, TESTLIB, PYTHON3, KEEP_TMP=1).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need faketime:faketime


start_server
seed 40

# fpr FILE: the SHA-256 fingerprint of a PEM certificate as pullmail
# writes it (sha256:AB:CD:...)
fpr() {
	openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/^.*=/sha256:/'
}

SERVER_CERT=$DOVECOT_DIR/tls/server.pem
[ -f "$SERVER_CERT" ] || bail_out "no $SERVER_CERT"
SERVER_FPR=$(fpr "$SERVER_CERT")
case $SERVER_FPR in sha256:??:*) ;; *) bail_out "cannot compute the fingerprint: $SERVER_FPR" ;; esac
# a pin that differs in the last byte only
case $SERVER_FPR in *00) WRONG_FPR=${SERVER_FPR%??}01 ;; *) WRONG_FPR=${SERVER_FPR%??}00 ;; esac

# fetched_one LABEL: the last run exited 0 and delivered exactly one
# message more than before (md0 and srv0, set by the caller)
fetched_one() {
	local label=$1
	is "$PM_RC" 0 "$label: exit status 0" || show_pm
	is "$(maildir_count)" $((md0 + 1)) "$label: one message delivered"
	is "$(server_count)" $((srv0 - 1)) "$label: and deleted from the server"
}

# fetch_ok LABEL TLS PORT HOST [KEY=VALUE...]: a run with max_messages = 1
# fetches one message
fetch_ok() {
	local label=$1
	shift
	srv0=$(server_count)
	md0=$(maildir_count)
	write_config "$@" max_messages=1
	run_pm -v
	fetched_one "$label"
}

# fetch_refused LABEL STATUS TLS PORT HOST [KEY=VALUE...] -- FRAGMENT...: a
# run ends with STATUS, one line on stderr containing every FRAGMENT,
# nothing on stdout, nothing fetched
fetch_refused() {
	local label=$1 status=$2 f
	shift 2
	local -a cfg=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		cfg+=("$1")
		shift
	done
	shift
	srv0=$(server_count)
	md0=$(maildir_count)
	write_config "${cfg[@]}" max_messages=1
	run_pm
	is "$PM_RC" "$status" "$label: exit status $status" || show_pm
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	for f in "$@"; do
		contains "$PM_ERR" "$f" "$label: stderr says '$f'"
	done
	is "$PM_OUT" "" "$label: nothing on stdout"
	is "$(maildir_count)" "$md0" "$label: nothing delivered"
	is "$(server_count)" "$srv0" "$label: nothing deleted"
}

# ------------------------------------------------------------ fakepop

# fakepop with STLS, its self-signed certificate valid for 127.0.0.1 and
# pop.example.test; --tls-max caps it
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fake-key.pem" -out "$T/fake-cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:pop.example.test \
	>/dev/null 2>&1 || bail_out "openssl could not make a certificate"

FAKE_MAIL=$T/fakemail
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 3 --seed 4343 >/dev/null ||
	bail_out "genmail.py failed"

# fake_config [KEY=VALUE...]: the account on fakepop over STLS, user u,
# password p, one message per run
fake_config() {
	write_config starttls "$FAKE_PORT" 127.0.0.1 user=u password=p \
		"ca_file=$T/fake-cert.pem" timeout=10 "maildir=$FAKE_MD" \
		max_messages=1 "$@"
}

# ------------------------------------------------------- fingerprint

# The right pin without ca_file: the test CA is in no trust store, yet the
# certificate is accepted; -v says so
fetch_ok "pin, implicit, no ca_file" implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
	-ca_file "fingerprint=$SERVER_FPR"
contains "$PM_ERR" "$ACCOUNT: TLSv1." "pin, implicit: -v names the TLS version"
contains "$PM_ERR" "certificate pinned" "pin, implicit: -v says: certificate pinned"

fetch_ok "pin, STLS, no ca_file" starttls "$POP3_PORT" "$POP3_TLS_HOST" \
	-ca_file "fingerprint=$SERVER_FPR"
contains "$PM_ERR" "certificate pinned" "pin, STLS: -v says: certificate pinned"

# The man page: with a pin, "certificate authorities, host name and dates
# are then not looked at at all": 127.0.0.1 is not in the certificate, the
# CA is unrelated, yet the pin alone decides
fetch_ok "pin, host name mismatch (127.0.0.1)" implicit "$POP3S_PORT" "$POP3_HOST" \
	-ca_file "fingerprint=$SERVER_FPR"
fetch_ok "pin, host name mismatch and a CA that did not sign it" implicit \
	"$POP3S_PORT" "$POP3_HOST" "ca_file=$OTHER_CA_FILE" "fingerprint=$SERVER_FPR"
# written in lower case and without colons (the man page: colons optional)
lc_fpr=$(printf '%s' "${SERVER_FPR#sha256:}" | tr -d : | tr 'A-F' 'a-f')
fetch_ok "pin in lower case without colons" starttls "$POP3_PORT" "$POP3_HOST" \
	-ca_file "fingerprint=sha256:$lc_fpr"

# ... and dates: an expired self-signed certificate (made under faketime),
# refused when trusted as ca_file, accepted when pinned
EXPIRED_OK=0
if faketime -f -3d openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	-nodes -keyout "$T/expired-key.pem" -out "$T/expired-cert.pem" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 &&
	! openssl x509 -checkend 0 -noout -in "$T/expired-cert.pem" >/dev/null; then
	EXPIRED_OK=1
fi
ok "an expired certificate made with faketime" test "$EXPIRED_OK" = 1
if [ "$EXPIRED_OK" = 1 ]; then
	fake_start --tls-cert "$T/expired-cert.pem" --tls-key "$T/expired-key.pem"
	fake_config "ca_file=$T/expired-cert.pem"
	run_pm
	label="expired certificate as ca_file"
	is "$PM_RC" 77 "$label: exit status 77" || show_pm
	contains "$PM_ERR" "certificate has expired" "$label: the error says it has expired"
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
	fake_config -ca_file "fingerprint=$(fpr "$T/expired-cert.pem")"
	run_pm -v
	label="expired certificate pinned"
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "certificate pinned" "$label: -v says: certificate pinned"
	is "$(maildir_count "$FAKE_MD")" 1 "$label: one message delivered"
	is "$(count_files "$FAKE_SRV")" 2 "$label: and deleted from the server"
	fake_stop
fi

# A wrong pin is refused, even where the usual checks would pass
fetch_refused "wrong pin, implicit" 77 implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
	"fingerprint=$WRONG_FPR" -- \
	"does not match the pinned fingerprint" "(it is $SERVER_FPR)"
lacks "$PM_ERR" "$WRONG_FPR" "wrong pin, implicit: the error does not claim the wrong pin was seen"
fetch_refused "wrong pin, STLS" 77 starttls "$POP3_PORT" "$POP3_TLS_HOST" \
	"fingerprint=$WRONG_FPR" -- \
	"does not match the pinned fingerprint" "(it is $SERVER_FPR)"
# nothing is sent over TLS before the pin is checked
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "fingerprint=$WRONG_FPR"
run_pm -vv
is "$PM_RC" 77 "wrong pin, -vv: exit status 77" || show_pm
lacks "$PM_ERR" "> CAPA" "wrong pin, -vv: no CAPA sent over TLS"
lacks "$PM_ERR" "> USER" "wrong pin, -vv: no USER sent"
lacks "$PM_ERR" "> AUTH" "wrong pin, -vv: no AUTH sent"

# a malformed pin is a configuration error
fetch_refused "malformed pin (31 bytes)" 78 implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
	"fingerprint=${SERVER_FPR%:??}" -- "fingerprint"

# ------------------------------------------------ tls_min_version

# TLS 1.3 required, the server stops at 1.2: refused, nothing logged in
fake_start --tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem" --tls-max 1.2
fake_config tls_min_version=1.3
run_pm
label="tls_min_version = 1.3, server capped at 1.2"
is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
contains "$PM_ERR" "does not offer TLS 1.3 or later (tls_min_version)" \
	"$label: stderr names TLS 1.3 and tls_min_version"
contains "$PM_ERR" "protocol version" "$label: stderr gives OpenSSL's reason"
is "$(grep -c '^C: STLS$' "$FAKE_LOG")" 1 "$label: STLS was sent"
is "$(grep -c '^C: \(USER\|PASS\|AUTH\)' "$FAKE_LOG")" 0 "$label: no login sent"
is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
is "$(maildir_count "$FAKE_MD")" 0 "$label: nothing delivered"

# the same server with the default (1.2): fine, over TLS 1.2
fake_config
run_pm -v
label="tls_min_version default, server capped at 1.2"
is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
contains "$PM_ERR" "$ACCOUNT: TLSv1.2," "$label: TLSv1.2 used"
is "$(maildir_count "$FAKE_MD")" 1 "$label: one message delivered"
is "$(count_files "$FAKE_SRV")" 2 "$label: and deleted from the server"
fake_config tls_min_version=1.2
run_pm -v
label="tls_min_version = 1.2, server capped at 1.2"
is "$PM_RC" 0 "$label: exit status 0" || show_pm
contains "$PM_ERR" "$ACCOUNT: TLSv1.2," "$label: TLSv1.2 used"
is "$(maildir_count "$FAKE_MD")" 2 "$label: one more message delivered"

# a server offering 1.3 (fakepop --tls-max 1.3, and Dovecot)
fake_start --tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem" --tls-max 1.3
fake_config tls_min_version=1.3
run_pm -v
label="tls_min_version = 1.3, fakepop offering 1.3"
is "$PM_RC" 0 "$label: exit status 0" || show_pm
contains "$PM_ERR" "$ACCOUNT: TLSv1.3," "$label: TLSv1.3 used"
is "$(maildir_count "$FAKE_MD")" 1 "$label: one message delivered"
fake_stop

fetch_ok "tls_min_version = 1.3, Dovecot, implicit" implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" tls_min_version=1.3
contains "$PM_ERR" "$ACCOUNT: TLSv1.3," "tls_min_version = 1.3, Dovecot, implicit: TLSv1.3 used"
fetch_ok "tls_min_version = 1.3, Dovecot, STLS" starttls "$POP3_PORT" \
	"$POP3_TLS_HOST" tls_min_version=1.3
contains "$PM_ERR" "$ACCOUNT: TLSv1.3," "tls_min_version = 1.3, Dovecot, STLS: TLSv1.3 used"
fetch_ok "tls_min_version = 1.2, Dovecot" implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" tls_min_version=1.2
fetch_refused "tls_min_version = 1.1" 78 implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
	tls_min_version=1.1 -- "tls_min_version"

# ------------------------------------------------------------ ca_path

# openssl rehash on a copy of the test CA; and a directory with only the
# unrelated CA
mkdir -p "$T/capath-good" "$T/capath-other"
cp "$CA_FILE" "$T/capath-good/test-ca.pem"
cp "$OTHER_CA_FILE" "$T/capath-other/other-ca.pem"
openssl rehash "$T/capath-good" "$T/capath-other" >/dev/null 2>&1 ||
	bail_out "openssl rehash failed"
ok "ca_path: openssl rehash made a hash link" \
	test -n "$(find "$T/capath-good" -name '*.0' -print -quit)"

fetch_ok "ca_path with the test CA, implicit" implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
	-ca_file "ca_path=$T/capath-good"
lacks "$PM_ERR" "certificate pinned" "ca_path with the test CA: verified, not pinned"
fetch_ok "ca_path with the test CA, STLS" starttls "$POP3_PORT" "$POP3_TLS_HOST" \
	-ca_file "ca_path=$T/capath-good"
fetch_refused "ca_path with another CA" 77 implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
	-ca_file "ca_path=$T/capath-other" -- \
	"server certificate not accepted" "unable to get local issuer certificate"
# the directory still checks the host name
fetch_refused "ca_path with the test CA, host name mismatch" 77 implicit \
	"$POP3S_PORT" "$POP3_HOST" -ca_file "ca_path=$T/capath-good" -- \
	"server certificate not accepted" "mismatch"

# ---------------------------------------------------- tls_server_name

fetch_ok "tls_server_name = localhost, host 127.0.0.1, implicit" implicit \
	"$POP3S_PORT" "$POP3_HOST" "tls_server_name=$POP3_TLS_HOST"
fetch_ok "tls_server_name = localhost, host 127.0.0.1, STLS" starttls \
	"$POP3_PORT" "$POP3_HOST" "tls_server_name=$POP3_TLS_HOST"
fetch_refused "tls_server_name = wrong.example" 77 implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" tls_server_name=wrong.example -- \
	"server certificate not accepted" "mismatch" "not valid for wrong.example"
fetch_refused "tls_server_name = wrong.example, STLS" 77 starttls "$POP3_PORT" \
	"$POP3_TLS_HOST" tls_server_name=wrong.example -- \
	"server certificate not accepted" "mismatch" "not valid for wrong.example"
# Dovecot's certificate lists no IP address
fetch_refused "tls_server_name = 127.0.0.1, host localhost" 77 implicit \
	"$POP3S_PORT" "$POP3_TLS_HOST" tls_server_name=127.0.0.1 -- \
	"server certificate not accepted" "mismatch" "not valid for 127.0.0.1"
# without tls_server_name the host is the name checked (and named)
fetch_refused "host 127.0.0.1, no tls_server_name" 77 implicit \
	"$POP3S_PORT" "$POP3_HOST" -- "mismatch" "not valid for 127.0.0.1"

# SNI, seen by fakepop (whose certificate lists pop.example.test and
# 127.0.0.1): the name is sent; an IP address is not (pullmail.conf(5):
# "no server name is sent and the certificate must list that address")
# sni_case LABEL HOST TLS_SERVER_NAME EXPECTED-SNI
sni_case() {
	local label=$1 host=$2 name=$3 sni=$4
	fake_start --tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem"
	fake_config "host=$host" ${name:+"tls_server_name=$name"}
	run_pm
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	is "$(maildir_count "$FAKE_MD")" 1 "$label: one message delivered"
	if [ -n "$sni" ]; then
		is "$(grep '^S: TLS server name' "$FAKE_LOG")" "S: TLS server name $sni" \
			"$label: SNI $sni sent"
	else
		is "$(grep -c '^S: TLS server name' "$FAKE_LOG")" 0 "$label: no SNI sent"
	fi
}
sni_case "fakepop, host 127.0.0.1, tls_server_name = pop.example.test" \
	127.0.0.1 pop.example.test pop.example.test
sni_case "fakepop, host 127.0.0.1" 127.0.0.1 "" ""
sni_case "fakepop, host localhost, tls_server_name = 127.0.0.1" \
	localhost 127.0.0.1 ""
fake_start --tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem"
fake_config tls_server_name=other.example.test
run_pm
label="fakepop, tls_server_name = other.example.test"
is "$PM_RC" 77 "$label: exit status 77" || show_pm
contains "$PM_ERR" "not valid for other.example.test" "$label: the error names the name"
is "$(grep '^S: TLS server name' "$FAKE_LOG")" "S: TLS server name other.example.test" \
	"$label: SNI other.example.test sent"
is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
fake_stop

# ------------------------------------------- client_cert, auth = external

ext_login="Login: user=<$POP3_USER>, method=EXTERNAL,"
for mode in "implicit $POP3S_PORT" "starttls $POP3_PORT"; do
	# shellcheck disable=SC2086
	set -- $mode
	label="auth = external, client certificate for $POP3_USER, $1"
	login0=$(dlog_count "$ext_login")
	srv0=$(server_count)
	md0=$(maildir_count)
	write_config "$1" "$2" "$POP3_TLS_HOST" auth=external \
		"client_cert=$CLIENT_CERT" "client_key=$CLIENT_KEY" max_messages=1
	run_pm -vv
	fetched_one "$label"
	contains "$PM_ERR" "$ACCOUNT: logging in with external" "$label: log says: logging in with external"
	ok "$label: trace: AUTH EXTERNAL sent" grep -q '^pullmail: [^ ]*: > AUTH EXTERNAL' "$T/pm.err"
	lacks "$PM_ERR" "> USER" "$label: no USER sent"
	ok "$label: Dovecot logged a login with method=EXTERNAL" dlog_grew "$ext_login" "$login0"
done

# the certificate does not get in the way of other mechanisms
label="auth = scram-sha-256 with a client certificate"
fetch_ok "$label" implicit "$POP3S_PORT" "$POP3_TLS_HOST" auth=scram-sha-256 \
	"client_cert=$CLIENT_CERT" "client_key=$CLIENT_KEY"

# refusals: no certificate (a configuration error); a certificate naming a user Dovecot does not
# know; one for the right user from a CA Dovecot does not trust
fetch_refused "auth = external without a client certificate" 78 implicit \
	"$POP3S_PORT" "$POP3_TLS_HOST" auth=external -- \
	"[$ACCOUNT] auth: external logs in with a TLS client certificate"
fetch_refused "auth = external, certificate for $OTHER_USER" 77 implicit \
	"$POP3S_PORT" "$POP3_TLS_HOST" auth=external \
	"client_cert=$OTHER_USER_CERT" "client_key=$OTHER_USER_KEY" -- \
	"login refused (EXTERNAL)"
ok "auth = external, certificate for $OTHER_USER: Dovecot saw user $OTHER_USER" \
	dlog_grew "user=<$OTHER_USER>, method=EXTERNAL" 0
fetch_refused "auth = external, certificate from another CA" 77 implicit \
	"$POP3S_PORT" "$POP3_TLS_HOST" auth=external \
	"client_cert=$OTHER_CA_CERT" "client_key=$OTHER_CA_KEY" -- \
	"login refused (EXTERNAL)"

# pullmail.conf(5), external: "No password is needed: none is looked up,
# asked for or sent" (no password, password_command or ~/.netrc here)
fetch_ok "auth = external without a password" implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" auth=external -password \
	"client_cert=$CLIENT_CERT" "client_key=$CLIENT_KEY"
# ... nor does the password_command run
printf '#!/bin/sh\necho ran >%s/pwcmd-ran\necho x\n' "$T" >"$T/pwcmd.sh"
chmod 0700 "$T/pwcmd.sh"
fetch_ok "auth = external with a password_command" implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" auth=external -password "password_command=$T/pwcmd.sh" \
	"client_cert=$CLIENT_CERT" "client_key=$CLIENT_KEY"
ok "auth = external: password_command not run" test ! -e "$T/pwcmd-ran"

# configuration errors: a key without its certificate, a key that does not
# belong to the certificate
fetch_refused "client_key without client_cert" 78 implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" auth=external "client_key=$CLIENT_KEY" -- \
	"client_cert"
fetch_refused "client_key of another certificate" 78 implicit "$POP3S_PORT" \
	"$POP3_TLS_HOST" auth=external "client_cert=$CLIENT_CERT" \
	"client_key=$OTHER_USER_KEY" -- "client_key $OTHER_USER_KEY: cannot load" "mismatch"

# ------------------------------------------------------- --serverinfo

# serverinfo_field NAME: the value of "  NAME  VALUE" in $PM_OUT
serverinfo_field() {
	printf '%s\n' "$PM_OUT" | sed -n "s/^  $1 *//p" | head -n 1
}

for mode in "implicit $POP3S_PORT TLS" "starttls $POP3_PORT STLS"; do
	# shellcheck disable=SC2086
	set -- $mode
	label="--serverinfo, $1"
	srv0=$(server_count)
	write_config "$1" "$2" "$POP3_TLS_HOST"
	run_pm --serverinfo "$ACCOUNT"
	is "$PM_RC" 0 "$label: exit status 0" || show_pm
	is "$PM_ERR" "" "$label: nothing on stderr"
	is "$(printf '%s\n' "$PM_OUT" | head -n 1)" "$ACCOUNT: $POP3_TLS_HOST port $2, $3" \
		"$label: first line names host, port and mode"
	contains "$(serverinfo_field TLS)" "TLSv1.3" "$label: TLS version"
	ok "$label: a cipher is named" test -n "$(serverinfo_field cipher)"
	is "$(serverinfo_field subject)" "CN=localhost,O=pullmail tests" "$label: subject"
	is "$(serverinfo_field issuer)" "CN=pullmail test CA,O=pullmail tests" "$label: issuer"
	nb=$(openssl x509 -noout -startdate -in "$SERVER_CERT" | sed 's/^notBefore=//')
	na=$(openssl x509 -noout -enddate -in "$SERVER_CERT" | sed 's/^notAfter=//')
	is "$(serverinfo_field valid)" "$nb to $na" "$label: validity dates"
	is "$(serverinfo_field verified)" "yes" "$label: verified"
	is "$(serverinfo_field fingerprint)" "$SERVER_FPR" "$label: fingerprint"
	contains "$(serverinfo_field greeting)" "Dovecot" "$label: the greeting"
	contains "$PM_OUT" "SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 EXTERNAL" \
		"$label: the CAPA SASL line"
	is "$(serverinfo_field SASL)" "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 EXTERNAL" \
		"$label: the SASL mechanisms"
	ok "$label: PIPELINING among the capabilities" grep -q '^ *PIPELINING$' "$T/pm.out"
	is "$(serverinfo_field pipelining)" "yes" "$label: pipelining yes"
	is "$(server_count)" "$srv0" "$label: nothing fetched"
done
# no_stls_cap: the last output lists no STLS capability (after STLS)
no_stls_cap() {
	! grep -q '^ .* STLS$' "$T/pm.out"
}
ok "--serverinfo, starttls: the capabilities are those after STLS" no_stls_cap

# verified: why the certificate would be refused; the fingerprint still
# shown, and pasted into the account it is accepted (round trip)
write_config implicit "$POP3S_PORT" "$POP3_HOST" -ca_file
run_pm --serverinfo "$ACCOUNT"
label="--serverinfo, unknown CA and host name mismatch"
is "$PM_RC" 0 "$label: exit status 0" || show_pm
ok "$label: verified names the reason" test "$(serverinfo_field verified)" != yes
shown_fpr=$(serverinfo_field fingerprint)
is "$shown_fpr" "$SERVER_FPR" "$label: fingerprint shown"
fetch_ok "the fingerprint from --serverinfo pasted into the account" implicit \
	"$POP3S_PORT" "$POP3_HOST" -ca_file "fingerprint=$shown_fpr"
contains "$PM_ERR" "certificate pinned" "round trip: certificate pinned"

# a hostile server: terminal escapes in the greeting, CAPA and the
# certificate's subject are escaped
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/evil-key.pem" -out "$T/evil-cert.pem" -days 2 \
	-subj "/O=evil$(printf '\033')]0;pwned$(printf '\007')/CN=127.0.0.1" \
	-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	bail_out "openssl could not make a certificate"
fake_start --tls-cert "$T/evil-cert.pem" --tls-key "$T/evil-key.pem" \
	--fault escape-in-capa@all
fake_config "ca_file=$T/evil-cert.pem"
run_pm --serverinfo "$ACCOUNT"
label="--serverinfo, escapes in greeting, CAPA and subject"
is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
ok "$label: no ESC byte in the output" test "$(printf '%s' "$PM_OUT" | tr -cd '\033' | wc -c)" = 0
ok "$label: no BEL byte in the output" test "$(printf '%s' "$PM_OUT" | tr -cd '\007' | wc -c)" = 0
contains "$(serverinfo_field greeting)" "fakepop" "$label: the greeting is shown"
contains "$PM_OUT" "X-EVIL" "$label: the hostile CAPA line is shown"
contains "$(serverinfo_field subject)" "evil" "$label: the hostile subject is shown"
ok "$label: the fault fired" grep -q '^F: escape-in-capa@all' "$FAKE_LOG"
is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
ok "$label: no login" test "$(grep -c '^C: \(USER\|PASS\|AUTH\)' "$FAKE_LOG")" = 0
fake_stop

done_testing
