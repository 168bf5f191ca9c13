#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# smtp.sh - delivery over SMTP to tests/lib/fakesmtp.py: EHLO once a run,
# the one 250 after the final dot, 4xx/5xx/dropped connection then a clean
# run, AUTH PLAIN (the password never logged), STARTTLS verified against
# smtp_ca_file (a wrong CA refused, no STARTTLS refused).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtplib.sh"

start_server	# for its test CA and server certificate (CN localhost)
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 6 --seed 11 >/dev/null ||
	bail_out "genmail.py failed"
# shellcheck disable=SC2034 # read by lib.sh's fake_start
FAKE_MAIL=$EXPECTED
SECRET=s3cret-Smtp-Pass-9

# smtp_config HOST [KEY=VALUE...]: the fakepop account, delivering to
# fakesmtp at HOST:$SMTP_PORT
smtp_config() {
	local host=$1
	shift
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes -maildir "smtp=$host:$SMTP_PORT" \
		deliver_to=joe@example.org "$@"
}

fake_start
smtp_start
smtp_config 127.0.0.1
run_pm
is "$PM_RC" 0 "SMTP: exit 0" || show_pm
ok "SMTP: all six exactly once, byte for byte" out_check
is "$(count_files "$FAKE_SRV")" 0 "SMTP: the server empty"
is "$(tlog_count "C: EHLO")" 1 "SMTP: one EHLO for the run"
is "$(tlog_count "C: LHLO")" 0 "SMTP: no LHLO"
is "$(tlog_count "RCPT TO:<joe@example.org>")" 6 "SMTP: deliver_to is the recipient"
is "$(violations)" "" "SMTP: no protocol violation"

# case DESC FAULT RC LEFT GOT MESSAGE: then a clean run
case_run() {
	local desc=$1 fault=$2 rc=$3 left=$4 got=$5 msg=$6
	fake_start
	smtp_start --fault "$fault"
	smtp_config 127.0.0.1
	run_pm
	is "$PM_RC" "$rc" "$desc: exit $rc" || show_pm
	is "$(count_files "$FAKE_SRV")" "$left" "$desc: $left left on the server"
	is "$(maildir_count "$SMTP_OUT")" "$got" "$desc: $got accepted"
	contains "$PM_ERR" "$msg" "$desc: says so"
	run_pm
	is "$PM_RC" 0 "$desc: then a clean run" || show_pm
	ok "$desc: every message exactly once" out_check
	is "$(count_files "$FAKE_SRV")" 0 "$desc: the server empty"
}
case_run "after the dot 452" dot=452@2 75 1 5 "refused after the final dot: 452"
case_run "after the dot 554" dot=554@3 74 1 5 "refused after the final dot: 554"
case_run "EHLO 421" hello=421 75 6 0 "EHLO refused: 421"
case_run "dropped mid-DATA" drop-mid-data=2 75 6 1 "connection closed"
case_run "no PIPELINING" no-pipelining 0 0 6 ""

# AUTH PLAIN, the password from smtp_password_command
fake_start
smtp_start --auth "mailer:$SECRET"
(umask 077 && printf '%s\n' "$SECRET" >"$T/smtp-pass")
smtp_config 127.0.0.1 smtp_user=mailer "smtp_password_command=cat $T/smtp-pass"
run_pm -vv
is "$PM_RC" 0 "AUTH PLAIN: exit 0" || show_pm
ok "AUTH PLAIN: logged in as smtp_user" grep -q "^S: AUTH ok mailer" "$SMTP_LOG"
ok "AUTH PLAIN: all six" out_check
lacks "$PM_ERR" "$SECRET" "AUTH PLAIN: the password is not in the trace"
lacks "$PM_ERR" "$(printf '\0mailer\0%s' "$SECRET" | base64)" \
	"AUTH PLAIN: nor its base64"
contains "$PM_ERR" "> AUTH PLAIN ***" "AUTH PLAIN: the trace shows ***"
fake_start
smtp_start --auth "mailer:$SECRET"
smtp_config 127.0.0.1 smtp_user=mailer "smtp_password_command=echo wrong"
run_pm
is "$PM_RC" 77 "AUTH PLAIN, wrong password: exit 77"
is "$(count_files "$FAKE_SRV")" 6 "AUTH PLAIN, wrong password: nothing fetched"
ok "AUTH PLAIN, wrong password: POP3 not logged in to" eval '! grep -q "^C: USER" "$FAKE_LOG"'

# STARTTLS, verified
fake_start
smtp_start --tls-cert "$SERVER/tls/server.pem" --tls-key "$SERVER/tls/server.key"
smtp_config localhost smtp_tls=yes "smtp_ca_file=$CA_FILE"
run_pm
is "$PM_RC" 0 "STARTTLS: exit 0" || show_pm
ok "STARTTLS: TLS began" grep -q "^S: TLS" "$SMTP_LOG"
ok "STARTTLS: all six" out_check
is "$(tlog_count "C: EHLO")" 2 "STARTTLS: EHLO again after it"
fake_start
smtp_start --tls-cert "$SERVER/tls/server.pem" --tls-key "$SERVER/tls/server.key"
smtp_config localhost smtp_tls=yes "smtp_ca_file=$OTHER_CA_FILE"
run_pm
is "$PM_RC" 77 "STARTTLS, unknown CA: exit 77"
is "$(maildir_count "$SMTP_OUT")" 0 "STARTTLS, unknown CA: nothing sent"
is "$(tlog_count "C: MAIL")" 0 "STARTTLS, unknown CA: no MAIL"
fake_start
smtp_start
smtp_config localhost smtp_tls=yes
run_pm
is "$PM_RC" 77 "smtp_tls = yes, no STARTTLS offered: exit 77"
contains "$PM_ERR" "does not offer STARTTLS" "smtp_tls = yes, no STARTTLS: says so"
is "$(tlog_count "C: MAIL")" 0 "smtp_tls = yes, no STARTTLS: nothing sent in plain text"

# ============================================== a real MTA: Postfix
# (unpacked, not installed: tests/lib/postfix.sh), relaying into a Maildir
# pmta_check SET: Postfix's Maildir against SET, byte for byte, once the
# header fields Postfix put above pullmail's Received: are checked
# (Return-Path = the envelope sender, X-Original-To, Delivered-To, its own
# Received:) and taken off
pmta_check() {
	local set=$1 cmp=$T/pmta-cmp rc
	shift
	rm -rf "$cmp"
	"$PYTHON3" - "$POSTFIX_MAILDIR" "$cmp" <<'PY' || return 1
import os, re, sys
src, dst = sys.argv[1:3]
for sub in ("tmp", "new", "cur"):
    os.makedirs(os.path.join(dst, sub))
bad = 0
for sub in ("new", "cur"):
    for n in sorted(os.listdir(os.path.join(src, sub))):
        data = open(os.path.join(src, sub, n), "rb").read()
        i = data.find(b"\nReceived: from 127.0.0.1\n")
        top, rest = data[:i + 1], data[i + 1:]
        own = re.search(rb"^Return-Path: *<([^>]*)>", rest, re.M | re.I)
        want = b"Return-Path: <%s>\nX-Original-To: pmtest@example.org\n" \
            b"Delivered-To: pmtest@example.org\nReceived: from " % (
                own.group(1) if own else b"")
        if i < 0 or not top.startswith(want) or b"(Postfix)" not in top:
            print("# %s: unexpected header above ours: %r" % (n, top[:200]))
            bad += 1
        open(os.path.join(dst, "new", n), "wb").write(rest)
sys.exit(1 if bad else 0)
PY
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$set" \
		--maildir "$cmp" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

if [ "$(id -u)" != 0 ]; then
	skip "Postfix on 127.0.0.1" "Postfix's master needs root"
else
	# shellcheck disable=SC2154 # _pm_rc is set in the trap itself
	trap '_pm_rc=$?; bash "$TESTLIB/postfix.sh" stop "$T/mta" >/dev/null 2>&1; (exit $_pm_rc); _cleanup' EXIT
	bash "$TESTLIB/postfix.sh" start "$T/mta" >"$T/mta.log" 2>&1 ||
		bail_out "could not start Postfix: $(cat "$T/mta.log")"
	# shellcheck disable=SC1091
	. "$T/mta/env"
	rm -rf "$EXPECTED" && mkdir "$EXPECTED"
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 16 --mix edge >/dev/null ||
		bail_out "genmail.py failed"
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$EXPECTED" --count 10 --first 17 --seed 5 >/dev/null ||
		bail_out "genmail.py failed"
	fake_start
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes -maildir "smtp=127.0.0.1:$POSTFIX_PORT" \
		"deliver_to=$POSTFIX_RCPT"
	run_pm
	is "$PM_RC" 0 "Postfix: exit 0" || show_pm
	is "$(count_files "$FAKE_SRV")" 0 "Postfix: the server empty"
	ok "Postfix: the 26 messages reach its Maildir" \
		wait_for 60 eval '[ "$(maildir_count "$POSTFIX_MAILDIR")" -ge 26 ]'
	ok "Postfix: each exactly once, byte for byte (the edge mix, 8-bit headers with SMTPUTF8)" \
		pmta_check "$EXPECTED"
	# keep: delivered once, left on the server
	fake_start
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes -maildir "smtp=127.0.0.1:$POSTFIX_PORT" \
		"deliver_to=$POSTFIX_RCPT" keep=yes
	run_pm
	is "$PM_RC" 0 "Postfix, keep: exit 0"
	run_pm
	is "$PM_RC" 0 "Postfix, keep, again: exit 0"
	is "$(count_files "$FAKE_SRV")" 26 "Postfix, keep: the 26 stay on the server"
	ok "Postfix, keep: 26 more in its Maildir" \
		wait_for 60 eval '[ "$(maildir_count "$POSTFIX_MAILDIR")" -ge 52 ]'
	ok "Postfix, keep: each twice in all (once a session), not more" \
		eval '[ "$(maildir_count "$POSTFIX_MAILDIR")" = 52 ]'
	ok "Postfix: the messages went as BDAT (it offers CHUNKING)" \
		grep -q "bdat=" "$POSTFIX_LOG"
	# DATA and dot-stuffing, to a Postfix without CHUNKING
	bash "$TESTLIB/postfix.sh" stop "$T/mta"
	POSTFIX_DISCARD_EHLO=chunking bash "$TESTLIB/postfix.sh" start "$T/mta" >"$T/mta.log" 2>&1 ||
		bail_out "could not start Postfix: $(cat "$T/mta.log")"
	# shellcheck disable=SC1091
	. "$T/mta/env"
	fake_start
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes -maildir "smtp=127.0.0.1:$POSTFIX_PORT" \
		"deliver_to=$POSTFIX_RCPT"
	run_pm
	is "$PM_RC" 0 "Postfix without CHUNKING: exit 0" || show_pm
	ok "Postfix without CHUNKING: the 26 messages reach its Maildir" \
		wait_for 60 eval '[ "$(maildir_count "$POSTFIX_MAILDIR")" -ge 26 ]'
	ok "Postfix without CHUNKING: each exactly once, byte for byte (DATA, dot-stuffed)" \
		pmta_check "$EXPECTED"
	ok "Postfix without CHUNKING: DATA, not BDAT" \
		eval 'grep -q " data=" "$POSTFIX_LOG" && ! grep -q "bdat=" "$POSTFIX_LOG"'
	# an unknown recipient: 550 at RCPT, every message stays on the server
	# (three: Postfix slows down after 10 errors, hangs up after 20)
	mkdir -p "$T/three" && cp "$EXPECTED"/msg-0000[123].eml "$T/three"/
	FAKE_MAIL=$T/three fake_start
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes -maildir "smtp=127.0.0.1:$POSTFIX_PORT" \
		"deliver_to=nobody@example.org"
	run_pm
	is "$PM_RC" 74 "Postfix, unknown recipient: exit 74"
	contains "$PM_ERR" "RCPT TO refused: 550" "Postfix, unknown recipient: its 550 shown"
	is "$(count_files "$FAKE_SRV")" 3 "Postfix, unknown recipient: every message stays"
fi

# configuration: a bare host is port 25
write_config none 1 127.0.0.1 -maildir "smtp=mail.example.org"
run_pm --dump-config
is "$PM_RC" 0 "smtp = HOST: loads"
contains "$PM_OUT" "smtp = mail.example.org" "smtp = HOST: --dump-config shows it"
write_config none 1 127.0.0.1 -maildir "smtp=mail.example.org:99999"
run_pm --dump-config
is "$PM_RC" 78 "smtp = HOST:99999: configuration error"
contains "$PM_ERR" "[test] smtp: not a port number" "smtp = HOST:99999: says why"

done_testing
