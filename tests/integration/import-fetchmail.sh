#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# import-fetchmail.sh - "pullmail import fetchmail" with the real fetchmail:
# it fetches two users of one poll with keep, more mail arrives, the import
# converts ~/.fetchmailrc and ~/.fetchids, and pullmail then delivers
# exactly the rest (every message once across fetchmail's and pullmail's
# Maildirs), keeping on one account and deleting on the other. An IMAP
# poll is left out with a comment.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need fetchmail:fetchmail procmail:procmail
start_server
. "$(dirname "$0")/import-lib.sh"

add_user pmtwo
MD2=$USER_MD
EXP2=$T/exp2
for d in old1 old2 Maildir Maildir2; do new_maildir "$T/$d"; done
for n in old1 old2 Maildir Maildir2; do
	printf 'MAILDIR=%s/\nDEFAULT=$MAILDIR\n' "$T/$n" >"$T/rc-$n"
done

RC=$PM_HOME/.fetchmailrc
cat >"$RC" <<EOF
# fetchmail, as a user might have it
set no bouncemail
set no syslog

poll $POP3_TLS_HOST with proto pop3 and port $POP3S_PORT:
  user "$POP3_USER" there with password "$POP3_PASS" is root here,
    options ssl sslcertfile "$CA_FILE" sslcertck keep no rewrite
    mda "procmail -m $T/rc-old1"
  user pmtwo there with password '$POP3_PASS' is root here
    ssl sslcertfile "$CA_FILE" sslcertck limit 2000000 fetchlimit 500
    mda "procmail -m $T/rc-old2"

skip imap.example.net proto imap user joe password secret
EOF
chmod 0600 "$RC"

seed 4
seed_user "$MD2" "$EXP2" 3
# fetchmail's last run, leaving everything on the server (-k)
out=$(cd "$T" && HOME=$PM_HOME timeout 60 fetchmail -k -f "$RC" 2>&1)
is "$?" 0 "fetchmail fetched both users" || diag "$out"
is "$(maildir_count "$T/old1")" 4 "fetchmail delivered 4 of the first user"
is "$(maildir_count "$T/old2")" 3 "fetchmail delivered 3 of the second"
ok "fetchmail wrote ~/.fetchids" test -s "$PM_HOME/.fetchids"

seed 2
seed_user "$MD2" "$EXP2" 2

run_pm import -n fetchmail
is "$PM_RC" 0 "import -n: exit status 0" || show_pm
lacks "$PM_OUT" "$POP3_PASS" "import -n: no password printed"
contains "$PM_OUT" "proto imap: pullmail speaks POP3 only" "import -n: the IMAP poll is left out, with a comment"
contains "$PM_OUT" "#[imap.example.net]" "import -n: ... as a commented-out section"
contains "$PM_OUT" "skip_larger_than = 2000000" "import -n: limit carried over"
contains "$PM_OUT" "max_messages = 500" "import -n: fetchlimit carried over"

sed -i "s|rc-old|rc-Maildir|; s|rc-Maildir1|rc-Maildir|" "$RC"
run_pm import fetchmail
is "$PM_RC" 0 "import: exit status 0" || show_pm
contains "$PM_OUT" "localhost-pmtest: 4 UIDs imported from ~/.fetchids" "import: 4 UIDs for the first user"
contains "$PM_OUT" "localhost-pmtwo: 3 UIDs imported from ~/.fetchids" "import: 3 for the second"
contains "$PM_OUT" "imap.example.net: not imported" "import: says the IMAP account is not imported"
is "$(file_mode "$CONFIG")" 600 "import: config mode 0600"
contains "$(cat "$CONFIG")" "password = $POP3_PASS" "import: the password carried over"

# each user as fetchmail itself parses the rc file (--configdump)
(cd "$T" && HOME=$PM_HOME fetchmail --configdump -f "$RC" >"$T/dump.py" 2>/dev/null)
want=$("$PYTHON3" -S - "$T/dump.py" <<'EOF'
import sys
g = {}
exec(open(sys.argv[1]).read(), g)
for srv in g["fetchmailrc"]["servers"]:
    if srv["protocol"] != "POP3":
        continue
    for u in srv["users"]:
        name = srv["pollname"] + ("-" + u["remote"] if len(srv["users"]) > 1 else "")
        print(name, srv["via"] or srv["pollname"], srv["service"], u["remote"],
              "implicit" if u["ssl"] else "starttls",
              "yes" if u["keep"] else "no", u["limit"], u["fetchlimit"],
              u["password"], u["sslcertfile"])
EOF
)
run_pm --dump-config
got=$(awk '
	/^\[/ { if (n != "") print n, h, p, u, t, k, l, f, ca
		n = substr($0, 2, length($0) - 2); h = p = u = t = k = ca = ""
		l = f = 0; next }
	$1 == "host" { h = $3 } $1 == "port" { p = $3 } $1 == "user" { u = $3 }
	$1 == "tls" { t = $3 } $1 == "keep" { k = $3 }
	$1 == "skip_larger_than" { l = $3 } $1 == "max_messages" { f = $3 }
	$1 == "ca_file" { ca = $3 }
	END { if (n != "") print n, h, p, u, t, k, l, f, ca }' <<<"$PM_OUT" |
	grep -v "^defaults " |
	while read -r n h p u t k l f ca; do
		# --dump-config hides the password: take it from the file
		pw=$(awk -v s="[$n]" '$0 == s { f = 1; next } /^\[/ { f = 0 }
			f && $1 == "password" { sub(/^[^=]*= */, ""); print }' "$CONFIG")
		echo "$n $h $p $u $t $k $l $f $pw $ca"
	done)
is "$(line_count "$want")" 2 "fetchmail --configdump shows both POP3 users"
is "$got" "$want" "every user's server, port, user, TLS, keep, limit, fetchlimit, password and CA file as fetchmail parses them"

run_pm -c
is "$PM_RC" 0 "-c after import: new mail" || show_pm
contains "$PM_OUT" "localhost-pmtest: 2 new of 6" "-c: the first user has the 2 that arrived later"
contains "$PM_OUT" "localhost-pmtwo: 2 new of 5" "-c: the second has 2 new"

run_pm
is "$PM_RC" 0 "first pullmail run: exit status 0" || show_pm
ok "keep: every message exactly once across fetchmail's and pullmail's Maildirs" \
	once_check "$EXPECTED" "$T/old1" "$T/Maildir"
is "$(server_count)" 6 "keep: the server keeps all 6"
ok "delete: every message exactly once (second user)" \
	once_check "$EXP2" "$T/old2" "$T/Maildir2"
is "$(maildir_count "$MD2")" 0 "delete: the second user's server mailbox is empty"
run_pm
is "$PM_RC" 0 "second run: exit status 0" || show_pm
is "$(maildir_count "$T/Maildir")" 2 "second run: nothing delivered twice"

# after "--", "import" is an account name, as before
run_pm -c -- import
is "$PM_RC" 64 "pullmail -- import: an account name (none here: status 64)" || show_pm
contains "$PM_ERR" "no account [import]" "pullmail -- import: looked up as an account"

# a damaged idfile: one line naming file and line, nothing written
rm -rf "$STATE_DIR"
printf '%s@%s 00000001x\nno-at-sign here\n' "$POP3_USER" "$POP3_TLS_HOST" >"$PM_HOME/.fetchids"
run_pm import -C "$T/other.conf" fetchmail
is "$PM_RC" 78 "damaged idfile: status 78" || show_pm
contains "$PM_ERR" ".fetchids: line 2: expected \"USER@SERVER UID\"" "damaged idfile: names file and line"
is "$(line_count "$PM_ERR")" 1 "damaged idfile: one line"
ok "damaged idfile: nothing written" test ! -e "$T/other.conf" -a ! -e "$STATE_DIR"

# a damaged rc file
printf 'poll x proto pop3 user a frobnicate\n' >"$T/bad.rc"
run_pm import -n fetchmail "$T/bad.rc"
is "$PM_RC" 78 "unknown keyword: status 78" || show_pm
is "$PM_ERR" "pullmail: $T/bad.rc: line 1: unknown keyword frobnicate" "unknown keyword: one line naming file and line"

# nothing that pullmail can fetch: refused, nothing written
rm -f "$PM_HOME/.fetchids"
printf 'poll imap.example.net proto imap user a password b\n' >"$T/imap.rc"
run_pm import -C "$T/other.conf" fetchmail "$T/imap.rc"
is "$PM_RC" 78 "only an IMAP account: status 78" || show_pm
is "$PM_ERR" "pullmail: $T/imap.rc: no account that pullmail can fetch (see why with -n)" \
	"only an IMAP account: says so"
ok "only an IMAP account: nothing written" test ! -e "$T/other.conf"

done_testing
