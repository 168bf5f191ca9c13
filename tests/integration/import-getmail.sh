#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# import-getmail.sh - "pullmail import getmail" with the real getmail6: it
# fetches two accounts (two rc files in one getmaildir) without deleting,
# more mail arrives, the import converts every rc file and getmail's
# oldmail files, and pullmail then delivers exactly the rest (every message
# once across getmail's and pullmail's Maildirs), keeping on one account
# and deleting on the other; passwords from password_command.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need getmail:getmail6 setpriv:util-linux
start_server
. "$(dirname "$0")/import-lib.sh"

add_user pmtwo
MD2=$USER_MD
EXP2=$T/exp2
GM=$PM_HOME/.getmail
mkdir -p "$GM"
for d in old1 old2 Maildir Maildir2; do new_maildir "$T/$d"; done
printf '%s\n' "$POP3_PASS" >"$T/pw"
chmod 0600 "$T/pw"

rc() { # FILE USER MAILDIR DELETE
	cat >"$1" <<EOF
# getmail, as a user might have it
[retriever]
type = SimplePOP3SSLRetriever
server = $POP3_TLS_HOST
port = $POP3S_PORT
username = $2
password_command = ("cat", "$T/pw")
ca_certs = $CA_FILE

[destination]
type = Maildir
path = $3/

[options]
delete = $4
read_all = false
verbose = 0
message_log_syslog = false
delivered_to = false
received = false

[filter-spam]
type = Filter_external
path = /usr/bin/spamc
EOF
}
rc "$GM/getmailrc-keep" "$POP3_USER" "$T/old1" false
rc "$GM/getmailrc-del" pmtwo "$T/old2" true
# the filter would need spamc: getmail runs without it, the import notes it
sed -i '/^\[filter-spam\]/,$d' "$GM/getmailrc-keep"
sed -i '/^\[filter-spam\]/,$d' "$GM/getmailrc-del"
cp "$GM/getmailrc-del" "$T/del-with-filter"
printf '\n[filter-spam]\ntype = Filter_external\npath = /usr/bin/spamc\n' >>"$T/del-with-filter"

# getmail refuses to deliver as root: run it as nobody
run_getmail() {
	local -a pre=()
	if [ "$(id -u)" = 0 ]; then
		chmod 0711 "$T"
		chown -R nobody "$GM" "$T/old1" "$T/old2" "$T/pw" "$PM_HOME"
		pre=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
	fi
	# a copy nobody can read: the source tree may be a private directory
	cp "$(dirname "$TESTLIB")/../contrib/bench/getmail-nohang.py" "$T/getmail-nohang.py"
	chmod 0644 "$T/getmail-nohang.py"
	(cd "$T" && HOME=$PM_HOME timeout 120 "${pre[@]}" "$PYTHON3" \
		"$T/getmail-nohang.py" -q -l \
		--getmaildir "$GM" --rcfile getmailrc-keep --rcfile getmailrc-del 2>&1)
	local rc=$?
	[ "$(id -u)" != 0 ] || chown -R root "$GM" "$T/old1" "$T/old2" "$T/pw" "$PM_HOME"
	return $rc
}

seed 4
seed_user "$MD2" "$EXP2" 3
out=$(GETMAIL=$(command -v getmail) run_getmail)
is "$?" 0 "getmail fetched both accounts" || diag "$out"
is "$(maildir_count "$T/old1")" 4 "getmail delivered 4 of the first account"
is "$(maildir_count "$T/old2")" 3 "getmail delivered 3 of the second"
ok "getmail wrote its oldmail file" test -s "$GM/oldmail-$POP3_TLS_HOST-$POP3S_PORT-$POP3_USER"

seed 2
seed_user "$MD2" "$EXP2" 1

run_pm import -n getmail "$T/del-with-filter"
is "$PM_RC" 0 "import -n of one rc file: exit status 0" || show_pm
contains "$PM_OUT" "[filter-spam]: not carried over (pullmail has no filters" \
	"import -n: a filter is noted as not carried over"
contains "$PM_OUT" "password_command = cat $T/pw" "import -n: password_command carried over"

sed -i "s|$T/old|$T/Maildir|; s|Maildir1|Maildir|" "$GM/getmailrc-keep" "$GM/getmailrc-del"
run_pm import getmail
is "$PM_RC" 0 "import of ~/.getmail: exit status 0" || show_pm
contains "$PM_OUT" "keep: 4 UIDs imported from ~/.getmail/oldmail-" "import: 4 UIDs for the first account"
contains "$PM_OUT" "del: 3 UIDs imported from ~/.getmail/oldmail-" "import: 3 for the second"
is "$(file_mode "$CONFIG")" 600 "import: config mode 0600"

run_pm -c
is "$PM_RC" 0 "-c after import: new mail" || show_pm
contains "$PM_OUT" "keep: 2 new of 6" "-c: the first account has the 2 that arrived later"
contains "$PM_OUT" "del: 1 new of 4" "-c: the second has 1 new"

run_pm
is "$PM_RC" 0 "first pullmail run: exit status 0" || show_pm
ok "keep: every message exactly once across getmail's and pullmail's Maildirs" \
	once_check "$EXPECTED" "$T/old1" "$T/Maildir"
is "$(server_count)" 6 "keep: the server keeps all 6"
ok "delete: every message exactly once (second account)" \
	once_check "$EXP2" "$T/old2" "$T/Maildir2"
is "$(maildir_count "$MD2")" 0 "delete: the second account's server mailbox is empty"

# a damaged oldmail file: one line naming file and line, nothing written
rm -rf "$STATE_DIR"
printf '0000001x\0001700000000\nno-separator\n' \
	>"$GM/oldmail-$POP3_TLS_HOST-$POP3S_PORT-$POP3_USER"
run_pm import -C "$T/other.conf" getmail
is "$PM_RC" 78 "damaged oldmail file: status 78" || show_pm
contains "$PM_ERR" "-$POP3_USER: line 2: expected UID, a NUL byte and a time" \
	"damaged oldmail file: names file and line"
is "$(line_count "$PM_ERR")" 1 "damaged oldmail file: one line"
ok "damaged oldmail file: nothing written" test ! -e "$T/other.conf" -a ! -e "$STATE_DIR"

# a tuple is parsed, never evaluated
printf '[retriever]\ntype = SimplePOP3SSLRetriever\nserver = x\nusername = u\npassword_command = __import__("os").system("touch %s/owned")\n' \
	"$T" >"$T/evil.rc"
run_pm import -n getmail "$T/evil.rc"
is "$PM_RC" 78 "a password_command that is code: refused" || show_pm
is "$PM_ERR" "pullmail: $T/evil.rc: line 5: password_command: not a tuple of strings" \
	"a password_command that is code: one line naming file and line"
ok "a password_command that is code: not run" test ! -e "$T/owned"

done_testing
