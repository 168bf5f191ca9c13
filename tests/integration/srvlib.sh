# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# shellcheck shell=bash
# srvlib.sh - the acceptance scenario of the server suite (issue 10), run
# against one real POP3 server through its adapter (tests/lib/servers/,
# see the README there).  Sourced by tests/integration/srv-NAME.sh:
#
#   SRV=courier; . "$(dirname "$0")/srvlib.sh"
#
# It starts the adapter into $T/srv (a server that cannot start is a
# failure, "Bail out!", never a skip), stops it on exit, and checks, with
# every variant the server supports (from its SRV_* variables):
#
#   delete       51 messages (50 of genmail.py --mix mixed, some MB-sized,
#                and one with raw UTF-8 headers) into a Maildir,
#                byte-exact, the server empty after
#   keep         a fresh account with keep = yes: all, then nothing new,
#                then only the 3 seeded since; keep turned off deletes them
#                without fetching them again
#   check, list  -c agrees with the server; -l lists every message, no "?"
#   serverinfo   --serverinfo shows the capabilities and SRV_MECHS
#   auth-MECH    each SASL mechanism of SRV_MECHS, auth = auto, auth = apop
#                (SRV_APOP), auth = user (SRV_USERPASS): one message each
#   wrongpass    one line on stderr, exit status 77, nothing deleted
#   tls-implicit, stls
#                with ca_file = SRV_CA and host SRV_TLS_HOST: mail arrives;
#   tls-implicit-noca, stls-noca
#                without the private CA: refused (status 77, the
#                certificate named), nothing fetched;
#   plaintext    instead of all four on a server without TLS: tls = none
#                with allow_plaintext
#   mbox, mda    delivery into an mbox (read back with Python's mailbox
#                module) and through procmail into a Maildir, byte-exact
#   concurrent   two pullmail at once on one account (delete mode, 20
#                messages): each message delivered once, the server empty,
#                both exit 0 or one 75 (the account is locked)
#   utf8-maildir, utf8-mbox, utf8-mda
#                the message with raw UTF-8 headers byte-exact in each way
#                of delivery
#   utf8-cmd     where CAPA says UTF8: the UTF8 command (RFC 6856) sent
#                after STLS and before logging in, the message byte-exact
#
# Every check is a TAP check.  A variant the server lacks is no check; it
# is listed as "n/a" in the results file, $SRV_RESULTS if set (else
# $T/results): one line per variant, "VARIANT<TAB>pass|FAIL|n/a" (a
# variant passes when all its checks did), after two comment lines
# "#label<TAB>SRV_LABEL" and "#notes<TAB>SRV_NOTES".  contrib/
# tested-servers.sh turns these into the README's "Tested servers" table.
#
# The base connection of the checks that are not about TLS: implicit TLS
# if the server has it, else STLS, else none (with allow_plaintext).
#
# Environment: see lib.sh (PULLMAIL, TESTLIB, PYTHON3, KEEP_TMP=1);
# SRV_RESULTS; PM_SRVROOT (for the adapters).

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -n "${SRV:-}" ] || bail_out "srvlib.sh: set SRV (the server's adapter name) first"
ADAPTER=$TESTLIB/servers/$SRV.sh
SRVDIR=$T/srv
RESULTS=${SRV_RESULTS:-$T/results}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
SETS=$T/sets

# ------------------------------------------------------------ the server

_srv_started=0
_srv_stop() {
	if [ "$_srv_started" = 1 ]; then
		bash "$ADAPTER" stop "$SRVDIR" >/dev/null 2>&1 || true
		_srv_started=0
	fi
}
# shellcheck disable=SC2154 # _rc is set in the trap itself
trap '_rc=$?; _srv_stop; (exit $_rc); _cleanup' EXIT

srv() { # SUBCOMMAND ARG...: the adapter on this instance
	local cmd=$1
	shift
	bash "$ADAPTER" "$cmd" "$SRVDIR" "$@"
}

# srv_count: messages on the server ("?" if the adapter cannot tell)
srv_count() {
	local n
	if ! n=$(srv count 2>"$T/count.err") || [ -z "$n" ]; then
		diag "$SRV.sh count failed: $(cat "$T/count.err")"
		n="?"
	fi
	echo "$n"
}

[ -f "$ADAPTER" ] || bail_out "no adapter $ADAPTER"
: >"$RESULTS" || bail_out "cannot write $RESULTS"
_srv_started=1
if ! srv start >"$T/srv-start.log" 2>&1; then
	diag "$(cat "$T/srv-start.log")"
	bail_out "$SRV: the server could not be started"
fi
# shellcheck disable=SC1091
. "$SRVDIR/env" || bail_out "cannot read $SRVDIR/env"
for _v in SRV_NAME SRV_LABEL SRV_HOST SRV_TLS_HOST SRV_PORT SRV_STLS SRV_TLS_PORT \
	SRV_CA SRV_USER SRV_PASS SRV_USERPASS SRV_APOP SRV_MECHS SRV_UTF8 \
	SRV_PIPELINING SRV_LOG SRV_PID SRV_NOTES SRV_ADDS_FIELDS SRV_QUOTES_FROM; do
	[ -n "${!_v+set}" ] || bail_out "$SRVDIR/env does not set $_v"
done
printf '#label\t%s\n#notes\t%s\n' "$SRV_LABEL" "$SRV_NOTES" >>"$RESULTS"
diag "$SRV_LABEL on $SRV_HOST:$SRV_PORT (STLS: $SRV_STLS, TLS port: ${SRV_TLS_PORT:-none})" \
	"mechanisms: ${SRV_MECHS:-none}; APOP: $SRV_APOP; USER: $SRV_USERPASS;" \
	"UTF8: $SRV_UTF8; PIPELINING: $SRV_PIPELINING"

# what the server itself changes in the messages it sends (README of
# tests/lib/servers): not pullmail's doing, so compared that way
MC_SERVER=()
for _f in $SRV_ADDS_FIELDS; do
	MC_SERVER+=(--strip-field "$_f")
done
[ "$SRV_QUOTES_FROM" = yes ] && MC_SERVER+=(--quote-from)

# write_config and friends (lib.sh) take these
POP3_USER=$SRV_USER
POP3_PASS=$SRV_PASS
CA_FILE=$SRV_CA

HAVE_TLS=no
if [ -n "$SRV_TLS_PORT" ] || [ "$SRV_STLS" = yes ]; then
	HAVE_TLS=yes
fi
if [ -n "$SRV_TLS_PORT" ]; then
	BASE=(implicit "$SRV_TLS_PORT" "$SRV_TLS_HOST")
elif [ "$SRV_STLS" = yes ]; then
	BASE=(starttls "$SRV_PORT" "$SRV_TLS_HOST")
else
	BASE=(none "$SRV_PORT" "$SRV_HOST" allow_plaintext=yes)
fi

# ------------------------------------------------------------ variants

_v_name=
_v_failed0=0
_v_n0=0

# v_begin VARIANT: the checks that follow, up to v_end, make up VARIANT
v_begin() {
	_v_name=$1
	_v_failed0=$_tap_failed
	_v_n0=$_tap_n
	diag "--- $1"
}

# v_end: record the variant begun last: pass if it had checks and all passed
v_end() {
	local r=pass
	if [ "$_tap_failed" -ne "$_v_failed0" ] || [ "$_tap_n" -eq "$_v_n0" ]; then
		r=FAIL
	fi
	printf '%s\t%s\n' "$_v_name" "$r" >>"$RESULTS"
	_v_name=
}

# v_na VARIANT REASON: a variant this server does not have (no check)
v_na() {
	printf '%s\tn/a\n' "$1" >>"$RESULTS"
	diag "--- $1: n/a ($2)"
}

# ------------------------------------------------------------ mail

_gen_n=0

# gen_set NAME N MIX [UTF8]: $SETS/NAME, N messages of genmail.py --mix MIX
# (a seed of their own) and, with UTF8, one with raw UTF-8 headers last
gen_set() {
	local name=$1 n=$2 mix=$3 d=$SETS/$1
	_gen_n=$((_gen_n + 1))
	mkdir -p "$d" || bail_out "mkdir $d failed"
	if [ "$n" -gt 0 ]; then
		"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$d" --count "$n" \
			--seed $((20261000 + _gen_n)) --mix "$mix" >/dev/null ||
			bail_out "genmail.py failed"
	fi
	if [ "${4:-}" = UTF8 ]; then
		utf8_msg "$name" >"$d/msg-zz-utf8.eml" || bail_out "cannot write $d/msg-zz-utf8.eml"
	fi
}

# utf8_msg TAG: a message with raw (unencoded) UTF-8 in From, Subject and
# body (RFC 6532), as the "utf8_8bit" kind of genmail.py's edge mix
utf8_msg() {
	cat <<EOF
Return-Path: <juergen.gross@example.org>
Received: from mx.example.org (mx.example.org [192.0.2.7])
	by mail.example.org with ESMTPS id utf8$1
	for <pmtest@example.org>; Mon, 08 Jan 2024 10:00:00 +0000
From: Jürgen Groß <juergen.gross@example.org>
To: Test <pmtest@example.org>
Subject: Grüße aus Köln – 日本語 ☃ ($1)
Date: Mon, 08 Jan 2024 10:00:00 +0000
Message-ID: <utf8-$1.srvlib@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Raw UTF-8 in the header and in the body: Grüße, naïve café, 日本語, ☃.
Zweite Zeile: Äpfel, Öl, Übermut, ß.
EOF
}

# seed_set NAME...: add the sets' messages to the server, in order
seed_set() {
	local s
	for s; do
		srv seed "$SETS/$s" >"$T/seed.log" 2>&1 || {
			diag "$(cat "$T/seed.log")"
			bail_out "$SRV.sh seed $s failed"
		}
	done
}

# set_size NAME: number of messages in the set
set_size() {
	count_files "$SETS/$1"
}

# purge: make sure the server is empty before a new part begins (after a
# failure that left mail there): fetch and delete with an account of its own
_purge_n=0
purge() {
	local n
	n=$(srv_count)
	[ "$n" = 0 ] && return 0
	_purge_n=$((_purge_n + 1))
	diag "$n messages left on the server: purging them"
	acct_config purge$_purge_n maildir="$T/purged"
	run_pm "purge$_purge_n"
	n=$(srv_count)
	if [ "$n" != 0 ]; then
		diag "still $n messages on the server after purging"
		show_pm
	fi
}

# mc SET (--maildir DIR | --mbox FILE): mailcheck.py against SET (byte for
# byte, but for pullmail's Received: line); output in MC_OUT, diag on failure
mc() {
	local set=$SETS/$1 rc
	shift
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$set" "$@" \
		--strip-received "${MC_SERVER[@]}" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] || diag "$MC_OUT"
	return "$rc"
}

# utf8_exact SET (--maildir DIR | --mbox FILE): SET's UTF-8 message was
# delivered exactly once, byte for byte (but for pullmail's Received: line)
utf8_exact() {
	"$PYTHON3" -S - "$TESTLIB" "$SETS/$1/msg-zz-utf8.eml" "$2" "$3" \
		"${SRV_ADDS_FIELDS:-}" "${SRV_QUOTES_FROM:-no}" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import mailcheck
want = open(sys.argv[2], "rb").read()
fields = {f.lower() for f in sys.argv[5].split()}
if sys.argv[6] == "yes":
    want = mailcheck.quote_from(want)
msgs = (mailcheck.read_maildir if sys.argv[3] == "--maildir" else mailcheck.read_mbox)(sys.argv[4])
got = [mailcheck.strip_fields(mailcheck.strip_received(d), fields) for _, d in msgs]
n = got.count(want)
if n == 1:
    sys.exit(0)
print("# the UTF-8 message was delivered %d times byte-exact" % n)
mid = [l for l in want.split(b"\n") if l.startswith(b"Message-ID:")][0]
for d in got:
    if mid in d:
        i = next((k for k in range(min(len(d), len(want))) if d[k] != want[k]), min(len(d), len(want)))
        print("# a delivered copy (%d bytes, %d expected) differs at byte %d: %r vs %r"
              % (len(d), len(want), i, d[max(0, i - 20):i + 40], want[max(0, i - 20):i + 40]))
sys.exit(1)
EOF
}

# utf8_order TRACE: in the -vv trace TRACE, "> UTF8" was sent once, after
# "> STLS" (if any) and before the first login command
utf8_order() {
	awk '
		/^pullmail: [^ ]*: > STLS$/ { stls = NR }
		/^pullmail: [^ ]*: > UTF8$/ { n++; utf8 = NR }
		/^pullmail: [^ ]*: > (AUTH|USER|APOP) / && !login { login = NR }
		END {
			if (n != 1) { print "# UTF8 sent " n + 0 " times"; exit 1 }
			if (stls && utf8 < stls) { print "# UTF8 before STLS"; exit 1 }
			if (!login || login < utf8) { print "# UTF8 not before the login"; exit 1 }
		}' "$1"
}

# ------------------------------------------------------------ config

# acct_config NAME [KEY=VALUE | -KEY]...: $CONFIG with the one account NAME
# on the base connection (see the top), user and password from SRV_*
acct_config() {
	local name=$1
	shift
	ACCOUNT=$name write_config "${BASE[@]}" "$@"
}

# conn_config NAME TLS PORT HOST [KEY=VALUE | -KEY]...: the same on a
# connection of its own
conn_config() {
	local name=$1
	shift
	ACCOUNT=$name write_config "$@"
}

# pm_bg NAME ARG...: run pullmail as run_pm does, in the background, its
# output in $T/NAME.out and $T/NAME.err; the pid in PM_BG_PID
pm_bg() {
	local name=$1
	shift
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		timeout -k 2 60 "$PULLMAIL" "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err") &
	PM_BG_PID=$!
	track_pid "$PM_BG_PID"
}

# fetched_ok DESC SET MAILDIR: the last run exited 0, delivered SET into
# MAILDIR byte for byte and left the server empty
fetched_ok() {
	local desc=$1 set=$2 md=$3
	is "$PM_RC" 0 "$desc: exit status 0" || show_pm
	ok "$desc: all $(set_size "$set") message(s) arrived byte-exact" mc "$set" --maildir "$md"
	is "$(srv_count)" 0 "$desc: the server is empty"
}

# refused_tls_ok DESC SET MAILDIR: the last run failed on the certificate
# (status 77, one line naming it), fetched nothing and left SET on the server
refused_tls_ok() {
	local desc=$1 set=$2 md=$3
	is "$PM_RC" 77 "$desc: exit status 77" || show_pm
	contains "$PM_ERR" "certificate" "$desc: the error names the certificate"
	is "$(maildir_count "$md")" 0 "$desc: nothing delivered"
	is "$(srv_count)" "$(set_size "$set")" "$desc: the server still holds the message"
}

# =================================================== delete, -c, -l, info

gen_set main 50 mixed UTF8
seed_set main
N_MAIN=$(set_size main)
MD=$T/md-main
acct_config test maildir="$MD"

# -c
v_begin check
run_pm -c test
is "$PM_RC" 0 "-c: exit status 0 (new mail)" || show_pm
n_srv=$(srv_count)
is "$n_srv" "$N_MAIN" "the server holds the $N_MAIN messages seeded"
if [[ $PM_OUT =~ ^test:\ ([0-9]+)\ new\ of\ ([0-9]+)\  ]]; then
	is "${BASH_REMATCH[2]}" "$n_srv" "-c: the count agrees with the server"
	is "${BASH_REMATCH[1]}" "$n_srv" "-c: every message is new"
else
	ok "-c: a line 'test: N new of M'" false
	diag "stdout: $PM_OUT"
fi
v_end

# -l
v_begin list
run_pm -l test
is "$PM_RC" 0 "-l: exit status 0" || show_pm
printf '%s\n' "$PM_OUT" | awk '$1 ~ /^[0-9]+$/' >"$T/list.rows"
is "$(awk '{ print $1 }' "$T/list.rows" | sort -n | tr '\n' ' ')" \
	"$(seq 1 "$N_MAIN" | tr '\n' ' ')" "-l: a row for each of the $N_MAIN messages"
# NUM SIZE UNIT DATE STATE FROM... SUBJECT: TOP refused shows "?" there
bad_rows=$(awk '$4 !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ || $5 !~ /^(new|seen)$/ || $6 == "?"' "$T/list.rows")
is "$bad_rows" "" "-l: no row with '?' columns (every date and sender shown)"
contains "$PM_OUT" "Grüße aus Köln – 日本語 ☃ (main)" "-l: the raw UTF-8 subject is shown as it is"
contains "$PM_OUT" "Jürgen Groß" "-l: the raw UTF-8 sender is shown as it is"
v_end

# --serverinfo
v_begin serverinfo
run_pm --serverinfo test
is "$PM_RC" 0 "--serverinfo: exit status 0" || show_pm
contains "$PM_OUT" "  capabilities  " "--serverinfo: shows the capabilities"
sasl_line=$(printf '%s\n' "$PM_OUT" | sed -n 's/^  SASL  *//p')
for m in $SRV_MECHS; do
	contains " $sasl_line " " $m " "--serverinfo: the SASL line names $m"
done
if [ "$SRV_PIPELINING" = yes ]; then
	contains "$PM_OUT" "  pipelining    yes" "--serverinfo: pipelining yes"
fi
if [ "$SRV_UTF8" = yes ]; then
	ok "--serverinfo: the capabilities include UTF8" grep -Eq '^ +(capabilities +)?UTF8( |$)' "$T/pm.out"
fi
if [ "$SRV_APOP" = yes ]; then
	contains "$PM_OUT" "  APOP          offered" "--serverinfo: APOP offered"
fi
if [ "$HAVE_TLS" = yes ]; then
	contains "$PM_OUT" "  verified      yes" "--serverinfo: the certificate verifies with SRV_CA"
fi
v_end

# wrong password
v_begin wrongpass
acct_config wrong maildir="$T/md-wrong" password="\"not-$SRV_PASS\""
run_pm wrong
is "$PM_RC" 77 "wrong password: exit status 77" || show_pm
is "$(line_count "$PM_ERR")" 1 "wrong password: one line on stderr" || show_pm
contains "$PM_ERR" "login refused" "wrong password: the line says the login was refused"
is "$(maildir_count "$T/md-wrong")" 0 "wrong password: nothing delivered"
is "$(srv_count)" "$N_MAIN" "wrong password: nothing deleted on the server"
v_end

# delete
v_begin delete
acct_config test maildir="$MD"
run_pm test
fetched_ok "delete" main "$MD"
v_end
v_begin utf8-maildir
ok "the UTF-8 message byte-exact in the Maildir" utf8_exact main --maildir "$MD"
v_end

# the UTF8 command (RFC 6856), where CAPA offers it: sent after STLS (on
# the STLS port if there is one) and before logging in
if [ "$SRV_UTF8" = yes ]; then
	purge
	gen_set utf8cmd 0 small UTF8
	seed_set utf8cmd
	v_begin utf8-cmd
	if [ "$SRV_STLS" = yes ]; then
		conn_config utf8cmd starttls "$SRV_PORT" "$SRV_TLS_HOST" maildir="$T/md-utf8cmd"
	else
		acct_config utf8cmd maildir="$T/md-utf8cmd"
	fi
	run_pm -vv utf8cmd
	fetched_ok "UTF8" utf8cmd "$T/md-utf8cmd"
	ok "UTF8: sent (after STLS) before logging in" utf8_order "$T/pm.err"
	ok "UTF8: the message byte-exact" utf8_exact utf8cmd --maildir "$T/md-utf8cmd"
	v_end
else
	v_na utf8-cmd "CAPA has no UTF8"
fi

# =================================================== logging in

# auth_one VARIANT AUTH-VALUE TRACE-FRAGMENT: one message, fetched with auth
# = AUTH-VALUE; the -vv trace must contain TRACE-FRAGMENT (the command)
auth_one() {
	local v=$1 a=$2 frag=$3 md=$T/md-$1
	purge
	gen_set "$v" 1 small
	seed_set "$v"
	v_begin "$v"
	acct_config "$v" maildir="$md" auth="$a"
	run_pm -vv "$v"
	fetched_ok "auth = $a" "$v" "$md"
	if [ -n "$frag" ]; then
		ok "auth = $a: the trace shows '$frag'" grep -qF -- "$frag" "$T/pm.err"
	else
		ok "auth = $a: the trace says which mechanism" grep -q "logging in with" "$T/pm.err"
		diag "$(grep -h "logging in with" "$T/pm.err")"
	fi
	v_end
}

declare -A PM_MECH=([PLAIN]=plain [LOGIN]=login [CRAM-MD5]=cram-md5
	[SCRAM-SHA-1]=scram-sha-1 [SCRAM-SHA-256]=scram-sha-256)
for m in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256; do
	a=${PM_MECH[$m]}
	if [[ " $SRV_MECHS " == *" $m "* ]]; then
		auth_one "auth-$a" "$a" "> AUTH $m"
	else
		v_na "auth-$a" "the server does not offer $m"
	fi
done
for m in $SRV_MECHS; do
	[ -n "${PM_MECH[$m]+set}" ] ||
		v_na "auth-${m,,}" "pullmail has no $m (XOAUTH2, OAUTHBEARER need a token, EXTERNAL a client certificate)"
done
auth_one auth-auto auto ""
if [ "$SRV_APOP" = yes ]; then
	auth_one auth-apop apop "> APOP ***"
else
	v_na auth-apop "the server does not offer APOP"
fi
if [ "$SRV_USERPASS" = yes ]; then
	auth_one auth-user user "> USER $SRV_USER"
else
	v_na auth-user "the server does not take USER/PASS"
fi

# =================================================== TLS

# tls_pair VARIANT TLS PORT: first without the private CA (refused, nothing
# fetched), then with it (the message arrives)
tls_pair() {
	local v=$1 tls=$2 port=$3 md=$T/md-$1
	purge
	gen_set "$v" 1 small
	seed_set "$v"
	v_begin "$v-noca"
	conn_config "$v" "$tls" "$port" "$SRV_TLS_HOST" -ca_file maildir="$md"
	run_pm "$v"
	refused_tls_ok "$tls without the private CA" "$v" "$md"
	v_end
	v_begin "$v"
	conn_config "$v" "$tls" "$port" "$SRV_TLS_HOST" maildir="$md"
	run_pm "$v"
	fetched_ok "$tls with ca_file" "$v" "$md"
	v_end
}

if [ -n "$SRV_TLS_PORT" ]; then
	tls_pair tls-implicit implicit "$SRV_TLS_PORT"
else
	v_na tls-implicit "no implicit TLS port"
	v_na tls-implicit-noca "no implicit TLS port"
fi
if [ "$SRV_STLS" = yes ]; then
	tls_pair stls starttls "$SRV_PORT"
else
	v_na stls "no STLS"
	v_na stls-noca "no STLS"
fi
if [ "$HAVE_TLS" = no ]; then
	purge
	gen_set plaintext 1 small
	seed_set plaintext
	v_begin plaintext
	conn_config plaintext none "$SRV_PORT" "$SRV_HOST" allow_plaintext=yes maildir="$T/md-plaintext"
	run_pm plaintext
	fetched_ok "tls = none, allow_plaintext" plaintext "$T/md-plaintext"
	v_end
fi

# =================================================== mbox, MDA

purge
gen_set mbox 10 mixed UTF8
seed_set mbox
v_begin mbox
MBOX=$T/mail.mbox
acct_config mbox -maildir mbox="$MBOX"
run_pm mbox
is "$PM_RC" 0 "mbox: exit status 0" || show_pm
ok "mbox: the $(set_size mbox) messages arrived byte-exact" mc mbox --mbox "$MBOX"
is "$(srv_count)" 0 "mbox: the server is empty"
v_end
v_begin utf8-mbox
ok "the UTF-8 message byte-exact in the mbox" utf8_exact mbox --mbox "$MBOX"
v_end

purge
gen_set mda 10 mixed UTF8
seed_set mda
v_begin mda
MDA_MD=$T/md-mda
mkdir -p "$MDA_MD/new" "$MDA_MD/cur" "$MDA_MD/tmp"
# shellcheck disable=SC2016 # $MAILDIR is procmail's
printf 'MAILDIR=%s/\nDEFAULT=$MAILDIR\n' "$MDA_MD" >"$T/procmailrc"
acct_config mda -maildir "mda=procmail -m $T/procmailrc"
run_pm mda
fetched_ok "mda (procmail)" mda "$MDA_MD"
v_end
v_begin utf8-mda
ok "the UTF-8 message byte-exact through procmail" utf8_exact mda --maildir "$MDA_MD"
v_end

# =================================================== keep

purge
gen_set keep1 10 small
gen_set keep2 3 small
mkdir -p "$SETS/keepall"
cp "$SETS/keep1"/* "$SETS/keepall/"
for f in "$SETS/keep2"/*; do cp "$f" "$SETS/keepall/new-${f##*/}"; done
seed_set keep1
v_begin keep
KMD=$T/md-keep
acct_config keep maildir="$KMD" keep=yes
run_pm -v keep
is "$PM_RC" 0 "keep: exit status 0" || show_pm
ok "keep: all 10 messages arrived byte-exact" mc keep1 --maildir "$KMD"
is "$(srv_count)" 10 "keep: all 10 stay on the server"
run_pm -v keep
is "$PM_RC" 0 "keep, again: exit status 0" || show_pm
contains "$PM_OUT" "no new messages" "keep, again: no new messages"
is "$(maildir_count "$KMD")" 10 "keep, again: nothing delivered"
is "$(srv_count)" 10 "keep, again: all 10 stay on the server"
seed_set keep2
run_pm -v keep
is "$PM_RC" 0 "keep, 3 more: exit status 0" || show_pm
contains "$PM_OUT" "3 new messages" "keep, 3 more: 3 new messages"
ok "keep, 3 more: only those 3 arrived (13 in all, each once)" mc keepall --maildir "$KMD"
is "$(srv_count)" 13 "keep, 3 more: all 13 stay on the server"
acct_config keep maildir="$KMD" keep=no
run_pm -v keep
is "$PM_RC" 0 "keep turned off: exit status 0" || show_pm
is "$(srv_count)" 0 "keep turned off: the 13 are deleted from the server"
is "$(maildir_count "$KMD")" 13 "keep turned off: none of them fetched again"
v_end

# =================================================== two at once

purge
gen_set twice 20 small
seed_set twice
v_begin concurrent
TMD=$T/md-twice
acct_config twice maildir="$TMD"
pm_bg pm1 twice
pid1=$PM_BG_PID
pm_bg pm2 twice
pid2=$PM_BG_PID
wait "$pid1"
rc1=$?
untrack_pid "$pid1"
wait "$pid2"
rc2=$?
untrack_pid "$pid2"
diag "exit statuses $rc1 and $rc2" "first: $(cat "$T/pm1.err")" "second: $(cat "$T/pm2.err")"
case "$rc1 $rc2" in
"0 0" | "0 75" | "75 0") rcs_ok=1 ;;
*) rcs_ok=0 ;;
esac
ok "two at once: both exit 0, or one 0 and one 75 (got $rc1 and $rc2)" test "$rcs_ok" = 1
if [ "$rc1" = 75 ]; then
	contains "$(cat "$T/pm1.err")" "already being fetched" "two at once: the one with 75 found the account locked"
elif [ "$rc2" = 75 ]; then
	contains "$(cat "$T/pm2.err")" "already being fetched" "two at once: the one with 75 found the account locked"
fi
ok "two at once: each of the 20 messages delivered once, byte-exact" mc twice --maildir "$TMD"
is "$(srv_count)" 0 "two at once: the server is empty"
v_end

done_testing
