#!/bin/bash
# auth.sh - logging in: every mechanism against the private Dovecot (PLAIN,
# LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and USER/PASS), auth = auto,
# wrong passwords, the plaintext policy on an unencrypted connection, APOP
# without a timestamp; and XOAUTH2 / OAUTHBEARER against tests/lib/fakepop.py
# in both forms (token on the AUTH line, token after "+ "), with a 4 KB token
# from password_command, the server's JSON error challenge and a wrong token.
#
# Each successful login fetches exactly one message (max_messages = 1), so
# "it worked" means mail arrived, not just exit status 0; the -vv trace says
# which command was sent and Dovecot's log which mechanism it saw.
#
# Environment: see lib.sh (PULLMAIL, TESTLIB, PYTHON3, KEEP_TMP=1).

. "$(dirname "$0")/lib.sh"

py() {
	"$PYTHON3" -S "$@"
}

# untrack_pid PID: forget a tracked process once it has been waited for:
# its PID may be reused by then, and lib.sh kills tracked PIDs at exit
untrack_pid() {
	local p l=
	for p in $_tracked_pids; do
		[ "$p" = "$1" ] || l="$l $p"
	done
	_tracked_pids=$l
}

start_server
seed 24

# ------------------------------------------------------------ helpers

declare -A UP=(
	[user]=USER [plain]=PLAIN [login]=LOGIN [cram-md5]=CRAM-MD5
	[scram-sha-1]=SCRAM-SHA-1 [scram-sha-256]=SCRAM-SHA-256
	[xoauth2]=XOAUTH2 [oauthbearer]=OAUTHBEARER
)

# dlog_count FIXED-STRING: lines of Dovecot's log containing it
dlog_count() {
	grep -cF -- "$1" "$DOVECOT_LOG" 2>/dev/null || true
}

# dlog_grew FIXED-STRING BEFORE: wait (up to 3 s: Dovecot writes its log
# asynchronously) until more than BEFORE lines contain FIXED-STRING
dlog_grew() {
	for _ in $(seq 60); do
		[ "$(dlog_count "$1")" -gt "$2" ] && return 0
		sleep 0.05
	done
	diag "Dovecot's log has no new line with '$1'"
	return 1
}

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
		ok "$label: trace: USER $POP3_USER sent" trace_has "^pullmail: > USER $POP3_USER\$"
		ok "$label: trace: PASS *** sent (password hidden)" trace_has '^pullmail: > PASS \*\*\*$'
		ok "$label: trace: no AUTH command" trace_lacks '^pullmail: > AUTH'
	else
		ok "$label: trace: AUTH $up sent" trace_has "^pullmail: > AUTH $up( \\*\\*\\*)?\$"
		is "$(nlines_matching '^pullmail: > AUTH' "$T/pm.err")" 1 \
			"$label: trace: exactly one AUTH command"
		ok "$label: trace: no USER or PASS" trace_lacks '^pullmail: > (USER|PASS)'
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
ok "STARTTLS, auth = auto: STLS was used" trace_has '^pullmail: > STLS$'

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
ok "no TLS, auth = auto: no STLS" trace_lacks '^pullmail: > STLS'
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
		trace_lacks '^pullmail: > (AUTH|USER|PASS|APOP)'
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
ok "$label: trace: no APOP command sent" trace_lacks '^pullmail: > APOP'

# ------------------------------------------------ OAuth with fakepop

# A self-signed certificate for fakepop's STLS, valid for 127.0.0.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fake-key.pem" -out "$T/fake-cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	bail_out "openssl could not make a certificate"

# The 4 KB token (4096 characters, as an OAuth access token looks), from a
# small script run as password_command
TOKEN=ya29.$(head -c 3200 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' | cut -c1-4091)
[ ${#TOKEN} = 4096 ] || bail_out "token is ${#TOKEN} characters, not 4096"
printf '%s\n' "$TOKEN" >"$T/token.txt"
printf '#!/bin/sh\nexec cat %s\n' "$T/token.txt" >"$T/token.sh"
chmod 0700 "$T/token.sh"

FAKE_MAIL=$T/fakemail
py "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 3 --seed 4242 >/dev/null ||
	bail_out "genmail.py failed"
FAKE_N=0
FAKE_PID=

# fake_stop: stop the running fakepop
fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		kill -TERM "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		untrack_pid "$FAKE_PID"
		FAKE_PID=
	fi
}

# fake_start FAKEPOP-ARG...: a fresh fakepop (mailbox: the 3 messages of
# $FAKE_MAIL) in $FD = $T/fake.N; FAKE_PORT, FAKE_LOG (its transcript),
# FAKE_SRV (its mailbox), FAKE_MD (the Maildir for this case); forgets the
# UIDL cache (every case starts with the same UIDs)
fake_start() {
	fake_stop
	FAKE_N=$((FAKE_N + 1))
	FD=$T/fake.$FAKE_N
	FAKE_SRV=$FD/srv
	FAKE_MD=$FD/Maildir
	FAKE_LOG=$FD/transcript
	{ mkdir -p "$FAKE_SRV" && cp "$FAKE_MAIL"/* "$FAKE_SRV"/; } || bail_out "cannot set up $FD"
	rm -rf "$STATE_DIR"
	"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$FAKE_SRV" \
		--port-file "$FD/port" --log "$FAKE_LOG" "$@" 2>"$FD/fakepop.err" &
	FAKE_PID=$!
	track_pid "$FAKE_PID"
	for _ in $(seq 100); do
		[ -s "$FD/port" ] && break
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$FD/port" ] || bail_out "fakepop did not start: $(cat "$FD/fakepop.err")"
	FAKE_PORT=$(cat "$FD/port")
}

# fake_config MECH [KEY=VALUE...]: the account on fakepop, user u, the token
# from password_command, no TLS but allow_plaintext = yes unless overridden
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

# no_violation: fakepop logged no V: line (the client broke no rule: the
# message and acknowledgement were exactly right)
no_violation() {
	if grep -q '^V: ' "$FAKE_LOG"; then
		diag "$(grep '^V: ' "$FAKE_LOG")"
		return 1
	fi
}

# oauth_ok MODE MECH: the 4 KB token accepted in MODE; 3 messages fetched
oauth_ok() {
	local mode=$1 mech=$2 up=${UP[$2]} label
	label="$mech, $mode, 4 KB token"
	fake_start --sasl "XOAUTH2 OAUTHBEARER" --token "$TOKEN" --fault "$mode@all"
	fake_config "$mech"
	run_pm -vv
	is "$PM_RC" 0 "$label: exit status 0" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "$ACCOUNT: logging in with $mech" "$label: log says: logging in with $mech"
	ok "$label: trace: AUTH $up with the initial response hidden" \
		trace_has "^pullmail: > AUTH $up \\*\\*\\*\$"
	if [ "$mode" = oauth-ir-only ]; then
		is "$(tr_count "^S: $up accepted \\(initial response\\)\$")" 1 \
			"$label: fakepop accepted the token on the AUTH line"
		is "$(tr_count '^C: AUTH ')" 1 "$label: one AUTH command (no retry)"
		ok "$label: fakepop did not refuse any form" \
			test "$(tr_count 'refused$')" = 0
	else
		is "$(tr_count "^S: $up initial response refused\$")" 1 \
			"$label: fakepop refused the token on the AUTH line"
		is "$(tr_count "^C: AUTH $up\$")" 1 \
			"$label: then AUTH $up without initial response"
		is "$(tr_count "^S: $up accepted \\(continuation\\)\$")" 1 \
			"$label: fakepop accepted the token after \"+ \""
		contains "$PM_ERR" "$up with an initial response refused, trying without" \
			"$label: log says it retried without the initial response"
		ok "$label: trace: the token line after \"+ \" is hidden" \
			trace_has '^pullmail: > \*\*\*$'
	fi
	ok "$label: the message was exactly right (no V: line)" no_violation
	is "$(maildir_count "$FAKE_MD")" 3 "$label: 3 messages delivered"
	is "$(count_files "$FAKE_SRV")" 0 "$label: and deleted from the server"
	lacks "$PM_ERR" "${TOKEN:5:40}" "$label: the token is not in the trace"
}

for mode in oauth-ir-only oauth-no-ir; do
	for mech in xoauth2 oauthbearer; do
		oauth_ok "$mode" "$mech"
	done
done

# oauth_error MECH [FAULT...]: the server answers the token with a "+ "
# JSON error challenge; acknowledged correctly, then 77 with the JSON
oauth_error() {
	local mech=$1 up=${UP[$1]} label
	shift
	label="$mech, oauth-error${1:+ ($*)}"
	local -a f=(--fault oauth-error@all)
	for x; do f+=(--fault "$x@all"); done
	fake_start --sasl "XOAUTH2 OAUTHBEARER" --token "$TOKEN" "${f[@]}"
	fake_config "$mech"
	run_pm
	is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "login refused ($up)" "$label: login refused ($up)"
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
	ok "$label: no V: line" no_violation
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
}

oauth_error xoauth2
oauth_error oauthbearer
oauth_error xoauth2 oauth-no-ir
oauth_error oauthbearer oauth-no-ir

# a wrong token: refused, 77
for mech in xoauth2 oauthbearer; do
	label="$mech, wrong token"
	fake_start --sasl "XOAUTH2 OAUTHBEARER" --token "other-$TOKEN"
	fake_config "$mech"
	run_pm
	is "$PM_RC" 77 "$label: exit status 77" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	contains "$PM_ERR" "login refused (${UP[$mech]})" "$label: login refused (${UP[$mech]})"
	ok "$label: fakepop saw the (well-formed) wrong token" \
		test "$(tr_count "^S: ${UP[$mech]} wrong token")" -ge 1
	ok "$label: no V: line" no_violation
	is "$(count_files "$FAKE_SRV")" 3 "$label: nothing fetched"
done

# the token is not sent over an unencrypted connection either
for mech in xoauth2 oauthbearer; do
	label="$mech, no TLS, allow_plaintext = no"
	fake_start --sasl "XOAUTH2 OAUTHBEARER" --token "$TOKEN"
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
	is "$(tr_count "^S: ${UP[$mech]} accepted \\(initial response\\)\$")" 1 \
		"$label: token accepted on the AUTH line"
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

fake_stop
done_testing
