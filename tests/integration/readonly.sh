#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# readonly.sh - a Maildir that cannot be written (root ignores permissions,
# so read-only mounts are used): exit 74 naming the Maildir, nothing deleted
# on the server, nothing partial left; once writable, everything arrives.
# Then a full disk (a small tmpfs): exit 74, nothing deleted, nothing
# partial; once there is room, every message exactly once.
# Needs root for the mounts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------ local helpers

# Mounts made here are undone (last first) before lib.sh's cleanup
# removes $T.
_mounts=
_local_cleanup() {
	local m
	for m in $_mounts; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
trap '_rc=$?; _local_cleanup; (exit $_rc); _cleanup' EXIT

# remember_mount DIR: unmount DIR at exit
remember_mount() {
	_mounts="$1 $_mounts"
}

# server_holds DIR: every message file of DIR is on the server, byte for
# byte (Dovecot keeps the seeded files as they are)
server_holds() {
	"$PYTHON3" - "$SERVER_MAILDIR" "$1" <<'PY'
import hashlib, os, sys
server = set()
for sub in ("new", "cur"):
    p = os.path.join(sys.argv[1], sub)
    for n in os.listdir(p) if os.path.isdir(p) else []:
        with open(os.path.join(p, n), "rb") as fh:
            server.add(hashlib.sha256(fh.read()).digest())
bad = 0
for n in sorted(os.listdir(sys.argv[2])):
    with open(os.path.join(sys.argv[2], n), "rb") as fh:
        if hashlib.sha256(fh.read()).digest() not in server:
            print("# not on the server: %s" % n)
            bad += 1
sys.exit(1 if bad else 0)
PY
}

# all_files DIR: every file below DIR (none expected), for diagnostics
all_files() {
	find "$1" -type f | sort
}

# ------------------------------------------------------------------ tests

[ "$(id -u)" = 0 ] || skip_all "readonly.sh needs root (mounts)"

start_server
seed 12 --mix edge
NMSG=12

# --- 1: the whole Maildir on a tmpfs remounted read-only
RO=$T/ro
mkdir -p "$RO"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$RO" || bail_out "cannot mount a tmpfs on $RO"
remember_mount "$RO"
mkdir -p "$RO/Maildir/new" "$RO/Maildir/cur" "$RO/Maildir/tmp"
mount -o remount,ro "$RO" || bail_out "cannot remount $RO read-only"
ok "read-only tmpfs: really read-only, even for root" \
	sh -c "! touch '$RO/Maildir/new/x' 2>/dev/null"
MAILDIR=$RO/Maildir
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 74 "read-only Maildir: exit status 74" || show_pm
contains "$PM_ERR" "$RO/Maildir" "read-only Maildir: stderr names the Maildir"
diag "stderr: $PM_ERR"
is "$(server_count)" "$NMSG" "read-only Maildir: nothing deleted on the server"
ok "read-only Maildir: the server holds every seeded message" server_holds "$EXPECTED"
is "$(all_files "$RO/Maildir")" "" "read-only Maildir: nothing written"
run_pm
is "$PM_RC" 74 "read-only Maildir, second run: exit status 74 again" || show_pm
is "$(server_count)" "$NMSG" "read-only Maildir, second run: nothing deleted on the server"

# --- 2: only new/ read-only (a read-only bind mount): tmp/ is writable, so
# each message is written there first and must not be left behind
MAILDIR=$T/Maildir
mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
mount --bind "$MAILDIR/new" "$MAILDIR/new" || bail_out "cannot bind-mount $MAILDIR/new"
remember_mount "$MAILDIR/new"
mount -o remount,bind,ro "$MAILDIR/new" || bail_out "cannot make $MAILDIR/new read-only"
ok "read-only new/: really read-only, even for root" \
	sh -c "! touch '$MAILDIR/new/x' 2>/dev/null"
ok "read-only new/: tmp/ still writable" sh -c "touch '$MAILDIR/tmp/probe' && rm '$MAILDIR/tmp/probe'"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 74 "read-only new/: exit status 74" || show_pm
contains "$PM_ERR" "$MAILDIR" "read-only new/: stderr names the Maildir"
diag "stderr: $PM_ERR"
is "$(server_count)" "$NMSG" "read-only new/: nothing deleted on the server"
ok "read-only new/: the server holds every seeded message" server_holds "$EXPECTED"
is "$(all_files "$MAILDIR")" "" "read-only new/: nothing left in tmp/, new/ or cur/"

# --- 3: writable again: every message delivered once, server empty
umount "$MAILDIR/new" || bail_out "cannot unmount $MAILDIR/new"
_mounts=${_mounts/"$MAILDIR/new "/}
run_pm
is "$PM_RC" 0 "writable again: exit status 0" || show_pm
is "$(server_count)" 0 "writable again: server empty"
is "$(maildir_count)" "$NMSG" "writable again: $NMSG messages delivered"
ok "writable again: every message exactly once" mailcheck
is "$(count_files "$MAILDIR/tmp")" 0 "writable again: nothing left in tmp/"

# --- 4: a full disk: the Maildir on a 256 KB tmpfs, ~1 MB of mail. The
# message whose write fails (ENOSPC) is thrown away; the whole messages
# written before it in its batch are flushed and recorded, not deleted (no
# QUIT after an error); the rest stays on the server.
SMALL=$T/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$SMALL" || bail_out "cannot mount a tmpfs on $SMALL"
remember_mount "$SMALL"
rm -f "$EXPECTED"/*
seed 20 --big 800000 # ~100 KB that fits, then one of 800 KB
seed 10              # and more after the big one
NMSG=31
MAILDIR=$SMALL/Maildir
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 74 "full disk: exit status 74" || show_pm
contains "$PM_ERR" "$MAILDIR" "full disk: stderr names the Maildir"
diag "full disk: stderr: $PM_ERR"
is "$(server_count)" "$NMSG" "full disk: nothing deleted on the server"
ok "full disk: the server holds every seeded message" server_holds "$EXPECTED"
is "$(count_files "$MAILDIR/tmp")" 0 "full disk: nothing left in tmp/"
mailcheck >/dev/null 2>&1 # 11 missing: expected here
is "$(printf '%s\n' "$MC_OUT" | head -n 1)" \
	"delivered=20 expected=31 missing=11 duplicates=0 unexpected=0" \
	"full disk: the 20 messages before the big one delivered whole, nothing partial"
mount -o remount,size=8m "$SMALL" || bail_out "cannot grow the tmpfs"
run_pm
is "$PM_RC" 0 "room made: exit status 0" || show_pm
is "$(server_count)" 0 "room made: server empty"
ok "room made: every message exactly once (no loss, no duplicate)" mailcheck
is "$(count_files "$MAILDIR/tmp")" 0 "room made: nothing left in tmp/"

# --- 5: the state directory full: the UIDL cache could not record what is
# delivered, so nothing is fetched (every run would deliver it all again
# otherwise); one line, exit 74; then with room, everything once
STATEFS=$T/statefs
mkdir -p "$STATEFS"
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$STATEFS" || bail_out "cannot mount a tmpfs on $STATEFS"
remember_mount "$STATEFS"
PM_STATE=$STATEFS
MAILDIR=$T/Maildir5
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 0 "state full: a first run makes the cache" || show_pm
dd if=/dev/zero of="$STATEFS/fill" bs=4k 2>/dev/null
rm -f "$EXPECTED"/*
seed 40
before=$(maildir_count)
run_pm
is "$PM_RC" 74 "state full: exit status 74" || show_pm
is "$(grep -c 'cannot record delivered messages' <<<"$PM_ERR")" 1 "state full: said once"
contains "$PM_ERR" "No space left on device (nothing fetched)" "state full: says why and that nothing was fetched"
lacks "$PM_ERR" "are safe" "state full: does not claim anything is safe"
is "$(maildir_count)" "$before" "state full: nothing delivered"
is "$(server_count)" 40 "state full: nothing deleted on the server"
rm -f "$STATEFS/fill"
run_pm
is "$PM_RC" 0 "state with room: exit status 0" || show_pm
is "$(server_count)" 0 "state with room: server empty"
ok "state with room: every message exactly once" mailcheck

done_testing
