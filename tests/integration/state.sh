#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# state.sh - the account lock, the UIDL cache (symlink, torn line,
# corruption), an unusable Maildir, password_command.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

start_server
UIDL=$STATE_DIR/$ACCOUNT.uidl

# password_command, in a file that others may read (no password in it)
seed 3
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -password \
	"password_command=printf '%s\n' $POP3_PASS"
chmod 0644 "$CONFIG"
run_pm
is "$PM_RC" 0 "password_command printf: exit status 0" || show_pm
is "$(server_count)" 0 "password_command printf: server empty"
ok "password_command printf: Maildir identical to the seed" mailcheck

seed 2
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -password "password_command=false"
run_pm
is "$PM_RC" 78 "password_command false: exit status 78" || show_pm
contains "$PM_ERR" "password_command false" "password_command false: stderr names the command"
is "$(server_count)" 2 "password_command false: nothing deleted"
is "$(maildir_count)" 3 "password_command false: nothing delivered"

# the lock: another process holds it
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
"$PYTHON3" -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, b"%d\n" % os.getpid())
open(sys.argv[2], "w").close()
time.sleep(600)
' "$STATE_DIR/$ACCOUNT.lock" "$T/locked" &
holder=$!
track_pid "$holder"
ok "lock held by a helper process (pid $holder)" wait_for 30 test -e "$T/locked"
run_pm
is "$PM_RC" 75 "account locked: exit status 75" || show_pm
contains "$PM_ERR" "already being fetched by pid $holder" "account locked: stderr names the holder's pid"
is "$(server_count)" 2 "account locked: nothing deleted"
is "$(maildir_count)" 3 "account locked: nothing delivered"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# a holder that has not written its pid yet (the file empty, or the pid of
# a run that has ended): not named, never "pid ?"
for content in empty dead; do
	"$PYTHON3" -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
if sys.argv[3] == "dead":
    os.write(fd, b"999999999\n")
open(sys.argv[2], "w").close()
time.sleep(600)
' "$STATE_DIR/$ACCOUNT.lock" "$T/locked-$content" "$content" &
	holder2=$!
	track_pid "$holder2"
	wait_for 30 test -e "$T/locked-$content" || bail_out "no lock holder"
	run_pm
	is "$PM_RC" 75 "locked, pid file $content: exit status 75" || show_pm
	contains "$PM_ERR" "already being fetched by another pullmail" \
		"locked, pid file $content: says so without a pid"
	kill "$holder2" 2>/dev/null
	wait "$holder2" 2>/dev/null
	untrack_pid "$holder2"
done
run_pm
is "$PM_RC" 0 "lock released: exit status 0" || show_pm
is "$(server_count)" 0 "lock released: server empty"
ok "lock released: Maildir identical to the seed" mailcheck

# a stale lock file (a pid, but nobody holds the lock) is harmless
seed 1
printf '%d\n' "$holder" >"$STATE_DIR/$ACCOUNT.lock"
run_pm
is "$PM_RC" 0 "stale lock file: exit status 0" || show_pm
is "$(server_count)" 0 "stale lock file: server empty"
ok "stale lock file: Maildir identical to the seed" mailcheck

# a torn last line in the cache (a crash while appending) is dropped
seed 2
printf '+ 12' >>"$UIDL"
run_pm
is "$PM_RC" 0 "torn last line: exit status 0" || show_pm
is "$(server_count)" 0 "torn last line: server empty"
ok "torn last line: Maildir identical to the seed (no duplicates)" mailcheck
is "$(tail -c 1 "$UIDL" | od -An -c | tr -d ' ')" '\n' "torn last line: the cache ends with a newline again"
is "$(tail -n +2 "$UIDL" | grep -cvE '^(\+ [0-9]+ [!-~]+|D [0-9]+ [!-~]+|- [!-~]+)$')" 0 \
	"torn last line: every record in the cache is well formed"
seed 1
run_pm
is "$PM_RC" 0 "after the torn line: the next run succeeds too" || show_pm
ok "after the torn line: Maildir identical to the seed" mailcheck

# a damaged cache: refused, naming the line, nothing touched
seed 2
cp "$UIDL" "$T/uidl.saved"
{
	head -n 1 "$T/uidl.saved"
	echo "this is not a record"
	tail -n +2 "$T/uidl.saved"
} >"$UIDL"
cp "$UIDL" "$T/uidl.corrupt"
n=$(maildir_count)
run_pm
is "$PM_RC" 74 "corrupt cache: exit status 74" || show_pm
contains "$PM_ERR" "$UIDL: line 2:" "corrupt cache: stderr names the file and line"
is "$(server_count)" 2 "corrupt cache: nothing deleted"
is "$(maildir_count)" "$n" "corrupt cache: nothing delivered"
ok "corrupt cache: the cache is left as it was" cmp -s "$UIDL" "$T/uidl.corrupt"
cp "$T/uidl.saved" "$UIDL"

# a symlink planted as the cache
mv "$UIDL" "$T/uidl.saved"
printf 'precious\n' >"$T/victim"
ln -s "$T/victim" "$UIDL"
run_pm
is "$PM_RC" 74 "symlink as the cache: exit status 74" || show_pm
contains "$PM_ERR" "$UIDL" "symlink as the cache: stderr names the cache"
is "$(cat "$T/victim")" "precious" "symlink as the cache: the target is untouched"
ok "symlink as the cache: still a symlink" test -L "$UIDL"
is "$(server_count)" 2 "symlink as the cache: nothing deleted"
is "$(maildir_count)" "$n" "symlink as the cache: nothing delivered"
rm -f "$UIDL"
ln -s "$T/no-such-file" "$UIDL"
run_pm
is "$PM_RC" 74 "dangling symlink as the cache: exit status 74" || show_pm
ok "dangling symlink as the cache: the target is not created" test ! -e "$T/no-such-file"
is "$(server_count)" 2 "dangling symlink as the cache: nothing deleted"
rm -f "$UIDL"
mv "$T/uidl.saved" "$UIDL"

# a symlink planted as the lock file
printf 'precious\n' >"$T/victim"
rm -f "$STATE_DIR/$ACCOUNT.lock"
ln -s "$T/victim" "$STATE_DIR/$ACCOUNT.lock"
run_pm
is "$PM_RC" 74 "symlink as the lock file: exit status 74" || show_pm
is "$(cat "$T/victim")" "precious" "symlink as the lock file: the target is untouched"
is "$(server_count)" 2 "symlink as the lock file: nothing deleted"
is "$(maildir_count)" "$n" "symlink as the lock file: nothing delivered"
rm -f "$STATE_DIR/$ACCOUNT.lock"

# a Maildir that cannot be created
: >"$T/plain-file"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "maildir=$T/plain-file/Maildir"
cp "$UIDL" "$T/uidl.before"
run_pm
is "$PM_RC" 74 "Maildir under a regular file: exit status 74" || show_pm
contains "$PM_ERR" "$T/plain-file/Maildir" "Maildir under a regular file: stderr names the Maildir"
is "$(server_count)" 2 "Maildir under a regular file: nothing deleted"
ok "Maildir under a regular file: nothing recorded in the cache" cmp -s "$UIDL" "$T/uidl.before"

# and once it is fixed, everything arrives
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST"
run_pm
is "$PM_RC" 0 "all fixed: exit status 0" || show_pm
is "$(server_count)" 0 "all fixed: server empty"
ok "all fixed: Maildir identical to the seed" mailcheck

# compaction: once dead records outnumber live ones by more than 64, the
# cache is rewritten through ACCOUNT.uidl.tmp, which must not be followed
# if it is a symlink; 70 messages also make more than one batch
seed 70
run_pm
is "$PM_RC" 0 "70 messages: exit status 0" || show_pm
is "$(server_count)" 0 "70 messages: server empty"
ok "70 messages: Maildir identical to the seed" mailcheck
printf 'precious\n' >"$T/victim"
ln -s "$T/victim" "$UIDL.tmp"
cp "$UIDL" "$T/uidl.before"
run_pm
is "$PM_RC" 74 "symlink as ACCOUNT.uidl.tmp: exit status 74" || show_pm
contains "$PM_ERR" "$UIDL" "symlink as ACCOUNT.uidl.tmp: stderr names the cache"
is "$(cat "$T/victim")" "precious" "symlink as ACCOUNT.uidl.tmp: the target is untouched"
ok "symlink as ACCOUNT.uidl.tmp: the cache is unchanged" cmp -s "$UIDL" "$T/uidl.before"
rm -f "$UIDL.tmp"
run_pm
is "$PM_RC" 0 "compaction: exit status 0" || show_pm
is "$(cat "$UIDL")" "pullmail-uidl 2" "compaction: only the header is left"
is "$(file_mode "$UIDL")" 600 "compaction: the new cache has mode 0600"
ok "compaction: no ACCOUNT.uidl.tmp left" test ! -e "$UIDL.tmp"

# killed in the middle of a session: the next run loses nothing, and at
# most the last batch (64 messages) arrives twice; whenever the kill
# lands, these hold
seed 60 --mix mixed
before=$(maildir_count)
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	"$PULLMAIL" </dev/null >"$T/killed.out" 2>"$T/killed.err") &
victim_pid=$!
track_pid "$victim_pid"
for _ in $(seq 1 1000); do
	[ "$(count_files "$MAILDIR/new")" -ge $((before + 30)) ] && break
	kill -0 "$victim_pid" 2>/dev/null || break
	sleep 0.005
done
kill -KILL "$victim_pid" 2>/dev/null
wait "$victim_pid" 2>/dev/null
diag "killed after $(($(maildir_count) - before)) of 60 messages were delivered"
run_pm
is "$PM_RC" 0 "after a kill: exit status 0" || show_pm
is "$(server_count)" 0 "after a kill: server empty"
ok "after a kill: every message delivered" mailcheck --allow-duplicates
dups=$(printf '%s\n' "$MC_OUT" | sed -n 's/.* duplicates=\([0-9]*\) .*/\1/p')
ok "after a kill: at most one batch delivered twice (${dups:-?})" test "${dups:-999}" -le 64
run_pm
is "$PM_RC" 0 "after a kill, once more: exit status 0" || show_pm
ok "after a kill, once more: nothing delivered again" test "$(maildir_count)" -eq $((before + 60 + ${dups:-0}))

# a relative XDG_STATE_HOME is ignored: ~/.local/state is used
seed 1
PM_STATE=relative/state run_pm
is "$PM_RC" 0 "relative XDG_STATE_HOME: exit status 0" || show_pm
ok "relative XDG_STATE_HOME: the cache is in ~/.local/state/pullmail" \
	test -f "$PM_HOME/.local/state/pullmail/$ACCOUNT.uidl"
ok "relative XDG_STATE_HOME: nothing created under the relative path" test ! -e "$T/relative"

done_testing
