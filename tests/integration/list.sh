#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# list.sh - pullmail -l: the table of the messages on the server, their
# state (new/seen), decoded subjects and senders made safe for a terminal
# (no escape sequences, controls or direction overrides get through), and
# that listing changes nothing; -l and -c create nothing on disk (no state
# directory, lock file, UIDL cache or mailbox) and leave an existing cache
# and lock file as they were (bytes and mtime), and how their shared lock
# meets a fetch's exclusive one.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# seed_raw NAME SUBJECT-BYTES [FROM-BYTES]: seed one hand-made message with
# that Subject (printf %b escapes), as the next message
seed_raw() {
	local stage=$T/raw.$1 from=${3:-Mallory <mallory@example.org>}
	mkdir -p "$stage"
	{
		printf 'Return-Path: <mallory@example.org>\n'
		printf 'From: %b\n' "$from"
		printf 'To: Test <pmtest@example.org>\n'
		printf 'Subject: %b\n' "$2"
		printf 'Date: Mon, 08 Jan 2024 10:00:00 +0000\n'
		printf 'Message-ID: <%s.raw@example.org>\n' "$1"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
		printf 'Hostile headers, harmless body.\n'
	} >"$stage/$1.eml" || bail_out "cannot write $stage/$1.eml"
	cp "$stage/$1.eml" "$EXPECTED/" || bail_out "copying $1 failed"
	bash "$TESTLIB/dovecot.sh" seed "$SERVER" "$stage" || bail_out "seeding $1 failed"
	rm -rf "$stage"
}

# unsafe FILE...: describe what in FILEs could act on a terminal (nothing
# if they are clean): malformed UTF-8, C0 controls but newline, DEL, C1
# controls (as UTF-8 or raw bytes), direction overrides and isolates, line
# and paragraph separators
unsafe() {
	"$PYTHON3" -S - "$@" <<'EOF'
import sys
bad = set(range(0x00, 0x20)) - {0x0a}
bad |= {0x7f} | set(range(0x80, 0xa0))
bad |= set(range(0x202a, 0x202f)) | set(range(0x2066, 0x206a))
bad |= {0x2028, 0x2029, 0x061c, 0x200e, 0x200f}
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    for b in (b"\x1b", b"\x07", b"\xc2\x9b", b"\xe2\x80\xae"):
        if b in data:
            print("%s: byte sequence %r" % (path, b))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        print("%s: malformed UTF-8: %s" % (path, e))
        text = data.decode("utf-8", "replace")
    for i, ch in enumerate(text):
        if ord(ch) in bad:
            print("%s: U+%04X at character %d" % (path, ord(ch), i))
            break
EOF
}

# snapshot: server count, Maildir listing and UIDL cache bytes
snapshot() {
	printf 'server=%s\n' "$(server_count)"
	find "$MAILDIR" -type f 2>/dev/null | sort
	if [ -e "$CACHE" ]; then od -An -c "$CACHE"; else echo "no cache"; fi
}

# on_disk: every path under $T but the server's and pullmail's output,
# with type, size and mtime (nanoseconds)
on_disk() {
	find "$T" \( -path "$SERVER" -o -name pm.out -o -name pm.err \) -prune \
		-o -printf '%p %y %s %T@\n' | sort
}

# matches TEXT REGEX: TEXT matches the extended regular expression
matches() { [[ $1 =~ $2 ]]; }

# states: the STATE column of the table in $PM_OUT, counted ("new=N seen=M")
states() {
	printf '%s\n' "$PM_OUT" | awk 'NR > 2 { n[$5]++ }
		END { printf "new=%d seen=%d other=%d\n", n["new"], n["seen"], NR - 2 - n["new"] - n["seen"] }'
}

start_server
CACHE=$STATE_DIR/$ACCOUNT.uidl

seed 16 --mix edge
seed_raw msg-00017 '\xe2\x80\xaeRLO override =?UTF-8?Q?=1B]0;pwned=07?= hidden'
seed_raw msg-00018 'C1 \xc2\x9b31mraw\xc2\x9b0m \x9b bare =?UTF-8?Q?=C2=9B31m?= =?ISO-8859-1?Q?=9B?= tab\there bel\a =?UTF-8?B?4oCu?= ls=?UTF-8?Q?=E2=80=A8?=sep' \
	'=?UTF-8?Q?Evil=1B[2J=E2=80=AE?= <evil@example.org>'
N=18

write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
before=$(snapshot)
run_pm -l
is "$PM_RC" 0 "-l: exit status 0" || show_pm
is "$(printf '%s\n' "$PM_OUT" | sed -n 1p)" "$ACCOUNT: $N messages on $POP3_TLS_HOST" \
	"-l: first line '$ACCOUNT: $N messages on $POP3_TLS_HOST'"
hdr=$(printf '%s\n' "$PM_OUT" | sed -n 2p)
re='^ *NUM +SIZE +DATE +STATE +FROM +SUBJECT$'
ok "-l: a header line NUM SIZE DATE STATE FROM SUBJECT" matches "$hdr" "$re"
is "$(line_count "$PM_OUT")" $((N + 2)) "-l: one row per message"
is "$(printf '%s\n' "$PM_OUT" | awk 'NR > 2 { print $1 }' | tr '\n' ' ')" \
	"$(seq 1 $N | tr '\n' ' ')" "-l: rows numbered 1..$N"
is "$(states)" "new=$N seen=0 other=0" "-l: every message new"
contains "$PM_OUT" "Grüße — 日本語" "-l: UTF-8 encoded word decoded"
contains "$PM_OUT" "Grüße aus Köln" "-l: ISO-8859-1 encoded word decoded"
contains "$PM_OUT" "Jürgen Müller" "-l: encoded sender decoded"
contains "$PM_OUT" "Raw UTF-8 subject: über café 日本" "-l: raw UTF-8 subject shown"
contains "$PM_OUT" "Terminal ?[31mRED?[0m escape ?]0;pwned? in subject" \
	"-l: ESC and BEL in the subject shown as ?"
lacks "$PM_OUT" "=?UTF-8?Q?=1B" "-l: the encoded word hiding an ESC is decoded"
lacks "$PM_OUT" $'\xe2\x80\xae' "-l: no raw RLO override"
lacks "$PM_OUT" $'\e' "-l: no ESC"
is "$(unsafe "$T/pm.out" "$T/pm.err")" "" "-l: stdout and stderr safe for a terminal"
is "$PM_ERR" "" "-l: nothing on stderr"
is "$(snapshot)" "$before" "-l: server, Maildir and UIDL cache unchanged"

run_pm -l -q
is "$PM_RC" 0 "-l -q: exit status 0" || show_pm
is "$(line_count "$PM_OUT")" $((N + 2)) "-l -q: the table still printed"

# fetch everything, keeping it on the server: every row then says seen
run_pm -v
is "$PM_RC" 0 "fetch, keep: exit status 0" || show_pm
is "$(maildir_count)" $N "fetch, keep: $N delivered"
ok "fetch, keep: Maildir identical to the seed" mailcheck
is "$(unsafe "$T/pm.out" "$T/pm.err")" "" "fetch -v: the lines per message are safe for a terminal"
contains "$PM_ERR" "Grüße — 日本語" "fetch -v: the subject decoded"

seed 2
before=$(snapshot)
run_pm -l -v
is "$PM_RC" 0 "-l after fetch: exit status 0" || show_pm
is "$(line_count "$PM_OUT")" $((N + 4)) "-l after fetch: $((N + 2)) rows"
is "$(states)" "new=2 seen=$N other=0" "-l after fetch: $N seen, 2 new"
is "$(printf '%s\n' "$PM_OUT" | awk 'NR > 2 + '$N' { print $5 }' | tr '\n' ' ')" "new new " \
	"-l after fetch: the 2 last ones are new"
is "$(unsafe "$T/pm.out" "$T/pm.err")" "" "-l -v after fetch: stdout and stderr safe for a terminal"
is "$(snapshot)" "$before" "-l after fetch: server, Maildir and UIDL cache unchanged"
ok "-l after fetch: UIDL cache exists (compared byte for byte)" test -s "$CACHE"

# ------------------------------------------- -c and -l create nothing

# A fresh state directory and a Maildir that does not exist yet: after -c
# and -l, neither exists, nor anything else new under $T.
saved_state=$PM_STATE saved_maildir=$MAILDIR
PM_STATE=$T/fresh-state MAILDIR=$T/fresh-Maildir
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
before=$(on_disk)
for opt in -c -l; do
	run_pm $opt
	is "$PM_RC" 0 "$opt, fresh: exit status 0 (new mail)" || show_pm
	ok "$opt, fresh: no state directory created" test ! -e "$PM_STATE"
	ok "$opt, fresh: no Maildir created" test ! -e "$MAILDIR"
	is "$(on_disk)" "$before" "$opt, fresh: nothing created or changed under \$T"
done
contains "$PM_OUT" "$ACCOUNT: $((N + 2)) messages on" "-l, fresh: lists every message"
is "$(states)" "new=$((N + 2)) seen=0 other=0" "-l, fresh: no cache: every message new"
# an mbox that does not exist is not created either
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes -maildir "mbox=$T/fresh.mbox"
before=$(on_disk)
for opt in -c -l; do
	run_pm $opt
	is "$PM_RC" 0 "$opt, fresh, mbox: exit status 0" || show_pm
	is "$(on_disk)" "$before" "$opt, fresh, mbox: no mbox, no spool, no state directory"
done
# the state directory exists, the account's files do not
mkdir -p "$PM_STATE/pullmail"
before=$(on_disk)
run_pm -c
is "$PM_RC" 0 "-c, empty state directory: exit status 0" || show_pm
is "$(on_disk)" "$before" "-c, empty state directory: no lock file or cache created"
PM_STATE=$saved_state MAILDIR=$saved_maildir

# An existing cache and lock file (from the fetch above): bytes and mtime
# unchanged, also with a torn last record that a fetch would cut off.
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" keep=yes
LOCK=$STATE_DIR/$ACCOUNT.lock
ok "existing state: the fetch left a lock file" test -f "$LOCK"
printf '+ 1700000000 torn-uid-without-newl' >>"$CACHE"
cp -p "$CACHE" "$T/cache.copy"
cp -p "$LOCK" "$T/lock.copy"
touch -d '2020-01-02 03:04:05.123456789' "$CACHE" "$LOCK" "$STATE_DIR" "$T/cache.copy" "$T/lock.copy"
before=$(on_disk)
for opt in -c -l; do
	run_pm $opt
	is "$PM_RC" 0 "$opt, existing cache: exit status 0" || show_pm
	ok "$opt, existing cache: same bytes (torn record not cut)" cmp -s "$CACHE" "$T/cache.copy"
	ok "$opt, existing lock file: same bytes (no pid written)" cmp -s "$LOCK" "$T/lock.copy"
	is "$(on_disk)" "$before" "$opt, existing cache: nothing created, mtimes unchanged"
done
contains "$PM_OUT" "$ACCOUNT: $((N + 2)) messages on" "-l, existing cache: lists every message"
is "$(states)" "new=2 seen=$N other=0" "-l, existing cache: read (torn record ignored)"

# The lock: -c and -l share it (with each other); a fetch holds it alone.
# This shell holds it on fd 9, as another pullmail would.
exec 9<"$LOCK"
flock -s 9
run_pm -c
is "$PM_RC" 0 "-c while a shared lock is held: runs" || show_pm
run_pm -k
is "$PM_RC" 75 "fetch while -c/-l holds the lock: exit status 75" || show_pm
is "$PM_ERR" "pullmail: $ACCOUNT: another pullmail is checking or listing this account (-c or -l)" \
	"fetch while -c/-l holds the lock: says so (not a stale pid)"
flock -u 9
flock -x 9
run_pm -l
is "$PM_RC" 75 "-l while a fetch holds the lock: exit status 75" || show_pm
contains "$PM_ERR" "already being fetched by another pullmail" "-l while a fetch holds the lock: says so (the pid in the file is of a run that ended)"
exec 9<&-
run_pm -l
is "$PM_RC" 0 "-l once the lock is free: exit status 0" || show_pm

done_testing
