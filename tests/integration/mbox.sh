#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# mbox.sh - delivery into an mbox (mboxrd): byte-identical messages, From_
# lines and blank-line separators, appending, a missing final newline,
# dotlock and fcntl locking with mbox_lock_timeout, a dotlock of a dead
# pullmail taken over at once and foreign ones waited for, an append cut
# short by a kill (cut back next run, unless another program wrote after
# it), and a full disk (the mbox truncated back to whole messages, nothing
# lost).  Needs root for the small tmpfs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------ local helpers

# Mounts made here are undone, and background processes started here
# killed, before lib.sh's cleanup removes $T.  (Not lib.sh's track_pid:
# its list keeps pids already reaped.)
_mounts=
_bg_pids=
_local_cleanup() {
	local m p
	for p in $_bg_pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for m in $_mounts; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
trap '_rc=$?; _local_cleanup; (exit $_rc); _cleanup' EXIT

# seed_set SET N [GENMAIL-ARGS...]: seed (lib.sh) and also copy the new
# messages into $T/set-SET, so each part can be checked on its own
seed_set() {
	local set=$T/set-$1 f
	shift
	mkdir -p "$set"
	ls "$EXPECTED" >"$T/seed.before"
	seed "$@"
	ls "$EXPECTED" | comm -13 "$T/seed.before" - | while IFS= read -r f; do
		cp "$EXPECTED/$f" "$set/" || exit 1
	done || bail_out "copying into $set failed"
}

# mbox_check SET MBOX [ARGS...]: mailcheck.py on MBOX against the set;
# output in MC_OUT (shown on failure)
mbox_check() {
	local set=$T/set-$1 mbox=$2 rc
	shift 2
	MC_OUT=$("$PYTHON3" "$TESTLIB/mailcheck.py" --expected "$set" \
		--mbox "$mbox" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

# mc_field NAME: a number from the summary line of the last mbox_check
mc_field() {
	printf '%s\n' "$MC_OUT" | sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" | head -n 1
}

# server_holds SET...: every message of the sets is on the server, byte for
# byte (Dovecot keeps the seeded files as they are)
server_holds() {
	"$PYTHON3" - "$SERVER_MAILDIR" "$@" <<'PY'
import hashlib, os, sys
def digests(d):
    out = {}
    for sub in ("new", "cur", ""):
        p = os.path.join(d, sub)
        if not os.path.isdir(p):
            continue
        for n in os.listdir(p):
            f = os.path.join(p, n)
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    out[hashlib.sha256(fh.read()).digest()] = n
    return out
server = digests(sys.argv[1])
bad = 0
for s in sys.argv[2:]:
    for n in sorted(os.listdir(s)):
        with open(os.path.join(s, n), "rb") as fh:
            if hashlib.sha256(fh.read()).digest() not in server:
                print("# not on the server: %s/%s" % (os.path.basename(s), n))
                bad += 1
sys.exit(1 if bad else 0)
PY
}

# mbox_format MBOX N: exactly N From_ lines; the file starts with one, each
# later one follows a blank line, the file ends with a blank line, and
# each From_ line names the message's Return-Path address
mbox_format() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import mailbox, re, sys
path, n = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
lines = data.split(b"\n")
errs = []
if not data.startswith(b"From "):
    errs.append("does not start with a From_ line")
if not data.endswith(b"\n\n"):
    errs.append("does not end with a blank line: %r" % data[-20:])
froms = [i for i, l in enumerate(lines) if l.startswith(b"From ")]
if len(froms) != n:
    errs.append("%d From_ lines, expected %d" % (len(froms), n))
for i in froms[1:]:
    if lines[i - 1] != b"":
        errs.append("line %d: From_ line not after a blank line" % (i + 1))
fmt = re.compile(rb"^From (\S+) [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] "
                 rb"[0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$")
senders = []
for i in froms:
    m = fmt.match(lines[i])
    if not m:
        errs.append("line %d: bad From_ line %r" % (i + 1, lines[i]))
    else:
        senders.append(m.group(1))
mb = mailbox.mbox(path, create=False)
for k, sender in zip(mb.iterkeys(), senders):
    raw = mb.get_bytes(k)
    m = re.search(rb"^Return-Path:[ \t]*<([^>\s]+)>", raw, re.M | re.I)
    want = m.group(1) if m else b"MAILER-DAEMON"
    if sender != want:
        errs.append("message %d: From_ sender %r, Return-Path %r" % (k + 1, sender, want))
mb.close()
for e in errs[:10]:
    print("# " + e)
sys.exit(1 if errs else 0)
PY
}

# starts_with FILE PREFIXFILE: FILE begins with PREFIXFILE's bytes
starts_with() {
	cmp -s -n "$(stat -c %s "$2")" "$1" "$2"
}

# bytes_at FILE OFFSET COUNT: those bytes of FILE, as printable text
bytes_at() {
	"$PYTHON3" -c 'import sys; d = open(sys.argv[1], "rb").read(); o = int(sys.argv[2]); print(repr(d[o:o + int(sys.argv[3])]))' "$@"
}

# holder_start FILE: a background process holding an fcntl write lock on
# FILE (python3 fcntl.lockf) until it is killed; returns once it is held.
# Meanwhile it watches FILE.lock: how long it existed (from its mtime, when
# pullmail created it, to when the watcher saw it gone: a late look only
# makes this longer), in ms, goes to $T/holder.waited.
holder_start() {
	rm -f "$T/holder.ready" "$T/holder.waited"
	"$PYTHON3" - "$1" "$T/holder.ready" "$T/holder.waited" <<'PY' &
import fcntl, os, sys, time
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(sys.argv[2], "w").close()
lock = sys.argv[1] + ".lock"
made = None
while True:
    try:
        st = os.stat(lock)
        if made is None:
            made = st.st_mtime_ns
    except FileNotFoundError:
        if made is not None:
            with open(sys.argv[3], "w") as out:
                out.write("%d\n" % ((time.time_ns() - made) // 1000000))
            made = None
    time.sleep(0.005)
PY
	HOLDER_PID=$!
	_bg_pids="$_bg_pids $HOLDER_PID"
	wait_for 30 holder_up || true
	[ -e "$T/holder.ready" ] || bail_out "could not take an fcntl lock on $1"
}
holder_up() { # the lock is held, or the holder is gone
	[ -e "$T/holder.ready" ] || ! kill -0 "$HOLDER_PID" 2>/dev/null
}

# pm_bg: pullmail in the background, like run_pm; its pid in PM_PID
pm_bg() {
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		timeout -k 2 120 "$PULLMAIL" </dev/null >"$T/pm.out" 2>"$T/pm.err") &
	PM_PID=$!
	_bg_pids="$_bg_pids $PM_PID"
}

# waiting_for_lock PID: the pullmail under PID (timeout's child) has the
# mbox open, which it does only to append, and sleeps between attempts at
# the lock (if /proc tells where a process sleeps)
waiting_for_lock() {
	local pm fd w
	pm=$(pgrep -P "$1" -x pullmail) || return 1
	for fd in /proc/"$pm"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$MBOX" ] || continue
		w=$(cat "/proc/$pm/wchan" 2>/dev/null)
		case $w in
		*nanosleep*) return 0 ;;
		"" | 0) return 0 ;; # wchan not shown here: the open mbox will do
		esac
	done
	return 1
}

# ------------------------------------------------------------------ tests

[ "$(id -u)" = 0 ] || skip_all "mbox.sh needs root (tmpfs mounts)"

start_server
MBOX=$T/mail/inbox
mkdir -p "$T/mail"

# --- delete mode, 40 edge messages
seed_set main 40 --mix edge
is "$(server_count)" 40 "40 edge messages seeded"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$MBOX"
run_pm
is "$PM_RC" 0 "first fetch: exit status 0" || show_pm
is "$PM_ERR" "" "first fetch: nothing on stderr"
is "$(server_count)" 0 "first fetch: server empty"
ok "first fetch: mbox identical to the seed (mboxrd unquoted)" mbox_check main "$MBOX"
is "$(file_mode "$MBOX")" 600 "mbox created with mode 0600"
ok "first fetch: 40 From_ lines, each message after a blank line, From_ senders = Return-Path" \
	mbox_format "$MBOX" 40
ok "no $MBOX.lock left behind" test ! -e "$MBOX.lock"
# mboxrd quoting on disk: a body "From " line is stored as ">From ", a
# ">From " line as ">>From "
ok "body 'From ' lines are quoted on disk" grep -q '^>From ' "$MBOX"
ok "body '>From ' lines get one more '>' on disk" grep -q '^>>From ' "$MBOX"

# --- a second fetch appends, leaving what is there untouched
cp "$MBOX" "$T/mbox.1"
seed_set main 5 --mix edge
run_pm
is "$PM_RC" 0 "second fetch: exit status 0" || show_pm
is "$(server_count)" 0 "second fetch: server empty"
ok "second fetch: the first 40 messages untouched byte for byte" starts_with "$MBOX" "$T/mbox.1"
ok "second fetch: mbox holds all 45 messages exactly" mbox_check main "$MBOX"
ok "second fetch: 45 From_ lines, separated by blank lines" mbox_format "$MBOX" 45
is "$(file_mode "$MBOX")" 600 "second fetch: mode still 0600"

# --- an mbox that does not end in a newline, or in only one
mkdir -p "$T/set-nonl" "$T/set-onenl"
printf 'From someone@example.org Mon Jan  1 00:00:00 2024\nSubject: by hand\n\nno final newline' >"$T/mbox-nonl"
printf 'Subject: by hand\n\nno final newline\n' >"$T/set-nonl/hand.eml"
printf 'From someone@example.org Mon Jan  1 00:00:00 2024\nSubject: by hand\n\none final newline\n' >"$T/mbox-onenl"
printf 'Subject: by hand\n\none final newline\n' >"$T/set-onenl/hand.eml"
for kind in nonl onenl; do
	f=$T/mbox-$kind
	cp "$f" "$f.orig"
	size=$(stat -c %s "$f")
	seed_set "$kind" 2
	write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$f"
	run_pm
	is "$PM_RC" 0 "mbox ending with $kind: exit status 0" || show_pm
	ok "mbox ending with $kind: old content untouched" starts_with "$f" "$f.orig"
	if [ $kind = nonl ]; then want="b'\\n\\nFrom '" n=7; else want="b'\\nFrom '" n=6; fi
	is "$(bytes_at "$f" "$size" $n)" "$want" \
		"mbox ending with $kind: completed by a blank line before the next From_ line"
	ok "mbox ending with $kind: 3 messages, each exact" mbox_check "$kind" "$f"
done

# --- a dotlock held by another program: pullmail waits for it (it is seen
# with the mbox open, sleeping between attempts), then delivers once it is
# removed, well within mbox_lock_timeout
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$MBOX" \
	"mbox_lock_timeout=100"
seed_set main 3
cp "$MBOX" "$T/mbox.2"
: >"$MBOX.lock"
pm_bg
ok "dotlock held: pullmail waits for it" wait_for 60 waiting_for_lock "$PM_PID"
rm -f "$MBOX.lock"
wait "$PM_PID"
PM_RC=$?
PM_OUT=$(cat "$T/pm.out")
PM_ERR=$(cat "$T/pm.err")
is "$PM_RC" 0 "dotlock held: once it is removed, exit status 0" || show_pm
is "$(server_count)" 0 "dotlock held: server empty"
ok "dotlock held: earlier content untouched" starts_with "$MBOX" "$T/mbox.2"
ok "dotlock held: mbox holds all 48 messages exactly" mbox_check main "$MBOX"
ok "dotlock held: no lock file left" test ! -e "$MBOX.lock"

# --- an fcntl lock held for 30 s with mbox_lock_timeout = 2: exit 75
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$MBOX" \
	"mbox_lock_timeout=2"
seed_set locked 4
cp "$MBOX" "$T/mbox.3"
holder_start "$MBOX"
t0=$(now_ms)
run_pm
elapsed=$(($(now_ms) - t0))
is "$PM_RC" 75 "fcntl lock held: exit status 75" || show_pm
diag "fcntl lock held: pullmail took $elapsed ms"
ok "fcntl lock held: gave up while the lock was still held" kill -0 "$HOLDER_PID"
wait_for 30 test -s "$T/holder.waited"
waited=$(cat "$T/holder.waited" 2>/dev/null)
diag "fcntl lock held: pullmail held its dotlock, waiting for the fcntl lock, for ${waited:-?} ms"
ok "fcntl lock held: waited the whole mbox_lock_timeout (>= 1.9 s) before giving up" \
	test "${waited:-0}" -ge 1900
is "$(line_count "$PM_ERR")" 1 "fcntl lock held: one line on stderr" || show_pm
contains "$PM_ERR" "locked" "fcntl lock held: stderr says locked"
contains "$PM_ERR" "$MBOX" "fcntl lock held: stderr names the mbox"
ok "fcntl lock held: mbox unchanged byte for byte" cmp -s "$MBOX" "$T/mbox.3"
is "$(server_count)" 4 "fcntl lock held: all 4 messages still on the server"
ok "fcntl lock held: they are the seeded messages" server_holds "$T/set-locked"
ok "fcntl lock held: no dotlock left behind" test ! -e "$MBOX.lock"
kill "$HOLDER_PID" 2>/dev/null
wait "$HOLDER_PID" 2>/dev/null
_bg_pids=${_bg_pids/ $HOLDER_PID/}
cp "$T/set-locked"/* "$T/set-main"/
run_pm
is "$PM_RC" 0 "lock released: exit status 0" || show_pm
is "$(server_count)" 0 "lock released: server empty"
ok "lock released: earlier content untouched" starts_with "$MBOX" "$T/mbox.3"
ok "lock released: mbox holds all 52 messages exactly" mbox_check main "$MBOX"
ok "lock released: 52 From_ lines, separated by blank lines" mbox_format "$MBOX" 52

# --- a dotlock left by a pullmail killed with SIGKILL: "PID:HOST" naming
# this host and a process that no longer runs is taken over at once.  With
# mbox_lock_timeout = 600 a pass cannot be a timeout (run_pm gives up after
# 25 s).
sh -c 'exit 0' &
dead=$!
wait "$dead"
kill -0 "$dead" 2>/dev/null && bail_out "pid $dead is running again"
HOST=$(hostname)
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$MBOX" \
	"mbox_lock_timeout=600"
seed_set main 2
cp "$MBOX" "$T/mbox.4"
printf '%d:%s\n' "$dead" "$HOST" >"$MBOX.lock"
t0=$(now_ms)
run_pm
elapsed=$(($(now_ms) - t0))
is "$PM_RC" 0 "dotlock of a dead pid on this host: exit status 0" || show_pm
diag "dotlock of a dead pid on this host: pullmail took $elapsed ms"
ok "dotlock of a dead pid on this host: taken over without waiting (< 10 s)" \
	test "$elapsed" -lt 10000
contains "$PM_ERR" "process $dead, which no longer runs" \
	"dotlock of a dead pid on this host: stderr says whose lock was taken over"
is "$(server_count)" 0 "dotlock of a dead pid on this host: server empty"
ok "dotlock of a dead pid on this host: earlier content untouched" starts_with "$MBOX" "$T/mbox.4"
ok "dotlock of a dead pid on this host: mbox holds all 54 messages exactly" mbox_check main "$MBOX"
ok "dotlock of a dead pid on this host: no lock file left" test ! -e "$MBOX.lock"

# --- dotlocks that still block (mbox_lock_timeout = 2): a live process of
# this host, a dead one of another host, a bare pid (no host: it may be
# another machine's, over NFS), an empty one (procmail, mutt).  Each: exit
# 75, nothing written, the lock left as it was, the messages on the server.
sleep 60 &
live=$!
_bg_pids="$_bg_pids $live"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$MBOX" \
	"mbox_lock_timeout=2"
for kind in live foreign pidonly empty; do
	case $kind in
	live) printf '%d:%s\n' "$live" "$HOST" ;;
	foreign) printf '%d:%s\n' "$dead" "elsewhere.$HOST.invalid" ;;
	pidonly) printf '%d\n' "$dead" ;;
	empty) : ;;
	esac >"$MBOX.lock"
	cp "$MBOX.lock" "$T/lock.$kind"
	seed_set "lock-$kind" 2
	cp "$MBOX" "$T/mbox.5"
	run_pm
	is "$PM_RC" 75 "$kind dotlock: exit status 75" || show_pm
	contains "$PM_ERR" "still locked by another program after 2 seconds" \
		"$kind dotlock: stderr says locked"
	ok "$kind dotlock: mbox unchanged byte for byte" cmp -s "$MBOX" "$T/mbox.5"
	is "$(server_count)" 2 "$kind dotlock: both messages still on the server"
	ok "$kind dotlock: they are the seeded messages" server_holds "$T/set-lock-$kind"
	ok "$kind dotlock: the lock file left as it was" cmp -s "$MBOX.lock" "$T/lock.$kind"
	rm -f "$MBOX.lock"
	run_pm
	is "$PM_RC" 0 "$kind dotlock removed: exit status 0" || show_pm
	cp "$T/set-lock-$kind"/* "$T/set-main"/
done
kill "$live" 2>/dev/null
wait "$live" 2>/dev/null
_bg_pids=${_bg_pids/ $live/}
ok "after the blocking dotlocks: mbox holds all 62 messages exactly" mbox_check main "$MBOX"
ok "after the blocking dotlocks: 62 From_ lines, separated by blank lines" mbox_format "$MBOX" 62

# --- an append cut short by SIGKILL (or a crash), crafted by hand as
# pullmail leaves it: the record STATE/ACCOUNT.mbox-append (the mbox's
# dev and ino, its size before the append, the append's length, the
# separator and From_ line in hex, the mbox's path), the message in
# STATE/ACCOUNT.mbox-spool, and the first part of the append at the end of
# the mbox.  The next run cuts that back, saying so in one line, unless
# anything else was written after it.
# craft_killed MBOX MESSAGE BYTES [FOREIGN]: as if an append of MESSAGE was
# killed after BYTES bytes, then FOREIGN appended by another program
craft_killed() {
	mkdir -p "$STATE_DIR"
	"$PYTHON3" - "$1" "$2" "$3" "$STATE_DIR/$ACCOUNT" "${4:-}" <<'PY'
import os, re, sys
mbox, msg, cut, base, foreign = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = open(msg, "rb").read()
size = os.path.getsize(mbox)
with open(mbox, "rb") as f:
    f.seek(max(size - 2, 0))
    tail = f.read()
sep = b"" if tail == b"\n\n" else b"\n" if tail.endswith(b"\n") else b"\n\n"
prefix = sep + b"From killed@example.org Mon Jan  1 00:00:00 2024\n"
body = re.sub(rb"(?m)^(>*From )", rb">\1", data)
if not body.endswith(b"\n"):
    body += b"\n"
append = prefix + body + b"\n"
assert 0 < cut < len(append)
st = os.stat(mbox)
with open(base + ".mbox-spool", "wb") as f:
    f.write(data)
with open(base + ".mbox-append", "wb") as f:
    f.write(b"pullmail-mbox-append 1\n%d %d %d %d %s\n%s\n" % (
        st.st_dev, st.st_ino, size, len(append), prefix.hex().encode(),
        mbox.encode()))
with open(mbox, "ab") as f:
    f.write(append[:cut])
    f.write(foreign.encode())
PY
}
CRASH=$T/mail/crash
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$CRASH"
seed_set crash 2
run_pm
is "$PM_RC" 0 "killed append: a first fetch into a new mbox" || show_pm
cp "$CRASH" "$T/crash.1"
size1=$(stat -c %s "$CRASH")
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$T/crash-msg" --count 1 --big 300000 \
	--seed 4242 >/dev/null || bail_out "genmail.py failed"
craft_killed "$CRASH" "$T/crash-msg/$(ls -S "$T/crash-msg" | head -n 1)" 123457
is "$(stat -c %s "$CRASH")" $((size1 + 123457)) "killed append: the mbox ends with 123457 bytes of a partial message"
seed_set crash 2
run_pm
is "$PM_RC" 0 "killed append: next run: exit status 0" || show_pm
is "$(line_count "$PM_ERR")" 1 "killed append: one line on stderr" || show_pm
contains "$PM_ERR" "$CRASH: cut 123457 bytes after offset $size1" \
	"killed append: stderr says what was cut"
ok "killed append: the earlier messages untouched" starts_with "$CRASH" "$T/crash.1"
ok "killed append: the mbox holds exactly the 4 messages fetched, nothing partial" \
	mbox_check crash "$CRASH"
ok "killed append: 4 From_ lines, separated by blank lines" mbox_format "$CRASH" 4
ok "killed append: the record is gone" test ! -e "$STATE_DIR/$ACCOUNT.mbox-append"
ok "killed append: the spool file is gone" test ! -e "$STATE_DIR/$ACCOUNT.mbox-spool"

# the same, but another program appended a message after the partial one:
# not provably pullmail's alone, so nothing is cut
cp "$CRASH" "$T/crash.2"
craft_killed "$CRASH" "$T/crash-msg/$(ls -S "$T/crash-msg" | head -n 1)" 5000 \
	"From other@example.org Mon Jan  1 00:00:01 2024
Subject: delivered by another program

hello
"
cp "$CRASH" "$T/crash.3"
seed_set crash 1
run_pm
is "$PM_RC" 0 "killed append, then a foreign one: exit status 0" || show_pm
contains "$PM_ERR" "left as they are" "killed append, then a foreign one: stderr says nothing was cut"
lacks "$PM_ERR" "cut " "killed append, then a foreign one: stderr says no cut"
ok "killed append, then a foreign one: the foreign message and all before it untouched" \
	starts_with "$CRASH" "$T/crash.3"
ok "killed append, then a foreign one: the record is gone" test ! -e "$STATE_DIR/$ACCOUNT.mbox-append"

# --- a full disk: a 256 KB tmpfs, ~1 MB of mail
SMALL=$T/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$SMALL" || bail_out "cannot mount a tmpfs on $SMALL"
_mounts="$_mounts $SMALL"
FULL=$SMALL/mbox
seed_set full 20 --big 800000 # ~100 KB that fits, then one of 800 KB
seed_set full 10              # and more after the big one
total=$(cat "$T/set-full"/* | wc -c)
diag "full disk: seeded $(ls "$T/set-full" | wc -l) messages, $total bytes, into a 256 KB tmpfs"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -maildir "mbox=$FULL"
run_pm
is "$PM_RC" 74 "full disk: exit status 74" || show_pm
contains "$PM_ERR" "$FULL" "full disk: stderr names the mbox"
diag "full disk: stderr: $PM_ERR"
mbox_check full "$FULL" >/dev/null 2>&1 # 11 missing: expected here
diag "full disk: mailcheck: $(printf '%s\n' "$MC_OUT" | head -n 1)"
is "$(mc_field unexpected)" 0 "full disk: every message in the mbox equals an original (none partial)"
is "$(mc_field duplicates)" 0 "full disk: no message twice"
is "$(mc_field delivered)" 20 "full disk: the 20 messages before the big one are in the mbox"
ok "full disk: the mbox ends with a whole message and a blank line" mbox_format "$FULL" 20
ok "full disk: no dotlock left behind" test ! -e "$FULL.lock"
# the messages not in the mbox are still on the server
mkdir -p "$T/set-notdelivered"
ls "$T/set-full" | sort | tail -n 11 | while IFS= read -r f; do cp "$T/set-full/$f" "$T/set-notdelivered/"; done
ok "full disk: the 11 messages not delivered are still on the server" server_holds "$T/set-notdelivered"
cp "$FULL" "$T/full.1"
# make room and fetch again
mount -o remount,size=8m "$SMALL" || bail_out "cannot grow the tmpfs"
run_pm
is "$PM_RC" 0 "room made: exit status 0" || show_pm
is "$(server_count)" 0 "room made: server empty"
ok "room made: the earlier 20 messages untouched" starts_with "$FULL" "$T/full.1"
ok "room made: the mbox holds all 31 messages exactly once (no loss, no duplicate)" \
	mbox_check full "$FULL"
ok "room made: 31 From_ lines, separated by blank lines" mbox_format "$FULL" 31

done_testing
