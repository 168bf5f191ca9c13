#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# compat.sh - what real servers do that RFC 1939 alone does not say, against
# tests/lib/fakepop.py's server quirks (issue 10):
#  - UTF8 (RFC 6856): sent after STLS and before the login when CAPA says
#    UTF8, so a server that rewrites raw UTF-8 headers for older clients
#    (Courier) sends the message as it is; refused is no error;
#    --serverinfo says which;
#  - CAPA asked again after the login when the first lacked UIDL, and before
#    fetching several messages when it lacked PIPELINING (RFC 2449 section 5);
#    not asked again when nothing is to be gained;
#  - a bare -ERR (popa3d) said in words;
#  - [IN-USE] and [LOGIN-DELAY]: one line, what to do, exit 75, nothing lost
#    (IN-USE also from Dovecot with pop3_lock_session, another client holding
#    the mailbox; LOGIN-DELAY also from GNU Mailutils' pop3d enforcing it);
#  - -d: TLS sessions resumed from the second round on;
#  - TCP_QUICKACK set before waiting for the server (no delayed-ACK stall in
#    lock-step; contrib/bench/lockstep.py measures the effect).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need strace:strace
need openssl:openssl

# tr_count ERE: lines of the fakepop transcript matching ERE
tr_count() {
	grep -cE -- "$1" "$FAKE_LOG" 2>/dev/null || true
}
# tr_line ERE: the line number of the first transcript line matching ERE
tr_line() {
	grep -nE -- "$1" "$FAKE_LOG" | head -n 1 | cut -d: -f1
}

MAIL=$T/mail
mkdir -p "$MAIL"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$MAIL" --count 6 --mix small ||
	bail_out "genmail.py failed"
# a message with raw UTF-8 in its header, as sent by a client of RFC 6532
printf 'From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\nTo: Jürgen Groß <jg@example.net>\nSubject: Grüße aus Köln — ☃\nMessage-ID: <utf8-1@example.org>\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n\nHallo, schöne Grüße.\n' \
	>"$MAIL/msg-00007.eml"
FAKE_MAIL=$MAIL
cp "$MAIL"/* "$EXPECTED"/
MAILDIR_SAVE=$MAILDIR

# expect_mail DESC: $FAKE_MD holds exactly $EXPECTED, byte for byte
expect_mail() {
	MAILDIR=$FAKE_MD
	ok "$1" mailcheck
	MAILDIR=$MAILDIR_SAVE
}

# ------------------------------------------------------------- UTF8

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fake-key.pem" -out "$T/fake-cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	bail_out "openssl could not make a certificate"
TLSARGS=(--tls-cert "$T/fake-cert.pem" --tls-key "$T/fake-key.pem")

fake_start --fault utf8 "${TLSARGS[@]}"
mode_config maildir delete tls=starttls "ca_file=$T/fake-cert.pem" allow_plaintext=no
run_pm
is "$PM_RC" 0 "UTF8: exit status 0" || show_pm
is "$(tr_count '^S: UTF8 enabled$')" 1 "UTF8: sent, and enabled"
stls=$(tr_line '^C: STLS$') utf=$(tr_line '^C: UTF8$') user=$(tr_line '^C: USER ')
ok "UTF8: after STLS and before the login" test "${stls:-0}" -lt "${utf:-0}" -a "${utf:-0}" -lt "${user:-0}"
is "$(tr_count 'as a Unicode notice')" 0 "UTF8: no message rewritten by the server"
expect_mail "UTF8: every message byte-exact, the raw UTF-8 header one too"
is "$(tr_count '^S: close_notify$')" 1 "TLS ended with close_notify after QUIT"

fake_start --fault utf8
mode_config maildir keep
run_pm --serverinfo
is "$PM_RC" 0 "UTF8 --serverinfo: exit status 0" || show_pm
contains "$PM_OUT" "UTF8          enabled" "UTF8 --serverinfo: says it is enabled"

fake_start --fault utf8-refused@all
mode_config maildir delete
run_pm
is "$PM_RC" 0 "UTF8 refused: no error, exit status 0" || show_pm
is "$PM_ERR" "" "UTF8 refused: nothing on stderr"
expect_mail "UTF8 refused: every message delivered"
run_pm --serverinfo
contains "$PM_OUT" "refused when asked" "UTF8 refused: --serverinfo says so"

fake_start
mode_config maildir delete
run_pm
is "$(tr_count '^C: UTF8')" 0 "no UTF8 in CAPA: UTF8 not sent"
run_pm --serverinfo
contains "$PM_OUT" "UTF8          not offered" "no UTF8 in CAPA: --serverinfo says not offered"

# ------------------------------------------------- CAPA after the login

fake_start --fault capa-after-login
mode_config maildir keep
run_pm
is "$PM_RC" 0 "UIDL only after the login: keep works, exit status 0" || show_pm
is "$(tr_count '^S: CAPA after the login$')" 1 "UIDL only after the login: CAPA asked again once"
expect_mail "UIDL only after the login: every message delivered"
run_pm
is "$PM_RC" 0 "UIDL only after the login: second run exit status 0" || show_pm
is "$(maildir_count "$FAKE_MD")" 7 "UIDL only after the login: nothing fetched twice"

fake_start --fault pipelining-after-login
mode_config maildir delete
run_pm
is "$PM_RC" 0 "PIPELINING only after the login: exit status 0" || show_pm
is "$(tr_count '^S: CAPA after the login$')" 1 "PIPELINING only after the login: CAPA asked again before fetching 7"
is "$(tr_count '^S: commands pipelined$')" 1 "PIPELINING only after the login: then used"
expect_mail "PIPELINING only after the login: every message delivered"

# two messages: not worth a round trip
mkdir -p "$T/two"
cp "$MAIL/msg-00001.eml" "$MAIL/msg-00002.eml" "$T/two"/
FAKE_MAIL=$T/two fake_start --fault pipelining-after-login
mode_config maildir delete
run_pm
is "$PM_RC" 0 "PIPELINING after the login, 2 messages: exit status 0" || show_pm
is "$(tr_count '^S: CAPA after the login$')" 0 "PIPELINING after the login, 2 messages: CAPA not asked again"

fake_start
mode_config maildir delete
run_pm
is "$(tr_count '^S: CAPA after the login$')" 0 "full CAPA before the login: not asked again"

# ------------------------------------------------------ bare -ERR

fake_start --fault bare-err
mode_config maildir delete 'password="wrong"'
run_pm
is "$PM_RC" 77 "bare -ERR to PASS: exit status 77" || show_pm
is "$(line_count "$PM_ERR")" 1 "bare -ERR to PASS: one line"
contains "$PM_ERR" "login refused (USER): the server gave no reason" "bare -ERR to PASS: said in words"
ok "bare -ERR: no dangling colon" eval '[[ "$PM_ERR" != *": " ]]'

# ---------------------------------------------- IN-USE, LOGIN-DELAY

for code in in-use login-delay; do
	fake_start --fault "$code"
	mode_config maildir delete
	run_pm
	is "$PM_RC" 75 "$code: exit status 75 (temporary)" || show_pm
	is "$(line_count "$PM_ERR")" 1 "$code: one line"
	is "$(count_files "$FAKE_SRV")" 7 "$code: nothing deleted"
	is "$(tr_count '^C: (RETR|DELE)')" 0 "$code: nothing fetched"
done
fake_start --fault in-use
mode_config maildir delete
run_pm
contains "$PM_ERR" "[IN-USE] Mailbox is locked by another POP3 session (another POP3 session has the mailbox open" \
	"in-use: the server's words, and what it means"
fake_start --fault login-delay
mode_config maildir delete
run_pm
contains "$PM_ERR" "one login every 300 seconds" "login-delay: the delay CAPA gave"
contains "$PM_ERR" "run pullmail less often" "login-delay: what to do"

# --------------------------------------------------- TCP_QUICKACK

fake_start --fault no-pipelining
mode_config maildir delete
# (LeakSanitizer cannot run under ptrace: no leak check in this one run)
(cd "$T" && HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq \
	-e trace=setsockopt -o "$T/strace.out" "$PULLMAIL" </dev/null >/dev/null 2>&1)
is "$?" 0 "lock-step under strace: exit status 0"
ok "lock-step: TCP_QUICKACK set before waiting for the server" \
	grep -q 'TCP_QUICKACK, \[1\]' "$T/strace.out"
expect_mail "lock-step: every message delivered"

# -vv: every trace line names its account (for -j N -vv)
fake_start
mode_config maildir keep
add_account other none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
	allow_plaintext=yes keep=yes "maildir=$T/Maildir-other"
run_pm -vv -j 2
is "$PM_RC" 0 "-j 2 -vv: exit status 0" || show_pm
contains "$PM_ERR" "pullmail: $ACCOUNT: > CAPA" "-vv: trace lines of $ACCOUNT name it"
contains "$PM_ERR" "pullmail: other: > CAPA" "-vv: trace lines of other name it"
is "$(printf '%s\n' "$PM_ERR" | grep -cE '^pullmail: [<>] ')" 0 "-vv: no trace line without an account"

# LOGIN-DELAY from a real server that enforces it: GNU Mailutils' pop3d
# with login-delay (tests/lib/servers/mailutils.sh, SRV_LOGIN_DELAY)
MU=$T/mailutils
if ! SRV_LOGIN_DELAY=600 bash "$TESTLIB/servers/mailutils.sh" start "$MU" >"$T/mu.log" 2>&1; then
	diag "$(cat "$T/mu.log")"
	bail_out "GNU Mailutils pop3d could not be started"
fi
mu_stop() { bash "$TESTLIB/servers/mailutils.sh" stop "$MU" >/dev/null 2>&1; }
# shellcheck disable=SC1091
track_pid "$(. "$MU/env" && echo "$SRV_PID")"	# if a bail-out comes first
(
	# shellcheck disable=SC1091
	. "$MU/env"
	mkdir -p "$T/mu-mail"
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$T/mu-mail" --count 3 --mix small --seed 77 >/dev/null
	bash "$TESTLIB/servers/mailutils.sh" seed "$MU" "$T/mu-mail" || exit 1
	(umask 077 && printf '[mu]\nhost = %s\nport = %s\ntls = implicit\nca_file = %s\nuser = %s\npassword = "%s"\nmaildir = %s\n' \
		"$SRV_TLS_HOST" "$SRV_TLS_PORT" "$SRV_CA" "$SRV_USER" "$SRV_PASS" "$T/mu-md" >"$T/mu.conf")
) || { mu_stop; bail_out "cannot set up the Mailutils account"; }
run_pm -C "$T/mu.conf"
is "$PM_RC" 0 "Mailutils LOGIN-DELAY: the first login fetches, exit status 0" || show_pm
is "$(maildir_count "$T/mu-md")" 3 "Mailutils LOGIN-DELAY: 3 messages delivered"
rm -rf "$T/mu-mail" && mkdir -p "$T/mu-mail"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$T/mu-mail" --count 2 --mix small --seed 78 --first 4 >/dev/null
bash "$TESTLIB/servers/mailutils.sh" seed "$MU" "$T/mu-mail" || { mu_stop; bail_out "seeding failed"; }
run_pm -C "$T/mu.conf"
is "$PM_RC" 75 "Mailutils LOGIN-DELAY: a login too soon after: exit status 75" || show_pm
is "$(line_count "$PM_ERR")" 1 "Mailutils LOGIN-DELAY: one line"
contains "$PM_ERR" "[LOGIN-DELAY]" "Mailutils LOGIN-DELAY: the server's code shown"
contains "$PM_ERR" "run pullmail less often" "Mailutils LOGIN-DELAY: what to do"
is "$(bash "$TESTLIB/servers/mailutils.sh" count "$MU")" 2 "Mailutils LOGIN-DELAY: the 2 new messages still on the server"
is "$(maildir_count "$T/mu-md")" 3 "Mailutils LOGIN-DELAY: nothing more delivered"
mu_stop

# -d: TLS sessions resumed from the second round on (a server that keeps
# its ticket keys: fakepop; Dovecot's login processes each make their own)
fake_start --fault no-pipelining@all "${TLSARGS[@]}"
mode_config maildir keep tls=starttls "ca_file=$T/fake-cert.pem" allow_plaintext=no
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	"$PULLMAIL" -d 1 -v </dev/null >"$T/pm.out" 2>"$T/pm.err") &
dpid=$!
track_pid "$dpid"
conns_at_least() { [ "$(tr_count '^S: connection ')" -ge "$1" ]; }
ok "-d 1: three rounds" wait_for 60 conns_at_least 3
term_reap "$dpid" "-d 1: ends on SIGTERM"
tls_lines=$(grep -E "^pullmail: $ACCOUNT: TLSv1" "$T/pm.err")
is "$(printf '%s\n' "$tls_lines" | head -n 1 | grep -c 'session resumed')" 0 \
	"-d 1: the first round's handshake is a full one"
is "$(printf '%s\n' "$tls_lines" | sed -n 2p | grep -c 'session resumed')" 1 \
	"-d 1: the second round's session is resumed"

# IN-USE from a real server: Dovecot with pop3_lock_session, while
# another client holds a session open
export DOVECOT_LOCK_SESSION=yes
start_server
seed 3
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
mkfifo "$T/hold.in"
cat >"$T/hold.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
for c in (b"USER " + sys.argv[2].encode(), b"PASS " + sys.argv[3].encode()):
    s.sendall(c + b"\r\n")
    r = f.readline()
print(r.decode().strip(), flush=True)
sys.stdin.read()
s.sendall(b"QUIT\r\n")
f.readline()
EOF
"$PYTHON3" -S "$T/hold.py" "$POP3_PORT" "$POP3_USER" "$POP3_PASS" <"$T/hold.in" >"$T/hold.out" &
hold=$!
track_pid "$hold"
exec 7>"$T/hold.in"
wait_for 30 grep -q '^+OK' "$T/hold.out" ||
	bail_out "the holding session did not log in: $(cat "$T/hold.out")"
run_pm
is "$PM_RC" 75 "Dovecot IN-USE: exit status 75" || show_pm
is "$(line_count "$PM_ERR")" 1 "Dovecot IN-USE: one line"
contains "$PM_ERR" "[IN-USE]" "Dovecot IN-USE: the server's code shown"
contains "$PM_ERR" "another POP3 session has the mailbox open" "Dovecot IN-USE: what it means"
is "$(server_count)" 3 "Dovecot IN-USE: nothing deleted"
exec 7>&-
wait "$hold"
untrack_pid "$hold"
run_pm
is "$PM_RC" 0 "Dovecot IN-USE: once the other session ends, exit status 0" || show_pm
is "$(maildir_count)" 3 "Dovecot IN-USE: then every message delivered"
is "$(server_count)" 0 "Dovecot IN-USE: and deleted"

done_testing
