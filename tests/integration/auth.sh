#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# auth.sh - logging in: every mechanism against the private Dovecot (PLAIN,
# LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and USER/PASS), auth = auto,
# wrong passwords, the plaintext policy on an unencrypted connection, APOP
# without a timestamp; and against tests/lib/fakepop.py (which refuses, and
# flags, any AUTH line over 255 octets), XOAUTH2 and OAUTHBEARER with the
# token from password_command:
#   - a 4 KB token always follows a "+" continuation (RFC 5034: an initial
#     response only within the 255-octet AUTH line), one AUTH command, with
#     a server taking both forms or no initial response; a server that takes
#     only initial responses refuses it (77, -ERR [AUTH], no retry);
#   - a 40-character token goes on the AUTH line; a server refusing that
#     with a bare -ERR is asked once more in the two-step form;
#   - the server's JSON error challenge after either form: acknowledged, 77
#     with the JSON status, no second AUTH;
#   - an error challenge that is not base64: cancelled with "*", 76;
#   - a wrong token (-ERR [AUTH]): 77, no second AUTH;
#   - a bare "+" continuation: the token line stays hidden from -vv (raw
#     and base64);
#   - no TLS with allow_plaintext = no (78, nothing sent), STARTTLS;
# PLAIN at the limit (a 255-octet AUTH line with the response; one octet
# more and it follows the continuation); auth = auto against a server with
# USER/PASS only.
#
# Each successful login against Dovecot fetches exactly one message
# (max_messages = 1; against fakepop all three of its mailbox), so
# "it worked" means mail arrived, not just exit status 0; the -vv trace says
# which command was sent and Dovecot's log which mechanism it saw.
#
# Environment: see lib.sh (PULLMAIL, TESTLIB, PYTHON3, KEEP_TMP=1).

. "$(dirname "$0")/lib.sh"

py() {
	"$PYTHON3" -S "$@"
}


start_server
seed 24

# ------------------------------------------------------------ helpers

declare -A UP=(
	[user]=USER [plain]=PLAIN [login]=LOGIN [cram-md5]=CRAM-MD5
	[scram-sha-1]=SCRAM-SHA-1 [scram-sha-256]=SCRAM-SHA-256
	[xoauth2]=XOAUTH2 [oauthbearer]=OAUTHBEARER
)

# trace_has REGEX: a line of the last run's stderr matches the extended REGEX
trace_has() {
	grep -Eq -- "$1" "$T/pm.err"
}

# trace_lacks REGEX: no line of the last run's stderr matches
trace_lacks() {
	! grep -Eq -- "$1" "$T/pm.err"
}

# nlines_matching REGEX FILE
nlines_matching() {
	grep -Ec -- "$1" "$2" 2>/dev/null || true
}

# ------------------------------------------- every mechanism over TLS

# login_ok LABEL EXPECTED-MECH TLS PORT HOST [KEY=VALUE...]: run -vv, expect
# a login with EXPECTED-MECH (lower case, as in the config) and one message
# fetched (and deleted from the server)
login_ok() {
	local label=$1 mech=$2 tls=$3 port=$4 host=$5 srv0 md0 method login0
	shift 5
	local up=${UP[$mech]}
	srv0=$(server_count)
	md0=$(maildir_count)
	method=$up
	[ "$mech" = user ] && method=PLAIN	# Dovecot's name for USER/PASS
	login0=$(dlog_count "Login: user=<$POP3_USER>, method=$method,")
	write_config "$tls" "$port" "$host" max_messages=1 "$@"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || show_pm
	contains "$PM_ERR" "$ACCOUNT: logging in with $mech" \
		"$label: log says: logging in with $mech"
	if [ "$mech" = user ]; then
		ok "$label: trace: USER $POP3_USER sent" trace_has "^pullmail: [^ ]*: > USER $POP3_USER\$"
		ok "$label: trace: PASS *** sent (password hidden)" trace_has '^pullmail: [^ ]*: > PASS \*\*\*$'
		ok "$label: trace: no AUTH command" trace_lacks '^pullmail: [^ ]*: > AUTH'
	else
		ok "$label: trace: AUTH $up sent" trace_has "^pullmail: [^ ]*: > AUTH $up( \\*\\*\\*)?\$"
		is "$(nlines_matching '^pullmail: [^ ]*: > AUTH' "$T/pm.err")" 1 \
			"$label: trace: exactly one AUTH command"
		ok "$label: trace: no USER or PASS" trace_lacks '^pullmail: [^ ]*: > (USER|PASS)'
	fi
	ok "$label: Dovecot logged a login with method=$method" \
		dlog_grew "Login: user=<$POP3_USER>, method=$method," "$login0"
	is "$(maildir_count)" $((md0 + 1)) "$label: one message delivered"
	is "$(server_count)" $((srv0 - 1)) "$label: and deleted from the server"
	lacks "$PM_ERR" "$POP3_PASS" "$label: the password is not in the trace"
}

for m in user plain login cram-md5 scram-sha-1 scram-sha-256; do
	login_ok "implicit TLS, auth = $m" "$m" implicit "$POP3S_PORT" "$POP3_TLS_HOST" "auth=$m"
done

# auto: the strongest offered
login_ok "implicit TLS, auth = auto" scram-sha-256 implicit "$POP3S_PORT" "$POP3_TLS_HOST" auth=auto
login_ok "STARTTLS, auth = auto" scram-sha-256 starttls "$POP3_PORT" "$POP3_TLS_HOST" auth=auto
ok "STARTTLS, auth = auto: STLS was used" trace_has '^pullmail: [^ ]*: > STLS$'

# ----------------------------------------------------- wrong password

# login_refused LABEL MECH TLS PORT HOST [KEY=VALUE...]: a wrong password is
# refused: 77, one error line naming the mechanism, nothing fetched
login_refused() {
	local label=$1 mech=$2 tls=$3 port=$4 host=$5 srv0 md0
	shift 5
	srv0=$(server_count)
	md0=$(maildir_count)
	write_config "$tls" "$port" "$host" "auth=$mech" \
		'password="not-the-password"' "$@"
	run_pm
	is "$PM_RC" 77 "$label: exit status 77" || show_pm
	contains "$PM_ERR" "login refused (${UP[$mech]})" \
		"$label: the error names the mechanism: login refused (${UP[$mech]})"
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	lacks "$PM_ERR" "not-the-password" "$label: the password is not shown"
	is "$(maildir_count)" "$md0" "$label: nothing delivered"
	is "$(server_count)" "$srv0" "$label: nothing deleted"
}

for m in user plain login cram-md5 scram-sha-1 scram-sha-256; do
	login_refused "wrong password, auth = $m" "$m" implicit "$POP3S_PORT" "$POP3_TLS_HOST"
done

# ------------------------------------- no TLS and allow_plaintext = no

# auto still logs in: SCRAM never reveals the password
login_ok "no TLS, allow_plaintext = no, auth = auto" scram-sha-256 none \
	"$POP3_PORT" "$POP3_HOST" auth=auto allow_plaintext=no
ok "no TLS, auth = auto: no STLS" trace_lacks '^pullmail: [^ ]*: > STLS'
login_ok "no TLS, allow_plaintext = no, auth = cram-md5" cram-md5 none \
	"$POP3_PORT" "$POP3_HOST" auth=cram-md5 allow_plaintext=no

# plain, user and login would reveal it: refused before anything is sent
for m in plain user login; do
	label="no TLS, allow_plaintext = no, auth = $m"
	srv0=$(server_count)
	noauth0=$(dlog_count "(no auth attempts")
	write_config none "$POP3_PORT" "$POP3_HOST" "auth=$m" allow_plaintext=no
	run_pm -vv
	is "$PM_RC" 78 "$label: exit status 78" || show_pm
	contains "$PM_ERR" "refusing to send the password over an unencrypted connection" \
		"$label: the error says why"
	ok "$label: trace: no AUTH, USER or PASS sent" \
		trace_lacks '^pullmail: [^ ]*: > (AUTH|USER|PASS|APOP)'
	ok "$label: Dovecot saw no authentication attempt" \
		dlog_grew "(no auth attempts" "$noauth0"
	lacks "$PM_ERR" "$POP3_PASS" "$label: the password is not shown"
	is "$(server_count)" "$srv0" "$label: nothing fetched"
done

# the same with allow_plaintext = yes: the refusal above is the policy
login_ok "no TLS, allow_plaintext = yes, auth = plain" plain none \
	"$POP3_PORT" "$POP3_HOST" auth=plain allow_plaintext=yes

# ------------------------------------------------------------- APOP

label="APOP against Dovecot (no timestamp in the greeting)"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" auth=apop
run_pm -vv
is "$PM_RC" 77 "$label: exit status 77" || show_pm
contains "$PM_ERR" "APOP" "$label: the error names APOP"
contains "$PM_ERR" "no timestamp" "$label: the error says the greeting has no timestamp"
ok "$label: trace: no APOP command sent" trace_lacks '^pullmail: [^ ]*: > APOP'

# ------------------------------------------------ OAuth with fakepop

# A self-signed certificate for fakepop's STLS, valid for 127.0.0.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fake-key.pem" -out "$T/fake-cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	bail_out "openssl could not make a certificate"

# token_script NAME TOKEN: $T/NAME.sh, a password_command printing TOKEN
token_script() {
	printf '%s\n' "$2" >"$T/$1.txt"
	printf '#!/bin/sh\nexec cat %s\n' "$T/$1.txt" >"$T/$1.sh"
	chmod 0700 "$T/$1.sh"
}

# The 4 KB token (4096 characters, as an OAuth access token looks), from a
# small script run as password_command: too long for the AUTH line (255
# octets, RFC 5034), so it always follows a "+" continuation
TOKEN=ya29.$(head -c 3200 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' | cut -c1-4091)
[ ${#TOKEN} = 4096 ] || bail_out "token is ${#TOKEN} characters, not 4096"
token_script token "$TOKEN"
# A short one (40 characters), that fits on the AUTH line
SHORT=ya29.$(head -c 60 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' | cut -c1-35)
[ ${#SHORT} = 40 ] || bail_out "short token is ${#SHORT} characters, not 40"
token_script short "$SHORT"

FAKE_MAIL=$T/fakemail
py "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 3 --seed 4242 >/dev/null ||
	bail_out "genmail.py failed"

# fake_config MECH [KEY=VALUE...]: the account on fakepop, user u, the 4 KB
# token from password_command, no TLS but allow_plaintext = yes unless
# overridden
fake_config() {
	local mech=$1
	shift
	write_config none "$FAKE_PORT" 127.0.0.1 user=u -password \
		"password_command=$T/token.sh" "auth=$mech" allow_plaintext=yes \
		timeout=10 "maildir=$FAKE_MD" "$@"
}

# tr_count REGEX: lines of the fakepop transcript matching REGEX
tr_count() {
	nlines_matching "$1" "$FAKE_LOG"
}

# no_violation: fakepop logged no V: line (the client broke no rule: no
# AUTH line over 255 octets, the message and acknowledgement exactly right)
no_violation() {
	if grep -q '^V: ' "$FAKE_LOG"; then
		diag "$(grep '^V: ' "$FAKE_LOG")"
		return 1
	fi
}

# fake_fetched LABEL: 3 messages delivered, none left on fakepop
fake_fetched() {
	is "$(maildir_count "$FAKE_MD")" 3 "$1: 3 messages delivered"
	is "$(count_files "$FAKE_SRV")" 0 "$1: and deleted from the server"
}

# oauth_fake TOKEN [FAULT...]: a fresh fakepop offering PLAIN, XOAUTH2 and
# OAUTHBEARER, accepting TOKEN, with the FAULTs on every connection
oauth_fake() {
	local tok=$1 f
	shift
	local -a a=(--sasl "PLAIN XOAUTH2 OAUTHBEARER" --token "$tok")
	for f; do a+=(--fault "$f@all"); done
	fake_start "${a[@]}"
}

# oauth_long MODE MECH: the 4 KB token goes after the continuation, in one
# AUTH exchange, whatever MODE (both, oauth-no-ir) the server is in
oauth_long() {
	local mode=$1 mech=$2 up=${UP[$2]} label
	label="$mech, ${mode:-both forms}, 4 KB token"
	oauth_fake "$TOKEN" ${mode:+"$mode"}
	fake_config "$mech"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "$ACCOUNT: logging in with $mech" "$label: log says: logging in with $mech"
	ok "$label: trace: AUTH $up without initial response" \
		trace_has "^pullmail: [^ ]*: > AUTH $up\$"
	ok "$label: trace: the token line after \"+ \" is hidden" \
		trace_has '^pullmail: [^ ]*: > \*\*\*$'
	is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command"
	is "$(tr_count "^C: AUTH $up\$")" 1 "$label: fakepop: AUTH $up without initial response"
	is "$(tr_count "^S: $up accepted \\(continuation\\)\$")" 1 \
		"$label: fakepop accepted the token after \"+ \""
	lacks "$PM_ERR" "trying without" "$label: no retry"
	ok "$label: no AUTH line over 255 octets, message exactly right (no V: line)" no_violation
	fake_fetched "$label"
	lacks "$PM_ERR" "${TOKEN:5:40}" "$label: the token is not in the trace"
}

# oauth_short MODE MECH: the 40-character token goes on the AUTH line; a
# server refusing that with a bare -ERR (oauth-no-ir) is asked once more
# with the token after the continuation
oauth_short() {
	local mode=$1 mech=$2 up=${UP[$2]} label
	label="$mech, ${mode:-both forms}, 40-character token"
	oauth_fake "$SHORT" ${mode:+"$mode"}
	fake_config "$mech" "password_command=$T/short.sh"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	ok "$label: trace: AUTH $up with the initial response hidden" \
		trace_has "^pullmail: [^ ]*: > AUTH $up \\*\\*\\*\$"
	is "$(tr_count "^C: AUTH $up \\*\\*\\*\$")" 1 "$label: fakepop: AUTH $up with an initial response"
	if [ "$mode" = oauth-no-ir ]; then
		is "$(tr_count "^S: $up initial response refused\$")" 1 \
			"$label: fakepop refused the initial response (bare -ERR)"
		is "$(tr_count "^C: AUTH $up\$")" 1 \
			"$label: then one AUTH $up without initial response"
		is "$(tr_count "^S: $up accepted \\(continuation\\)\$")" 1 \
			"$label: fakepop accepted the token after \"+ \""
		contains "$PM_ERR" "$up with an initial response refused, trying without" \
			"$label: log says it retried without the initial response"
		ok "$label: trace: the token line after \"+ \" is hidden" \
			trace_has '^pullmail: [^ ]*: > \*\*\*$'
	else
		is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command (no retry)"
		is "$(tr_count "^S: $up accepted \\(initial response\\)\$")" 1 \
			"$label: fakepop accepted the token on the AUTH line"
	fi
	ok "$label: no V: line" no_violation
	fake_fetched "$label"
	lacks "$PM_ERR" "$SHORT" "$label: the token is not in the trace"
}

for mech in xoauth2 oauthbearer; do
	oauth_long "" "$mech"
	oauth_long oauth-no-ir "$mech"
	oauth_short "" "$mech"
	oauth_short oauth-ir-only "$mech"
	oauth_short oauth-no-ir "$mech"
done

# a server that takes the token only on the AUTH line cannot have a 4 KB
# one: the line would break the 255-octet limit, and -ERR [AUTH] ends it
for mech in xoauth2 oauthbearer; do
	up=${UP[$mech]}
	label="$mech, oauth-ir-only, 4 KB token"
	oauth_fake "$TOKEN" oauth-ir-only
	fake_config "$mech"
	run_pm
	is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "login refused ($up): [AUTH] $up needs an initial response" \
		"$label: the server's refusal is the error"
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command (no retry after [AUTH])"
	ok "$label: no AUTH line over 255 octets (no V: line)" no_violation
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
done

# PLAIN at the limit: "AUTH PLAIN " and 244 base64 characters (a password
# of 180) is 255 octets, on the AUTH line; one more character makes 259,
# and the response follows the continuation
for len in 180 181; do
	pw=$(printf 'p%.0s' $(seq "$len"))
	label="PLAIN, a $len-character password"
	fake_start --sasl "PLAIN XOAUTH2" --password "$pw"
	write_config none "$FAKE_PORT" 127.0.0.1 user=u "password=\"$pw\"" \
		auth=plain allow_plaintext=yes timeout=10 "maildir=$FAKE_MD"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command"
	if [ "$len" = 180 ]; then
		is "$(tr_count '^S: PLAIN accepted \(initial response\)$')" 1 \
			"$label: the 255-octet AUTH line carried the response"
		ok "$label: trace: AUTH PLAIN ***" trace_has '^pullmail: [^ ]*: > AUTH PLAIN \*\*\*$'
	else
		is "$(tr_count '^S: PLAIN accepted \(continuation\)$')" 1 \
			"$label: the response followed the continuation"
		ok "$label: trace: AUTH PLAIN, then ***" trace_has '^pullmail: [^ ]*: > AUTH PLAIN$'
	fi
	ok "$label: no V: line" no_violation
	fake_fetched "$label"
	lacks "$PM_ERR" "$pw" "$label: the password is not in the trace"
done

# oauth_error MECH TOKEN-SCRIPT: the server answers the token with a "+ "
# JSON error challenge; acknowledged correctly, then 77 with the JSON, and
# no second AUTH
oauth_error() {
	local mech=$1 tok=$2 up=${UP[$1]} label
	label="$mech, oauth-error, $([ "$tok" = short ] && echo '40-character token (initial response)' || echo '4 KB token (continuation)')"
	oauth_fake "$([ "$tok" = short ] && echo "$SHORT" || echo "$TOKEN")" oauth-error
	fake_config "$mech" "password_command=$T/$tok.sh"
	run_pm
	is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "login refused ($up): [AUTH] invalid credentials" \
		"$label: login refused ($up) with the server's text"
	if [[ $PM_ERR == *'"status":"401"'* || $PM_ERR == *'\"status\":\"401\"'* ]]; then
		_tap_result 1 "$label: stderr has the server's JSON, status 401"
	else
		_tap_result 0 "$label: stderr has the server's JSON, status 401"
		show_pm
	fi
	contains "$PM_ERR" "https://mail.google.com/" "$label: stderr has the JSON's scope"
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	is "$(tr_count "^S: $up error challenge sent")" 1 "$label: one error challenge sent"
	is "$(tr_count "^S: $up error acknowledged correctly\$")" 1 \
		"$label: the acknowledgement was correct ($([ "$mech" = xoauth2 ] && echo 'an empty line' || echo AQ==))"
	is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command (no retry after the error challenge)"
	ok "$label: no V: line" no_violation
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
}

for mech in xoauth2 oauthbearer; do
	oauth_error "$mech" token
	oauth_error "$mech" short
done

# An error challenge that is not base64: cancelled with "*", a protocol
# error (76) naming the mechanism, no retry, the token nowhere in stderr
for mech in xoauth2 oauthbearer; do
	up=${UP[$mech]}
	label="$mech, malformed error challenge"
	oauth_fake "$TOKEN" oauth-error-malformed
	fake_config "$mech" "password_command=$T/token.sh"
	run_pm
	is "$PM_RC" 76 "$label: exit status 76" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "protocol error: malformed $up error challenge (not base64)" \
		"$label: the error says what was wrong"
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	is "$(tr_count "^S: $up cancelled by the client\$")" 1 "$label: the client cancelled with *"
	is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command"
	ok "$label: no V: line" no_violation
	lacks "$PM_ERR" "$TOKEN" "$label: no token in stderr"
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
done

# a wrong token: refused with -ERR [AUTH], 77, never retried
for mech in xoauth2 oauthbearer; do
	for tok in token short; do
		label="$mech, wrong $([ "$tok" = short ] && echo 40-character || echo '4 KB') token"
		oauth_fake "other-$TOKEN"
		fake_config "$mech" "password_command=$T/$tok.sh"
		run_pm
		is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
		contains "$PM_ERR" "login refused (${UP[$mech]}): [AUTH] invalid credentials" \
			"$label: login refused (${UP[$mech]}): [AUTH] invalid credentials"
		is "$(tr_count "^S: ${UP[$mech]} wrong token")" 1 \
			"$label: fakepop saw the (well-formed) wrong token"
		is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command (no retry after [AUTH])"
		ok "$label: no V: line" no_violation
		is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
	done
done

# a bare "+" (no space) as the continuation: the token line that follows
# is still hidden from the -vv trace, raw and in base64
for mech in xoauth2 oauthbearer; do
	up=${UP[$mech]}
	label="$mech, bare \"+\" continuation, -vv"
	oauth_fake "$TOKEN" oauth-bare-plus
	fake_config "$mech"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	ok "$label: trace: AUTH $up" trace_has "^pullmail: [^ ]*: > AUTH $up\$"
	ok "$label: trace: the bare + from the server" trace_has '^pullmail: [^ ]*: < \+$'
	ok "$label: trace: the token line hidden" trace_has '^pullmail: [^ ]*: > \*\*\*$'
	lacks "$PM_ERR" "${TOKEN:5:40}" "$label: the token is not in the trace"
	if [ "$mech" = xoauth2 ]; then
		b64=$(printf 'user=u\001auth=Bearer %s\001\001' "$TOKEN" | base64 -w0)
	else
		b64=$(printf 'n,a=u,\001host=127.0.0.1\001port=%s\001auth=Bearer %s\001\001' \
			"$FAKE_PORT" "$TOKEN" | base64 -w0)
	fi
	lacks "$PM_ERR" "${b64:100:60}" "$label: its base64 form is not in the trace"
	is "$(tr_count "^S: $up accepted \\(continuation\\)\$")" 1 "$label: fakepop accepted the token"
	ok "$label: no V: line" no_violation
	fake_fetched "$label"
done

# the token is not sent over an unencrypted connection either
for mech in xoauth2 oauthbearer; do
	label="$mech, no TLS, allow_plaintext = no"
	oauth_fake "$TOKEN"
	fake_config "$mech" allow_plaintext=no
	run_pm -vv
	is "$PM_RC" 78 "$label: exit status 78" || show_pm
	contains "$PM_ERR" "refusing to send the token over an unencrypted connection" \
		"$label: the error says why"
	is "$(tr_count '^C: AUTH')" 0 "$label: no AUTH command reached the server"
done

# ... but over STARTTLS it is (allow_plaintext = no)
for mech in xoauth2 oauthbearer; do
	label="$mech over STARTTLS"
	fake_start --sasl "XOAUTH2 OAUTHBEARER" --token "$TOKEN" \
		--tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem"
	fake_config "$mech" allow_plaintext=no tls=starttls "ca_file=$T/fake-cert.pem"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	is "$(tr_count '^C: STLS$')" 1 "$label: STLS first"
	is "$(tr_count "^S: ${UP[$mech]} accepted \\(continuation\\)\$")" 1 \
		"$label: token accepted after the continuation"
	is "$(maildir_count "$FAKE_MD")" 3 "$label: 3 messages delivered"
done

# auto without TLS, allow_plaintext = no, and a server offering only
# USER/PASS: refused (78) before the password is sent
label="auto, no TLS, allow_plaintext = no, only USER/PASS offered"
fake_start --password "$POP3_PASS"
write_config none "$FAKE_PORT" 127.0.0.1 user=u auth=auto allow_plaintext=no \
	timeout=10 "maildir=$FAKE_MD"
run_pm -vv
is "$PM_RC" 78 "$label: exit status 78" || show_pm
contains "$PM_ERR" "offers no mechanism that hides it" "$label: the error says why"
is "$(tr_count '^C: (USER|PASS|AUTH|APOP)')" 0 "$label: no USER, PASS, AUTH or APOP reached the server"
# and with allow_plaintext = yes auto falls back to USER/PASS
write_config none "$FAKE_PORT" 127.0.0.1 user=u auth=auto allow_plaintext=yes \
	timeout=10 "maildir=$FAKE_MD"
run_pm -vv
is "$PM_RC" 0 "auto, no TLS, allow_plaintext = yes, only USER/PASS: exit status 0" || show_pm
contains "$PM_ERR" "logging in with user" "auto, allow_plaintext = yes, only USER/PASS: logging in with user"
is "$(maildir_count "$FAKE_MD")" 3 "auto, allow_plaintext = yes, only USER/PASS: 3 messages delivered"

# ------------------------- a server that never ends the exchange

# plus-always: fakepop answers every line of the login with "+ ", the
# client's "*" cancel too. Every mechanism must fail with a protocol error
# (76) and one line saying so: never status 0 and "no new messages"
# (the cancel answered "+ " used to end the login with no error set).
# Over STARTTLS, so that EXTERNAL (a client certificate: fakepop's own)
# is tried too.
fake_start --sasl "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER EXTERNAL" \
	--token "$TOKEN" --fault plus-always@all \
	--tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem"
for m in user apop plain login cram-md5 scram-sha-1 scram-sha-256 xoauth2 \
	oauthbearer external; do
	label="plus-always, auth = $m"
	: >"$FAKE_LOG"
	extra=()
	[ "$m" = external ] && extra=(-password_command \
		"client_cert=$T/fake-cert.pem" "client_key=$T/fake-key.pem")
	fake_config "$m" tls=starttls "ca_file=$T/fake-cert.pem" \
		allow_plaintext=no "${extra[@]}"
	run_pm
	is "$PM_RC" 76 "$label: exit status 76" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "$ACCOUNT: 127.0.0.1: protocol error: " \
		"$label: the error says it is a protocol error"
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	lacks "$PM_OUT" "no new messages" "$label: no summary line"
	ok "$label: fakepop answered with \"+ \"" test "$(tr_count '^S: plus-always')" -ge 1
	case $m in
	user | apop) ;;
	scram-*) ;;	# its empty challenge is malformed: no cancel needed
	*) is "$(tr_count '^C: \*$')" 1 "$label: the client cancelled once with *" ;;
	esac
	lacks "$PM_ERR" "${TOKEN:5:40}" "$label: the token is not in stderr"
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
done

# scram-early-ok: +OK to the client's first SCRAM message is a login
# without the server's proof (anyone can say +OK): refused, 77, nothing
# fetched; RFC 5802's whole point is that the server proves itself too
fake_start --sasl "SCRAM-SHA-1 SCRAM-SHA-256" --fault scram-early-ok@all \
	--tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem"
for m in scram-sha-1 scram-sha-256; do
	label="scram-early-ok, auth = $m"
	: >"$FAKE_LOG"
	fake_config "$m" tls=starttls "ca_file=$T/fake-cert.pem" allow_plaintext=no
	run_pm
	is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "accepted the login before proving it knows the password" \
		"$label: the error says why"
	is "$(line_count "$PM_ERR")" 1 "$label: one line on stderr"
	ok "$label: fakepop accepted early" test "$(tr_count '^S: SCRAM-SHA-[0-9]* accepted before any proof')" = 1
	is "$(tr_count '^C: (RETR|LIST|UIDL|DELE)')" 0 "$label: nothing asked of the mailbox"
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
done

fake_stop
done_testing
