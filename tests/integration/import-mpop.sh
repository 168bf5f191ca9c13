#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# import-mpop.sh - "pullmail import mpop" with the real mpop: mpop fetches
# with keep, more mail arrives, the import converts ~/.mpoprc and mpop's
# uidls_file, and pullmail then delivers exactly the rest: every message
# once across mpop's and pullmail's Maildirs. Three accounts in one file:
# defaults, "account b : a" inheritance, a password from passwordeval and
# one written in the file; keep on one, delete on the others.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need mpop:mpop
start_server
. "$(dirname "$0")/import-lib.sh"

add_user pmtwo
MD2=$USER_MD
add_user pmthree
MD3=$USER_MD
EXP2=$T/exp2
EXP3=$T/exp3
for d in old1 old2 old3 Maildir Maildir2 Maildir3; do new_maildir "$T/$d"; done
printf '%s\n' "$POP3_PASS" >"$T/pw"
chmod 0600 "$T/pw"

MPOPRC=$PM_HOME/.mpoprc
cat >"$MPOPRC" <<EOF
# mpop, as a user might have it
defaults
tls on
tls_trust_file $CA_FILE
received_header off

account first
host $POP3_TLS_HOST
port $POP3S_PORT
tls_starttls off
user $POP3_USER
passwordeval "cat $T/pw"
keep on
delivery maildir $T/old1
uidls_file $T/uidls/%U_at_%H

# inherits host, port, TLS, passwordeval and uidls_file; deletes
account second : first
user pmtwo
keep off
delivery maildir $T/old2

# mpop's usual way to name the account fetched by default
account default : first

account third : second
user pmthree
password "$POP3_PASS"
passwordeval
proxy_host
delivery maildir $T/old3
EOF
chmod 0600 "$MPOPRC"

seed 5
seed_user "$MD2" "$EXP2" 4
seed_user "$MD3" "$EXP3" 3
# mpop's last run, keeping everything on the server (-k overrides "keep off")
out=$(cd "$T" && HOME=$PM_HOME timeout 60 mpop -q --keep=on -C "$MPOPRC" first second third 2>&1)
is "$?" 0 "mpop fetched every account" || diag "$out"
is "$(maildir_count "$T/old1")" 5 "mpop delivered 5 of the first account"
is "$(maildir_count "$T/old2")" 4 "mpop delivered 4 of the second"
is "$(maildir_count "$T/old3")" 3 "mpop delivered 3 of the third"
ok "mpop wrote its uidls_file" test -s "$T/uidls/${POP3_USER}_at_$POP3_TLS_HOST"

# mail that arrives after mpop's last run must not be lost
seed 3
seed_user "$MD2" "$EXP2" 2
seed_user "$MD3" "$EXP3" 1

# -n prints, writes nothing, and shows no password
run_pm import -n mpop
is "$PM_RC" 0 "import -n: exit status 0" || show_pm
contains "$PM_OUT" "[second]" "import -n: prints the converted accounts"
contains "$PM_OUT" "first: 5 UIDs to import from" "import -n: says what it would import"
lacks "$PM_OUT" "$POP3_PASS" "import -n: the password is not printed"
ok "import -n: no config written" test ! -e "$CONFIG"
ok "import -n: no state written" test ! -e "$STATE_DIR"

# the import, with the default file (~/.mpoprc); Maildirs are the old ones:
# point them at pullmail's own so that each tool's deliveries can be told
# apart
sed -i "s|$T/old|$T/Maildir|; s|Maildir1|Maildir|" "$MPOPRC"
run_pm import mpop
is "$PM_RC" 0 "import: exit status 0" || show_pm
IMPORT_OUT=$PM_OUT
contains "$PM_OUT" "first: 5 UIDs imported from" "import: 5 UIDs for the first account"
contains "$PM_OUT" "second: 4 UIDs imported from" "import: 4 for the second (inherited uidls_file)"
contains "$PM_OUT" "third: 3 UIDs imported from" "import: 3 for the third"
contains "$PM_OUT" "default: not imported" "import: the same mailbox twice is imported once"
contains "$(cat "$CONFIG")" "the same mailbox as [first]" "import: ... and the config says why"
contains "$PM_OUT" "leaves these on the server" "import: says the kept account keeps them"
contains "$PM_OUT" "deletes these from the server" "import: says the others delete them"
is "$(file_mode "$CONFIG")" 600 "import: config written with mode 0600"
contains "$(cat "$CONFIG")" "password_command = cat $T/pw" "import: passwordeval carried over (and inherited)"
contains "$(cat "$CONFIG")" "password = $POP3_PASS" "import: the password in the file carried over"
contains "$(cat "$CONFIG")" "proxy_host (line" "import: a setting not carried over is commented"
is "$(grep -c '^password_command' "$CONFIG")" 2 "import: the empty passwordeval of the third unsets it"
run_pm --dump-config
is "$PM_RC" 0 "the converted config loads" || show_pm
DUMP=$PM_OUT

# each account as mpop itself resolves it (defaults, inheritance)
mp_get() { # ACCOUNT KEY: the value "mpop --pretend" shows
	(cd "$T" && HOME=$PM_HOME mpop --pretend -C "$MPOPRC" "$1" 2>/dev/null) |
		sed -n "s/^$2 = //p"
}
pm_get() { # ACCOUNT KEY: the value "pullmail --dump-config" shows
	awk -v s="[$1]" -v k="$2" '$0 == s { f = 1; next } /^\[/ { f = 0 }
		f && $1 == k { sub(/^[^=]*= /, ""); print; exit }' <<<"$DUMP"
}
for acct in first second third; do
	want_tls=none
	if [ "$(mp_get "$acct" tls)" = on ]; then
		want_tls=implicit
		[ "$(mp_get "$acct" tls_starttls)" = on ] && want_tls=starttls
	fi
	want_keep=no
	[ "$(mp_get "$acct" keep)" = on ] && want_keep=yes
	got="$(pm_get "$acct" host) $(pm_get "$acct" port) $(pm_get "$acct" user) $(pm_get "$acct" tls) $(pm_get "$acct" keep)"
	is "$got" "$(mp_get "$acct" host) $(mp_get "$acct" port) $(mp_get "$acct" user) $want_tls $want_keep" \
		"[$acct]: host, port, user, TLS and keep as mpop resolves them"
	contains "$IMPORT_OUT" "$acct: " "[$acct]: has a summary line"
done
contains "$(sed -n 's/^first: .* from \([^;]*\);.*/\1/p' <<<"$IMPORT_OUT")" \
	"$(mp_get first "uidls file")" "[first]: UIDs from the uidls file mpop uses"
contains "$(sed -n 's/^second: .* from \([^;]*\);.*/\1/p' <<<"$IMPORT_OUT")" \
	"$(mp_get second "uidls file")" "[second]: UIDs from the uidls file mpop uses"

# pullmail -c agrees with what mpop left undelivered
run_pm -c
is "$PM_RC" 0 "-c after import: new mail" || show_pm
contains "$PM_OUT" "first: 3 new of 8" "-c: the first account has the 3 that arrived later"
contains "$PM_OUT" "second: 2 new of 6" "-c: the second has 2 new"
contains "$PM_OUT" "third: 1 new of 4" "-c: the third has 1 new"

run_pm
is "$PM_RC" 0 "first pullmail run: exit status 0" || show_pm
ok "keep: every message exactly once across mpop's and pullmail's Maildirs" \
	once_check "$EXPECTED" "$T/old1" "$T/Maildir"
is "$(maildir_count "$T/Maildir")" 3 "keep: pullmail delivered only the 3 new"
is "$(server_count)" 8 "keep: the server keeps all 8"
ok "delete: every message exactly once (second account)" \
	once_check "$EXP2" "$T/old2" "$T/Maildir2"
is "$(maildir_count "$MD2")" 0 "delete: the second account's server mailbox is empty"
ok "delete: every message exactly once (third account)" \
	once_check "$EXP3" "$T/old3" "$T/Maildir3"
is "$(maildir_count "$MD3")" 0 "delete: the third account's server mailbox is empty"

run_pm -v
is "$PM_RC" 0 "second pullmail run: exit status 0" || show_pm
contains "$PM_OUT" "first: no new messages" "second run: nothing new"
is "$(maildir_count "$T/Maildir")" 3 "second run: nothing delivered twice"

# never replaces a configuration, and says so
cp "$CONFIG" "$T/config.before"
run_pm import mpop
is "$PM_RC" 78 "import again: refused (status 78)" || show_pm
contains "$PM_ERR" "exists, and import never replaces a configuration" "import again: says why"
ok "import again: the config is unchanged" cmp -s "$CONFIG" "$T/config.before"

# a fresh config elsewhere, but the caches exist: refused too
run_pm import -C "$T/other.conf" mpop
is "$PM_RC" 78 "import over existing caches: refused" || show_pm
contains "$PM_ERR" "already has a UIDL cache" "import over existing caches: says why"
ok "import over existing caches: nothing written" test ! -e "$T/other.conf"

# an import that fails half way (the second account locked by a running
# pullmail) undoes what it wrote, and can then simply be run again
rm -rf "$STATE_DIR"
mkdir -p "$STATE_DIR"
"$PYTHON3" -S -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(120)' \
	"$STATE_DIR/second.lock" "$T/locked" &
locker=$!
track_pid "$locker"
wait_for 30 test -e "$T/locked" || bail_out "flock did not take the lock"
run_pm import -C "$T/other.conf" mpop
is "$PM_RC" 74 "second account locked: status 74" || show_pm
contains "$PM_ERR" "second: already being fetched by another pullmail" \
	"second account locked: says why"
contains "$PM_ERR" "nothing was imported" "second account locked: says nothing was imported"
ok "second account locked: the first account's cache is undone" test ! -e "$STATE_DIR/first.uidl"
ok "second account locked: no config written" test ! -e "$T/other.conf"
kill "$locker"
wait "$locker" 2>/dev/null
untrack_pid "$locker"
run_pm import -C "$T/other.conf" mpop
is "$PM_RC" 0 "once unlocked, the same import succeeds" || show_pm
rm -f "$T/other.conf"
# -C before the subcommand, as fetchmail users write it: the same import
# (refused here, as the caches exist now)
for form in "-C $T/other.conf" "-C$T/other.conf" "--config $T/other.conf"; do
	# shellcheck disable=SC2086
	run_pm $form import mpop
	is "$PM_RC" 78 "pullmail $form import mpop: taken as the import" || show_pm
	contains "$PM_ERR" "already has a UIDL cache" "pullmail $form import mpop: the import's answer"
done

# a broken uidls_file: one line naming file and line, nothing written
rm -rf "$STATE_DIR"
printf ' 2 %s %s\nonlyone\n' "$POP3_TLS_HOST" "$POP3_USER" \
	>"$T/uidls/${POP3_USER}_at_$POP3_TLS_HOST"
run_pm import -C "$T/other.conf" mpop
is "$PM_RC" 78 "broken uidls_file: status 78" || show_pm
contains "$PM_ERR" "${POP3_USER}_at_$POP3_TLS_HOST: line 2: too few UIDs" \
	"broken uidls_file: names file and line"
is "$(line_count "$PM_ERR")" 1 "broken uidls_file: one line"
ok "broken uidls_file: nothing written" test ! -e "$T/other.conf" -a ! -e "$STATE_DIR"

done_testing
