#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# uidl.sh - the UIDL cache against servers that reuse and share UIDLs:
#  - Dovecot handing a deleted message's UIDL to a new message (mailbox
#    recreated with the same UIDVALIDITY), six rounds: every message
#    delivered, none deleted unread;
#  - copies sharing one UIDL (popa3d does that for identical messages) in
#    delete, keep and keep_days modes, after a failed session, and with one
#    copy deleted by another client: each delivered once, one notice a run;
#  - QUIT failing or its reply lost: deletions restored, then a reused UID
#    (another size) is fetched and a message still there (same size) is
#    deleted without being fetched again;
#  - UIDs no server should send (blanks, control bytes, 8-bit, too long).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need faketime:faketime
UIDL=$STATE_DIR/$ACCOUNT.uidl

# ------------------------------------------------- Dovecot reusing UIDLs

start_server
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
M=$SERVER_MAILDIR

# reset_mailbox: empty the server's mailbox and make Dovecot number the
# next messages from 1 again under the same UIDVALIDITY, so that they get
# the UIDLs (%08Xu%08Xv) of the messages deleted before
reset_mailbox() {
	local head owner
	head=$(head -n 1 "$M/dovecot-uidlist") || bail_out "no dovecot-uidlist"
	owner=$(stat -c %u:%g "$M/dovecot-uidlist")
	rm -f "$M"/cur/* "$M"/new/* "$M"/dovecot.index*
	printf '%s\n' "$head" | sed 's/ N[0-9]*/ N1/' >"$M/dovecot-uidlist"
	chown "$owner" "$M/dovecot-uidlist"
}

# uidls: the server's UIDL listing now, one "NUM UID" a line
uidls() {
	"$PYTHON3" -S - "$POP3_PORT" "$POP3_USER" "$POP3_PASS" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
for c in (b"USER " + sys.argv[2].encode(), b"PASS " + sys.argv[3].encode()):
    s.sendall(c + b"\r\n")
    f.readline()
s.sendall(b"UIDL\r\n")
f.readline()
while True:
    line = f.readline().rstrip(b"\r\n")
    if line == b".":
        break
    print(line.decode())
s.sendall(b"QUIT\r\n")
f.readline()
EOF
}

seed 2
first=$(uidls)
run_pm
is "$PM_RC" 0 "reuse, round 1: exit status 0" || show_pm
is "$(maildir_count)" 2 "reuse, round 1: 2 delivered"
is "$(server_count)" 0 "reuse, round 1: server empty"
for round in 2 3 4 5 6; do
	reset_mailbox
	seed 2
	is "$(uidls)" "$first" "reuse, round $round: Dovecot gives the new messages the old UIDLs"
	run_pm
	is "$PM_RC" 0 "reuse, round $round: exit status 0" || show_pm
	is "$(maildir_count)" $((round * 2)) "reuse, round $round: the 2 new ones delivered" || show_pm
	is "$(server_count)" 0 "reuse, round $round: server empty"
done
ok "reuse: every one of the 12 messages delivered exactly once" mailcheck
# What the cache holds after a session whose QUIT was answered: nothing of
# the deleted messages (forgotten, durably, before QUIT was sent).
is "$(grep -c '^+ ' "$UIDL")" "$(grep -c '^- ' "$UIDL")" \
	"reuse: every UID recorded was forgotten again"

# ---------------------------------------------------- fakepop: copies

FAKE_MAIL=$T/dupmail
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 6 --seed 77 ||
	bail_out "genmail.py failed"
names=$(cd "$FAKE_MAIL" && ls)
UIDS=$T/uids
# messages 1, 3 and 5 share the UID "same" (as popa3d would for copies)
set_uids() { # NAME=UID...
	local kv
	: >"$UIDS"
	for kv; do printf '%s\t%s\n' "${kv%%=*}" "${kv#*=}" >>"$UIDS"; done
}
n1=$(echo "$names" | sed -n 1p) n3=$(echo "$names" | sed -n 3p) n5=$(echo "$names" | sed -n 5p)

fake_config() { # KEY=VALUE...
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' \
		allow_plaintext=yes "maildir=$FAKE_MD" "$@"
}
# delivered: messages in the case's Maildir
delivered() { maildir_count "$FAKE_MD"; }
# fake_check: the case's Maildir against the originals, duplicates refused
fake_check() {
	local rc
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$FAKE_MAIL" \
		--maildir "$FAKE_MD" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}
notice_re='message 1 and 2 others have the same UID same: each is fetched once'

# delete mode
set_uids "$n1=same" "$n3=same" "$n5=same"
fake_start --uid-file "$UIDS"
fake_config
run_pm
is "$PM_RC" 0 "copies, delete: exit status 0" || show_pm
is "$(grep -c 'have the same UID' <<<"$PM_ERR")" 1 "copies, delete: one notice"
contains "$PM_ERR" "$notice_re" "copies, delete: the notice names the UID"
ok "copies, delete: every message delivered exactly once" fake_check
is "$(count_files "$FAKE_SRV")" 0 "copies, delete: server empty"

# keep mode: each copy once, then never again; a new copy is new; a copy
# deleted by another client makes nothing come again
fake_start --uid-file "$UIDS"
fake_config keep=yes
run_pm
is "$PM_RC" 0 "copies, keep: exit status 0" || show_pm
ok "copies, keep: every message delivered exactly once" fake_check
run_pm
is "$PM_RC" 0 "copies, keep, again: exit status 0" || show_pm
is "$(delivered)" 6 "copies, keep, again: nothing delivered again"
contains "$PM_ERR" "$notice_re" "copies, keep, again: the notice again"
cp "$FAKE_MAIL/$n3" "$FAKE_SRV/zz-copy.eml"
cp "$FAKE_MAIL/$n3" "$T/zz-copy.eml"
set_uids "$n1=same" "$n3=same" "$n5=same" "zz-copy.eml=same"
run_pm
is "$(delivered)" 7 "copies, keep: a fourth copy arrives: delivered" || show_pm
rm "$FAKE_SRV/$n1"
run_pm
is "$PM_RC" 0 "copies, keep, one deleted elsewhere: exit status 0" || show_pm
is "$(delivered)" 7 "copies, keep, one deleted elsewhere: nothing delivered again"
is "$(count_files "$FAKE_SRV")" 6 "copies, keep, one deleted elsewhere: 6 left on the server"

# keep_days: copies expire like the rest, none fetched again
fake_start --uid-file "$UIDS"
set_uids "$n1=same" "$n3=same" "$n5=same"
fake_config keep_days=2
run_pm
is "$(delivered)" 6 "copies, keep_days: each delivered once" || show_pm
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	timeout -k 2 25 faketime '+3 days' "$PULLMAIL" </dev/null >"$T/pm.out" 2>"$T/pm.err")
PM_RC=$? PM_ERR=$(cat "$T/pm.err")
is "$PM_RC" 0 "copies, keep_days, 3 days later: exit status 0" || show_pm
is "$(delivered)" 6 "copies, keep_days, 3 days later: none fetched again"
is "$(count_files "$FAKE_SRV")" 0 "copies, keep_days, 3 days later: all deleted"

# a failed session in the middle (after copy 2 of 3), then a clean one
fake_start --uid-file "$UIDS" --fault drop-after-retr=4
fake_config
run_pm
is "$PM_RC" 75 "copies, session lost: exit status 75" || show_pm
run_pm
is "$PM_RC" 0 "copies, session lost, next run: exit status 0" || show_pm
ok "copies, session lost: every message delivered exactly once" fake_check
is "$(count_files "$FAKE_SRV")" 0 "copies, session lost: server empty"

# ------------------------------------------------- fakepop: QUIT fails

# QUIT carried out, its reply lost: the deletions are restored; then a
# message that takes a deleted UID (another size) is new, and fetched
set_uids
fake_start --uid-file "$UIDS" --fault quit-commits-then-drop
fake_config
run_pm
is "$PM_RC" 75 "QUIT reply lost: exit status 75" || show_pm
contains "$PM_ERR" "the server may not have carried out the 6 deletions; nothing is lost" \
	"QUIT reply lost: the error says what it means"
is "$(count_files "$FAKE_SRV")" 0 "QUIT reply lost: the server did delete them"
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$T/second" --count 1 --seed 99 --first 40 ||
	bail_out "genmail.py failed"
new=$(ls "$T/second")
cp "$T/second/$new" "$FAKE_SRV/"
set_uids "$new=$n1"
: >"$FAKE_LOG"
run_pm
is "$PM_RC" 0 "UID reused after a lost QUIT reply: exit status 0" || show_pm
is "$(delivered)" 7 "UID reused after a lost QUIT reply: the new message delivered" || show_pm
is "$(count_files "$FAKE_SRV")" 0 "UID reused after a lost QUIT reply: and deleted"

# QUIT never reached the server: the same messages are still there (same
# sizes) and are deleted without being fetched again
set_uids
fake_start --uid-file "$UIDS" --fault drop-before-quit-reply
fake_config
run_pm
is "$PM_RC" 75 "QUIT lost: exit status 75" || show_pm
contains "$PM_ERR" "nothing is lost: the next run deletes what is still there" \
	"QUIT lost: the error says nothing is lost"
is "$(count_files "$FAKE_SRV")" 6 "QUIT lost: the server kept them"
: >"$FAKE_LOG"
run_pm
is "$PM_RC" 0 "QUIT lost, next run: exit status 0" || show_pm
is "$(grep -c '^C: RETR' "$FAKE_LOG")" 0 "QUIT lost, next run: nothing fetched again"
is "$(count_files "$FAKE_SRV")" 0 "QUIT lost, next run: all deleted"
ok "QUIT lost: every message delivered exactly once" fake_check

# ------------------------------------------------ fakepop: odd UIDs

n2=$(echo "$names" | sed -n 2p) n4=$(echo "$names" | sed -n 4p)
long=$(printf 'L%.0s' $(seq 90))
fake_start --uid-file "$UIDS"
set_uids "$n1=with blank" "$n2=ctl\\x01byte" "$n3=8bit\\xe9" "$n4=$long" "$n5=with blank"
fake_config keep=yes
run_pm
is "$PM_RC" 0 "odd UIDs: exit status 0" || show_pm
ok "odd UIDs: every message delivered exactly once" fake_check
run_pm
is "$PM_RC" 0 "odd UIDs, again: exit status 0" || show_pm
is "$(delivered)" 6 "odd UIDs, again: nothing delivered again"
ok "odd UIDs: stderr has no control characters" bash -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T/pm.err'"
is "$(grep -c '^+ [0-9]* ~ [0-9a-f]\{64\}' "$UIDL")" 5 \
	"odd UIDs: kept in the cache by their SHA-256 (4 distinct, one of them shared)"

done_testing
