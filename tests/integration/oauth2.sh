#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# oauth2.sh - OAuth2 built in, end to end: an authorization server built on
# Authlib (tests/lib/oauthserver.py, HTTPS on 127.0.0.1) and the private
# Dovecot, which checks every access token against it (its oauth2 passdb,
# RFC 7662 introspection). Signing in by each flow, refreshing, rotation,
# revocation, faults of the token endpoint, kill -9 mid-refresh, -j.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# Debian's Python has python3-authlib; the python3 on PATH may not.
OPY=${OAUTH_PYTHON:-/usr/bin/python3}
"$OPY" -c 'import authlib' 2>/dev/null ||
	bail_out "$OPY cannot import authlib (apt-get install python3-authlib)"
need openssl:openssl

# The authorization server's certificate: a CA of its own, for 127.0.0.1.
OD=$T/oauth
mkdir -p "$OD"
(
	cd "$OD" &&
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout ca.key -out ca.pem -days 30 \
		-subj "/CN=pullmail oauth test CA" \
		-addext "basicConstraints = critical, CA:TRUE" \
		-addext "keyUsage = critical, keyCertSign, cRLSign" &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout server.key -out server.csr -subj "/CN=127.0.0.1" &&
	printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
		-set_serial 0x1234 -days 30 -extfile ext -out server.pem
) >"$OD/openssl.log" 2>&1 || bail_out "openssl: $(cat "$OD/openssl.log")"
OCA=$OD/ca.pem

"$OPY" "$TESTLIB/oauthserver.py" --dir "$OD" --cert "$OD/server.pem" \
	--key "$OD/server.key" 2>"$OD/log" &
track_pid $!
wait_for 30 test -s "$OD/port" || bail_out "oauthserver.py did not start: $(cat "$OD/log")"
OURL=https://127.0.0.1:$(cat "$OD/port")

# ctl CMD [JSON]: the server's control API; prints its JSON answer
ctl() {
	"$OPY" -c 'import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
r = urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/control/" + sys.argv[3],
    data=sys.argv[4].encode(), method="POST"), context=ctx, timeout=20)
print(r.read().decode())' "$OURL" "$OCA" "$1" "${2:-{\}}"
}
# ostat KEY [SUBKEY]: one figure of the server's stats
ostat() {
	ctl stats | "$OPY" -c 'import json, sys
d = json.load(sys.stdin)[sys.argv[1]]
if len(sys.argv) > 2:
    d = d.get(sys.argv[2], 0)
print(len(d) if isinstance(d, list) else d)' "$@"
}
# field FILE KEY: a member of a token file
field() {
	"$OPY" -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"
}

export DOVECOT_OAUTH2_URL=$OURL/introspect DOVECOT_OAUTH2_CA=$OCA
start_server
seed 5

OKEYS=(-password oauth2=custom oauth2_client_id=pm-test-client
	oauth2_scope=mail "oauth2_token_url=$OURL/token"
	"oauth2_device_url=$OURL/device" "oauth2_auth_url=$OURL/authorize"
	"oauth2_ca_file=$OCA")
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}"
TOKF=$STATE_DIR/$ACCOUNT.oauth2

# pm_bg OUT ARGS...: pullmail in the background (stdin from $T/in.fifo if
# it exists, else /dev/null), its pid in PM_PID
pm_bg() {
	local out=$1 in=/dev/null
	shift
	[ -p "$T/in.fifo" ] && in=$T/in.fifo
	# PM_BARE=1: pullmail itself is PM_PID (for kill -9), without timeout
	local -a t=(timeout -k 2 60)
	[ "${PM_BARE:-0}" = 1 ] && t=()
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"${t[@]}" "$PULLMAIL" "$@" <"$in" >"$out" 2>&1) &
	PM_PID=$!
	track_pid "$PM_PID"
}
# pm_wait: PM_RC of the background pullmail
pm_wait() {
	wait "$PM_PID"
	PM_RC=$?
	untrack_pid "$PM_PID"
}
user_code() { sed -n 's/.*enter the code \([A-Z0-9-]*\) .*/\1/p' "$1"; }
# device_signin OUT ARGS...: pullmail --authorize ARGS by the device flow,
# the code approved as $POP3_USER once shown; PM_RC as run_pm sets it
device_signin() {
	local out=$1
	shift
	pm_bg "$out" --authorize "$@"
	wait_for 30 grep -q 'enter the code' "$out" || diag "$(cat "$out")"
	ctl approve "{\"user_code\": \"$(user_code "$out")\", \"user\": \"$POP3_USER\"}" >/dev/null
	pm_wait
}
auth_url() { grep -m1 '^https://' "$1"; }
expire_locally() { # the saved access token looks expired to pullmail
	"$OPY" -c 'import json, os, sys
p = sys.argv[1]; d = json.load(open(p)); d["expires_at"] = 1000
open(p + ".t", "w").write(json.dumps(d)); os.chmod(p + ".t", 0o600); os.rename(p + ".t", p)' "$TOKF"
}

# ---------------------------------------------------------------- usage
run_pm --flow device "$ACCOUNT"
is "$PM_RC" 64 "--flow without --authorize: status 64" || show_pm
run_pm --authorize
is "$PM_RC" 64 "--authorize without an account: status 64" || show_pm
run_pm --flow sideways --authorize "$ACCOUNT"
is "$PM_RC" 64 "--flow sideways: status 64" || show_pm
cp "$CONFIG" "$T/config.oauth"
add_account plain implicit "$POP3S_PORT" "$POP3_TLS_HOST"
add_account google implicit "$POP3S_PORT" "$POP3_TLS_HOST" -password \
	oauth2=google oauth2_client_id=x.apps.googleusercontent.com
run_pm --authorize plain
is "$PM_RC" 64 "--authorize of an account without oauth2: status 64" || show_pm
contains "$PM_ERR" "plain: not an OAuth2 account" "--authorize of an account without oauth2: says so"
run_pm --authorize --flow device google
is "$PM_RC" 78 "--flow device for Google: status 78" || show_pm
contains "$PM_ERR" "Google offers no device flow for mail" "--flow device for Google: says why"
cp "$T/config.oauth" "$CONFIG"

# ---------------------------------------------------------------- not yet
run_pm
is "$PM_RC" 77 "not signed in: status 77" || show_pm
contains "$PM_ERR" "not signed in with OAuth2: run pullmail --authorize $ACCOUNT" \
	"not signed in: says which command fixes it"
is "$(server_count)" 5 "not signed in: nothing fetched"
run_pm -C "$CONFIG"
contains "$PM_ERR" "run pullmail -C $CONFIG --authorize $ACCOUNT" \
	"not signed in, -C FILE: the command it suggests names the file too"

# ---------------------------------------------------------------- device flow
pm_bg "$T/dev.out" --authorize "$ACCOUNT"
wait_for 30 grep -q 'enter the code' "$T/dev.out" || diag "$(cat "$T/dev.out")"
UC=$(user_code "$T/dev.out")
ok "device flow: a user code is shown" test -n "$UC"
contains "$(cat "$T/dev.out")" "open $OURL/device" "device flow: the verification URL is shown"
ctl approve "{\"user_code\": \"$UC\", \"user\": \"$POP3_USER\"}" >/dev/null
pm_wait
is "$PM_RC" 0 "device flow: status 0" || diag "$(cat "$T/dev.out")"
contains "$(cat "$T/dev.out")" "$ACCOUNT: signed in; tokens saved to $TOKF" "device flow: says where the tokens are"
is "$(file_mode "$TOKF")" 600 "device flow: the token file is mode 0600"
ok "device flow: no temporary file left" test ! -e "$TOKF.tmp"
ok "device flow: polled the token endpoint" test "$(ostat grants)" -ge 1
AT1=$(field "$TOKF" access_token)
RT1=$(field "$TOKF" refresh_token)
ok "device flow: access and refresh tokens saved" test -n "$AT1" -a -n "$RT1"

# the fetch: Dovecot checks the token with the authorization server
before=$(ostat introspect)
run_pm -vv
is "$PM_RC" 0 "fetch with the token: status 0" || show_pm
is "$(maildir_count)" 5 "fetch with the token: 5 delivered"
ok "fetch with the token: Maildir identical to the seed" mailcheck
is "$(server_count)" 0 "fetch with the token: deleted from the server"
contains "$PM_ERR" "logging in with oauthbearer" "auth = auto: OAUTHBEARER, which Dovecot offers"
ok "fetch with the token: Dovecot asked the authorization server" \
	test "$(ostat introspect)" -gt "$before"
lacks "$PM_ERR" "$AT1" "-vv: the access token is not shown"
lacks "$PM_ERR" "$RT1" "-vv: the refresh token is not shown"
is "$(ostat refresh "$POP3_USER")" 0 "a valid access token: no refresh"

# auth = xoauth2 works too
seed 2
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}" auth=xoauth2
run_pm
is "$PM_RC" 0 "auth = xoauth2: status 0" || show_pm
is "$(maildir_count)" 7 "auth = xoauth2: 2 more delivered"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}"

# -c and --serverinfo say how the sign-in stands
run_pm -c
contains "$PM_OUT" "OAuth2: signed in" "-c: shows the sign-in"
contains "$PM_OUT" "access token valid for" "-c: shows the access token's life"
run_pm --serverinfo
contains "$PM_OUT" "OAuth2" "--serverinfo: an OAuth2 line"
contains "$PM_OUT" "refresh token saved" "--serverinfo: the refresh token is there"

# ---------------------------------------------------------------- refresh
seed 1
expire_locally
run_pm -v
is "$PM_RC" 0 "access token expired: status 0" || show_pm
contains "$PM_ERR" "OAuth2 access token refreshed" "access token expired: refreshed (-v says so)"
is "$(maildir_count)" 8 "access token expired: the new message delivered"
is "$(ostat refresh "$POP3_USER")" 1 "access token expired: one refresh"
RT2=$(field "$TOKF" refresh_token)
ok "refresh: the rotated refresh token is saved" test -n "$RT2" -a "$RT2" != "$RT1"
ok "refresh: the access token is new" test "$(field "$TOKF" access_token)" != "$AT1"
is "$(file_mode "$TOKF")" 600 "refresh: the token file is still 0600"
ok "refresh: the refresh time is recorded" test -n "$(field "$TOKF" refreshed)"
expire_locally
run_pm
is "$PM_RC" 0 "second refresh: status 0" || show_pm
contains "$(ctl is_valid_refresh "{\"token\": \"$RT1\"}")" '"valid": false' \
	"rotation: the first refresh token is spent once its successor was used"

# the server ends the access token early: the login is refused, one
# refresh, a second login
seed 1
ctl expire >/dev/null
n=$(ostat refresh "$POP3_USER")
run_pm -v
is "$PM_RC" 0 "token ended by the server: status 0" || show_pm
contains "$PM_ERR" "login refused with the saved OAuth2 access token; trying a fresh one" \
	"token ended by the server: says it retries"
is "$(ostat refresh "$POP3_USER")" $((n + 1)) "token ended by the server: one refresh"
is "$(maildir_count)" 9 "token ended by the server: delivered"

# ---------------------------------------------------------------- faults
expire_locally
cp "$TOKF" "$T/tok.before"
ctl fail '{"n": 1, "status": 503, "error": "temporarily_unavailable"}' >/dev/null
run_pm
is "$PM_RC" 75 "token endpoint 503: status 75" || show_pm
contains "$PM_ERR" "failed for now" "token endpoint 503: says it is temporary"
is "$(line_count "$PM_ERR")" 1 "token endpoint 503: one line"
ok "token endpoint 503: the token file is unchanged" cmp -s "$TOKF" "$T/tok.before"
ctl fail '{"n": 1, "status": 500, "error": null}' >/dev/null
run_pm
is "$PM_RC" 75 "token endpoint 500 without JSON: status 75" || show_pm
ctl fail '{"n": 1, "status": 200, "error": "temporarily_unavailable"}' >/dev/null
run_pm
is "$PM_RC" 75 "an error in a 200 reply: taken as the error (status 75)" || show_pm
ok "an error in a 200 reply: the token file is unchanged" cmp -s "$TOKF" "$T/tok.before"

# kill -9 while the token endpoint holds its answer (the refresh done and
# rotated on its side): the file is whole, and the next run signs in
rm -f "$OD/hanging"
ctl hang '{"seconds": 20}' >/dev/null
PM_BARE=1 pm_bg "$T/kill.out"
wait_for 30 test -e "$OD/hanging" || diag "the server never held a refresh"
ok "kill -9 mid-refresh: it is pullmail that is killed" \
	eval 'grep -q pullmail "/proc/$PM_PID/cmdline"'
kill -9 "$PM_PID"
pm_wait
ok "kill -9 mid-refresh: the token file is the old one, whole" cmp -s "$TOKF" "$T/tok.before"
ok "kill -9 mid-refresh: no temporary file left behind that matters" \
	"$OPY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$TOKF"
seed 1
run_pm
is "$PM_RC" 0 "after kill -9: the next run works (the old refresh token still does)" || show_pm
is "$(maildir_count)" 10 "after kill -9: delivered"

# ---------------------------------------------------------------- browser flows
ctl login "{\"user\": \"$POP3_USER\"}" >/dev/null
rm -f "$TOKF"
pm_bg "$T/br.out" --authorize --flow browser "$ACCOUNT"
wait_for 30 grep -q '^https://' "$T/br.out" || diag "$(cat "$T/br.out")"
URL=$(auth_url "$T/br.out")
contains "$URL" "code_challenge_method=S256" "browser flow: PKCE S256 asked for"
contains "$URL" "redirect_uri=http%3A%2F%2F127.0.0.1%3A" "browser flow: a loopback redirect"
"$OPY" "$TESTLIB/oauthbrowser.py" --ca "$OCA" --state forged "$URL" >"$T/forged.page" 2>&1
contains "$(cat "$T/forged.page")" "does not belong to the sign-in" "browser flow: a forged state is refused"
"$OPY" "$TESTLIB/oauthbrowser.py" --ca "$OCA" "$URL" >"$T/good.page" 2>&1
contains "$(cat "$T/good.page")" "signed in" "browser flow: the browser's page says signed in"
pm_wait
is "$PM_RC" 0 "browser flow: status 0" || diag "$(cat "$T/br.out")"
contains "$(cat "$T/br.out")" "does not match" "browser flow: pullmail said it ignored the forged answer"
contains "$(ctl stats)" '"code_verifier"' "browser flow: the code_verifier was sent"
seed 1
run_pm
is "$PM_RC" 0 "browser flow: fetch works" || show_pm

# paste-back: the browser ends on an address that does not load; pasted
rm -f "$TOKF"
mkfifo "$T/in.fifo"
pm_bg "$T/paste.out" --authorize --flow paste "$ACCOUNT"
exec 7>"$T/in.fifo"
wait_for 30 grep -q '^https://' "$T/paste.out" || diag "$(cat "$T/paste.out")"
LOC=$("$OPY" "$TESTLIB/oauthbrowser.py" --ca "$OCA" --no-follow "$(auth_url "$T/paste.out")")
contains "$LOC" "code=" "paste flow: the browser ended on an address with the code"
echo "  $LOC  " >&7
exec 7>&-
pm_wait
rm -f "$T/in.fifo"
is "$PM_RC" 0 "paste flow: status 0" || diag "$(cat "$T/paste.out")"
ok "paste flow: tokens saved" test -s "$TOKF"
seed 1
run_pm
is "$PM_RC" 0 "paste flow: fetch works" || show_pm

# the user declines
ctl deny '{"on": true}' >/dev/null
pm_bg "$T/deny.out" --authorize --flow browser "$ACCOUNT"
wait_for 30 grep -q '^https://' "$T/deny.out"
"$OPY" "$TESTLIB/oauthbrowser.py" --ca "$OCA" "$(auth_url "$T/deny.out")" >/dev/null 2>&1
pm_wait
is "$PM_RC" 77 "declined: status 77" || diag "$(cat "$T/deny.out")"
contains "$(cat "$T/deny.out")" "the sign-in was declined (access_denied" "declined: says so"
ctl deny '{"on": false}' >/dev/null
ok "declined: the previous tokens are kept" test -s "$TOKF"

# ---------------------------------------------------------------- device faults
# slow_down: the interval grows by 5 s, and stays grown (RFC 8628 3.5)
ctl slow_down '{"n": 1}' >/dev/null
pm_bg "$T/slow.out" --authorize "$ACCOUNT"
wait_for 30 grep -q 'enter the code' "$T/slow.out"
UC=$(user_code "$T/slow.out")
wait_for 30 test "$(ostat slow_downs)" -ge 1
ctl approve "{\"user_code\": \"$UC\", \"user\": \"$POP3_USER\"}" >/dev/null
pm_wait
is "$PM_RC" 0 "slow_down: signed in all the same" || diag "$(cat "$T/slow.out")"
is "$(ostat slow_downs)" 1 "slow_down: honoured (never polled too early again)"

# the code expires unused
ctl device '{"expires_in": 2, "interval": 1}' >/dev/null
pm_bg "$T/exp.out" --authorize "$ACCOUNT"
pm_wait
is "$PM_RC" 75 "device code expired: status 75" || diag "$(cat "$T/exp.out")"
contains "$(cat "$T/exp.out")" "the code expired before the sign-in was done" "device code expired: says so"
ctl device '{"expires_in": 600, "interval": 1}' >/dev/null

# refused on the page
pm_bg "$T/dd.out" --authorize "$ACCOUNT"
wait_for 30 grep -q 'enter the code' "$T/dd.out"
ctl deny_device "{\"user_code\": \"$(user_code "$T/dd.out")\"}" >/dev/null
pm_wait
is "$PM_RC" 77 "device sign-in declined: status 77" || diag "$(cat "$T/dd.out")"

# ---------------------------------------------------------------- two at once
# a second account (same mailbox, its own Maildir and tokens), both
# refreshing at once under -j 2
add_account second implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}" \
	keep=yes "maildir=$T/Maildir2"
device_signin "$T/two.out" second
is "$PM_RC" 0 "second account: signed in" || diag "$(cat "$T/two.out")"
seed 2
expire_locally
TOKF=$STATE_DIR/second.oauth2 expire_locally
n=$(ostat refresh "$POP3_USER")
run_pm -j 2
is "$PM_RC" 0 "-j 2: both accounts fetched" || show_pm
is "$(ostat refresh "$POP3_USER")" $((n + 2)) "-j 2: each account refreshed its own token"
is "$(file_mode "$STATE_DIR/second.oauth2")" 600 "-j 2: the second token file is 0600"

# ---------------------------------------------------------------- a client secret
# a confidential client (as Google's desktop clients are): the secret goes
# in the form (client_secret_post), never into a trace or a message
add_account secretive implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}" \
	oauth2_client_id=pm-secret-client 'oauth2_client_secret="pm-client-Secret-9"' \
	keep=yes "maildir=$T/Maildir3"
device_signin "$T/sec.out" -vv secretive
is "$PM_RC" 0 "confidential client: signed in" || diag "$(cat "$T/sec.out")"
contains "$(ctl stats)" '"client_secret"' "confidential client: the secret was sent"
lacks "$(cat "$T/sec.out")" "pm-client-Secret-9" "confidential client: -vv does not show the secret"
TOKF=$STATE_DIR/secretive.oauth2 expire_locally
run_pm -vv secretive
is "$PM_RC" 0 "confidential client: refreshed and fetched" || show_pm
lacks "$PM_ERR$PM_OUT" "pm-client-Secret-9" "confidential client: the refresh's trace does not show it"
contains "$PM_ERR" "client_secret=***" "confidential client: the trace says a secret was sent, as ***"
run_pm --dump-config secretive
lacks "$PM_OUT" "pm-client-Secret-9" "confidential client: --dump-config hides the secret"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}"

# ---------------------------------------------------------------- secrets
cat >"$T/mda.sh" <<EOF
#!/bin/sh
env >"$T/mda.env"
exec cat >/dev/null
EOF
chmod 755 "$T/mda.sh"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}" -maildir "mda=$T/mda.sh"
seed 1
run_pm
is "$PM_RC" 0 "an MDA: delivered" || show_pm
AT=$(field "$TOKF" access_token)
RT=$(field "$TOKF" refresh_token)
ok "an MDA: saw no token in its environment" eval '! grep -qF -e "$AT" -e "$RT" "$T/mda.env"'
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}"

# ---------------------------------------------------------------- revoked
ctl revoke "{\"user\": \"$POP3_USER\"}" >/dev/null
ctl style '{"name": "hostile"}' >/dev/null
expire_locally
run_pm
is "$PM_RC" 77 "revoked: status 77" || show_pm
contains "$PM_ERR" "OAuth2 sign-in no longer valid (invalid_grant" "revoked: says the sign-in ended"
contains "$PM_ERR" "run pullmail --authorize $ACCOUNT" "revoked: names the command that fixes it"
is "$(line_count "$PM_ERR")" 1 "revoked: one line"
ok "revoked: the provider's text is escaped (no escape byte reaches the terminal)" \
	eval '! printf "%s" "$PM_ERR" | grep -q "$(printf "\033")"'
contains "$PM_ERR" '\033]0;owned' "revoked: the escape is shown escaped"
n=$(ostat grants)
run_pm
is "$PM_RC" 77 "revoked, next run: status 77 again" || show_pm
contains "$PM_ERR" "OAuth2 sign-in no longer valid" "revoked, next run: the same line"
is "$(ostat grants)" "$n" "revoked, next run: the token endpoint is not asked again"
run_pm -c
contains "$PM_ERR$PM_OUT" "no longer valid" "revoked: -c says so too"
ok "revoked: the tokens are not deleted (the file stays)" test -s "$TOKF"

# and signing in again mends it
device_signin "$T/again.out" "$ACCOUNT"
is "$PM_RC" 0 "signed in again: status 0" || diag "$(cat "$T/again.out")"
seed 1
run_pm
is "$PM_RC" 0 "signed in again: fetching works again" || show_pm

# a token file another user could read is refused
chmod 644 "$TOKF"
run_pm
is "$PM_RC" 78 "token file mode 0644: status 78" || show_pm
contains "$PM_ERR" "holds OAuth2 tokens but is mode 0644: run chmod 600" "token file mode 0644: says what to do"
chmod 600 "$TOKF"

# an untrusted authorization server: refused, nothing sent
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "${OKEYS[@]}" "oauth2_ca_file=$CA_FILE"
expire_locally
n=$(ostat grants)
run_pm
is "$PM_RC" 77 "token endpoint with an unknown CA: status 77" || show_pm
contains "$PM_ERR" "certificate not accepted" "token endpoint with an unknown CA: says why"
is "$(ostat grants)" "$n" "token endpoint with an unknown CA: no request reached it"

done_testing
