#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# errors.sh - login refused, connection refused, usage and configuration
# errors, several accounts with one failing, the -vv trace hiding the
# password, a password_command that fails (hangs, prints nothing, too much
# or a NUL byte, exits non-zero, cannot be started), SIGTERM while the
# server is silent (tests/lib/fakepop.py) or password_command hangs,
# ~/.netrc that cannot be used.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# a TCP port on 127.0.0.1 that nothing listens on
closed_port() {
	"$PYTHON3" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

start_server
seed 4
good=(implicit "$POP3S_PORT" "$POP3_TLS_HOST")

# untouched NAME: nothing fetched, nothing deleted
delivered=0
untouched() {
	is "$(server_count)" 4 "$1: nothing deleted from the server"
	is "$(maildir_count)" "$delivered" "$1: nothing delivered"
}

# wrong password
write_config "${good[@]}" 'password="not-the-password"'
run_pm
is "$PM_RC" 77 "wrong password: exit status 77" || show_pm
contains "$PM_ERR" "login refused" "wrong password: stderr says login refused"
contains "$PM_ERR" "[AUTH] Authentication failed." "wrong password: stderr has the server's text"
is "$(line_count "$PM_ERR")" 1 "wrong password: one line on stderr"
untouched "wrong password"

# nothing listening
port=$(closed_port)
write_config implicit "$port" "$POP3_HOST"
run_pm
is "$PM_RC" 75 "closed port: exit status 75" || show_pm
contains "$PM_ERR" "$POP3_HOST" "closed port: stderr names the host"
contains "$PM_ERR" "$port" "closed port: stderr names the port"
contains "$PM_ERR" "Connection refused" "closed port: stderr gives the reason"
untouched "closed port"

# unknown account on the command line: nothing fetched at all
write_config "${good[@]}"
run_pm "$ACCOUNT" nosuch
is "$PM_RC" 64 "unknown account: exit status 64" || show_pm
contains "$PM_ERR" "nosuch" "unknown account: stderr names it"
untouched "unknown account"

# accounts on the command line are matched without regard to case
run_pm "${ACCOUNT^^}"
is "$PM_RC" 0 "account name in upper case: exit status 0" || show_pm
is "$(server_count)" 0 "account name in upper case: fetched"
ok "account name in upper case: Maildir identical to the seed" mailcheck
delivered=4
seed 4

# unknown key
write_config "${good[@]}" "colour=blue"
run_pm
is "$PM_RC" 78 "unknown key: exit status 78" || show_pm
is "$PM_ERR" "pullmail: $CONFIG: [$ACCOUNT] colour: unknown key" "unknown key: the message"
untouched "unknown key"

# TLS paths that are missing or of the wrong type: configuration errors at
# load, for a fetch, -c and --dump-config alike, naming the expanded path
write_config "${good[@]}" "ca_file=~/no-such-ca.pem"
for opt in "" -c --dump-config; do
	run_pm $opt
	is "$PM_RC" 78 "ca_file missing${opt:+, $opt}: exit status 78" || show_pm
	is "$PM_ERR" "pullmail: $CONFIG: [$ACCOUNT] ca_file: $PM_HOME/no-such-ca.pem: No such file or directory" \
		"ca_file missing${opt:+, $opt}: one line naming file, section, key and path"
	is "$PM_OUT" "" "ca_file missing${opt:+, $opt}: nothing on stdout"
done
untouched "ca_file missing"
write_config "${good[@]}" "ca_path=$CA_FILE"
run_pm --dump-config
is "$PM_RC" 78 "ca_path a file: exit status 78" || show_pm
is "$PM_ERR" "pullmail: $CONFIG: [$ACCOUNT] ca_path: $CA_FILE: not a directory" \
	"ca_path a file: the message"
write_config "${good[@]}" "client_cert=$T" "client_key=$CA_FILE"
run_pm -c
is "$PM_RC" 78 "client_cert a directory: exit status 78" || show_pm
is "$PM_ERR" "pullmail: $CONFIG: [$ACCOUNT] client_cert: $T: is a directory, not a file" \
	"client_cert a directory: the message"

# a password in a file others can read
write_config "${good[@]}"
chmod 0644 "$CONFIG"
run_pm
is "$PM_RC" 78 "password in a mode 0644 file: exit status 78" || show_pm
contains "$PM_ERR" "chmod 600" "password in a mode 0644 file: stderr says what to run"
untouched "password in a mode 0644 file"

# a non-existent configuration file
run_pm -C "$T/no-such-config"
is "$PM_RC" 78 "missing config file: exit status 78" || show_pm
contains "$PM_ERR" "$T/no-such-config" "missing config file: stderr names the file"

# two accounts, the first fails: the second is still fetched, the status
# is the first one's
ACCOUNT=broken
write_config implicit "$port" "$POP3_HOST"
add_account good "${good[@]}"
run_pm
is "$PM_RC" 75 "first of two accounts fails: exit status 75 (the first's)" || show_pm
contains "$PM_ERR" "broken" "first of two accounts fails: stderr names it"
lacks "$PM_ERR" "good" "first of two accounts fails: nothing said about the second"
is "$(server_count)" 0 "first of two accounts fails: the second is fetched"
ok "first of two accounts fails: the second's mail is identical to the seed" mailcheck

# the other way round: the first succeeds, the second fails
seed 2
ACCOUNT=good
write_config "${good[@]}"
add_account broken implicit "$port" "$POP3_HOST"
run_pm
is "$PM_RC" 75 "second of two accounts fails: exit status 75" || show_pm
is "$(server_count)" 0 "second of two accounts fails: the first is fetched"
ok "second of two accounts fails: Maildir identical to the seed" mailcheck

# three accounts: the second fails with 77, the third with 75; the status
# is the first failure's
seed 2
ACCOUNT=good
write_config "${good[@]}"
add_account badpass "${good[@]}" 'password="not-the-password"'
add_account broken implicit "$port" "$POP3_HOST"
run_pm
is "$PM_RC" 77 "good, 77, 75: exit status 77 (the first failure's)" || show_pm
is "$(line_count "$PM_ERR")" 2 "good, 77, 75: one error line per failed account"
is "$(server_count)" 0 "good, 77, 75: the good account is fetched"
ok "good, 77, 75: Maildir identical to the seed" mailcheck

# command line
run_pm --help
is "$PM_RC" 0 "--help: exit status 0"
contains "$PM_OUT" "usage: pullmail" "--help: usage on stdout"
run_pm --version
is "$PM_RC" 0 "--version: exit status 0"
is "$(printf "%s\n" "$PM_OUT" | head -n 1)" "pullmail 0.1.0" "--version: first line 'pullmail 0.1.0'"
run_pm --no-such-option
is "$PM_RC" 64 "bad option: exit status 64"
contains "$PM_ERR" "no-such-option" "bad option: stderr names it"
is "$PM_OUT" "" "bad option: nothing on stdout"
run_pm -x
is "$PM_RC" 64 "bad short option: exit status 64"

# -vv: the trace masks the password
seed 3
ACCOUNT=trace
write_config "${good[@]}" auth=user
run_pm -vv
is "$PM_RC" 0 "-vv: exit status 0" || show_pm
contains "$PM_ERR" "> USER $POP3_USER" "-vv: the trace shows USER"
contains "$PM_ERR" "> PASS ***" "-vv: the trace shows PASS ***"
ok "-vv: the password is nowhere in stdout or stderr" \
	test "$(grep -cF -e "$POP3_PASS" "$T/pm.out" "$T/pm.err" | awk -F: '{ n += $NF } END { print n + 0 }')" = 0
is "$(server_count)" 0 "-vv: fetched"
# and with a wrong password
seed 1
write_config "${good[@]}" 'password="Wrong-Secret-99"' auth=user
run_pm -vv
is "$PM_RC" 77 "-vv, wrong password: exit status 77" || show_pm
contains "$PM_ERR" "> PASS ***" "-vv, wrong password: the trace shows PASS ***"
lacks "$PM_OUT$PM_ERR" "Wrong-Secret-99" "-vv, wrong password: the password is not shown"

# password_command: one clear line for each way it can fail, nothing
# fetched; 78 but for a hang, a temporary failure (75). The output is at
# most one line of 64 KiB that is the password, never cut short.
BIN=$T/bin
mkdir -p "$BIN"
printf '#!/bin/sh\nexec sleep 300\n' >"$BIN/hang"
printf '#!/bin/sh\nexit 0\n' >"$BIN/silent"
printf '#!/bin/sh\necho "%s"\nexit 1\n' "$POP3_PASS" >"$BIN/fails"
printf '#!/bin/sh\nkill -KILL $$\n' >"$BIN/killed"
printf '#!/bin/sh\nprintf "%s\\000x\\n"\n' "$POP3_PASS" >"$BIN/nul"
# the password and 70000 bytes more on its line: once cut to the limit, a
# wrong password; it must be refused instead
printf '#!/bin/sh\nprintf "%s"; head -c 70000 /dev/zero | tr "\\\\000" x; echo\n' \
	"$POP3_PASS" >"$BIN/huge"
chmod 0755 "$BIN"/*
pwcmd_fails() { # LABEL STATUS MESSAGE COMMAND [KEY=VALUE...]
	local label=$1 rc=$2 msg=$3 cmd=$4
	shift 4
	write_config "${good[@]}" -password "password_command=$cmd" "$@"
	run_pm
	is "$PM_RC" "$rc" "$label: exit status $rc" || show_pm
	is "$PM_ERR" "pullmail: $ACCOUNT: $msg" "$label: one line saying so"
	is "$(server_count)" "$srv0" "$label: nothing fetched"
}
seed 1
srv0=$(server_count)
pwcmd_fails "password_command hangs" 75 \
	"password_command $BIN/hang did not finish in 1 seconds (password_command_timeout) and was killed" \
	"$BIN/hang" password_command_timeout=1
pwcmd_fails "password_command prints nothing" 78 \
	"password_command $BIN/silent printed nothing" "$BIN/silent"
pwcmd_fails "password_command exits 1" 78 \
	"password_command $BIN/fails exited 1" "$BIN/fails"
lacks "$PM_ERR" "$POP3_PASS" "password_command exits 1: what it printed is not shown"
pwcmd_fails "password_command killed by a signal" 78 \
	"password_command $BIN/killed was killed by signal 9 (Killed)" "$BIN/killed"
pwcmd_fails "password_command cannot be started" 78 \
	"password_command $T/no-such-command: cannot run it: No such file or directory" \
	"$T/no-such-command"
pwcmd_fails "password_command prints a NUL byte" 78 \
	"password_command $BIN/nul printed a NUL byte in its first line (a password cannot hold one)" \
	"$BIN/nul"
pwcmd_fails "password_command prints 70 KB" 78 \
	"password_command $BIN/huge printed a first line longer than 65536 bytes, the limit for a password or token" \
	"$BIN/huge"
# SIGTERM while password_command hangs: stopped at once (75), the command
# killed; not after password_command_timeout (300 s here; the bound of
# 20 s below is far less)
printf '#!/bin/sh\necho $$ >"%s"\nexec sleep 300\n' "$T/hang.pid" >"$BIN/hang2"
chmod 0755 "$BIN/hang2"
rm -f "$T/hang.pid"
write_config "${good[@]}" -password "password_command=$BIN/hang2" \
	password_command_timeout=300
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	"$PULLMAIL" </dev/null >"$T/pm.out" 2>"$T/pm.err") &
pid=$!
track_pid "$pid"
for _ in $(seq 200); do
	[ -s "$T/hang.pid" ] && break
	sleep 0.05
done
ok "SIGTERM, password_command hangs: the command started" test -s "$T/hang.pid"
term_reap "$pid" "SIGTERM, password_command hangs: pullmail ended within 20 s"
is "$PM_RC" 75 "SIGTERM, password_command hangs: exit status 75" || show_pm
is "$PM_ERR" "pullmail: $ACCOUNT: password_command $BIN/hang2: stopped by a signal" \
	"SIGTERM, password_command hangs: one line saying so"
hpid=$(cat "$T/hang.pid")
for _ in $(seq 50); do
	kill -0 "$hpid" 2>/dev/null || break
	sleep 0.1
done
ok "SIGTERM, password_command hangs: the command was killed" \
	eval '! kill -0 "$hpid" 2>/dev/null || grep -q "^[^ ]* ([^)]*) Z" /proc/$hpid/stat'

# the timeout is a duration like the others, and --dump-config shows it
write_config "${good[@]}" password_command_timeout=0
run_pm --dump-config
is "$PM_RC" 78 "password_command_timeout = 0: exit status 78" || show_pm
is "$PM_ERR" "pullmail: $CONFIG: [$ACCOUNT] password_command_timeout: \"0\" is not a number of seconds from 1 to 86400" \
	"password_command_timeout = 0: the message"
write_config "${good[@]}"
run_pm --dump-config
contains "$PM_OUT" "password_command_timeout = 60" "--dump-config: password_command_timeout = 60, the default"
write_config "${good[@]}" password_command_timeout=5
run_pm --dump-config
contains "$PM_OUT" "password_command_timeout = 5" "--dump-config: password_command_timeout = 5 as set"
run_pm
is "$PM_RC" 0 "the account fetched after all that" || show_pm
is "$(server_count)" 0 "the account fetched after all that: server empty"

# SIGTERM while the server is silent: the session ends within a second or
# so, not after timeout (300 s here: a pass cannot be the timeout; 20 s is
# the bound). Exit 75, one clear line; nothing of the message cut short is
# delivered, what was delivered whole before it is kept, and nothing is
# deleted on the server (no QUIT).
FAKE_MAIL=$T/fakemail
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 4 --seed 4343 >/dev/null ||
	bail_out "genmail.py failed"
stall_term() { # LABEL FAULT DELIVERED
	local label=$1 fault=$2 want=$3 pid rc
	fake_start --fault "$fault"
	write_config none "$FAKE_PORT" 127.0.0.1 user=u 'password="p"' auth=user \
		allow_plaintext=yes timeout=300 "maildir=$FAKE_MD"
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$PULLMAIL" </dev/null >"$T/pm.out" 2>"$T/pm.err") &
	pid=$!
	track_pid "$pid"
	for _ in $(seq 200); do
		grep -q '^S: stalling$' "$FAKE_LOG" && break
		sleep 0.05
	done
	ok "$label: fakepop went silent" grep -q '^S: stalling$' "$FAKE_LOG"
	# the messages before the stalled one delivered (in tmp/ until the
	# batch is synced), the stalled one begun
	if [ "$want" != 0 ]; then
		for _ in $(seq 200); do
			[ "$(count_files "$FAKE_MD/tmp")" -gt "$want" ] && break
			sleep 0.05
		done
		ok "$label: pullmail is in message $((want + 1))" \
			test "$(count_files "$FAKE_MD/tmp")" -gt "$want"
	fi
	term_reap "$pid" "$label: pullmail ended within 20 s of SIGTERM (timeout = 300)"
	is "$PM_RC" 75 "$label: exit status 75" || { show_pm; diag "$(cat "$FAKE_LOG")"; }
	if [ "$want" = 0 ]; then
		is "$PM_ERR" "pullmail: $ACCOUNT: 127.0.0.1: stopped by a signal while waiting for the server" \
			"$label: one line saying so"
	else
		is "$(printf '%s\n' "$PM_ERR" | head -n 1)" \
			"pullmail: $ACCOUNT: 127.0.0.1: stopped by a signal while waiting for the server" \
			"$label: the error says so"
		contains "$PM_ERR" "the $want messages delivered before the error are safe in" \
			"$label: and that the messages delivered whole are kept"
	fi
	is "$(maildir_count "$FAKE_MD")" "$want" "$label: $want messages delivered"
	is "$(count_files "$FAKE_MD/tmp")" 0 "$label: nothing left in tmp/"
	is "$(count_files "$FAKE_SRV")" 4 "$label: nothing deleted on the server"
	is "$(grep -c '^C: \(DELE\|QUIT\)' "$FAKE_LOG")" 0 "$label: no DELE or QUIT sent"
}
stall_term "SIGTERM, silent greeting" stall-greeting 0
stall_term "SIGTERM, stalled in message 1" stall-mid-retr=1 0
stall_term "SIGTERM, stalled in message 3" stall-mid-retr=3 2
fake_stop

# ~/.netrc: a dotfile manager's symlink is followed; a FIFO, a directory,
# a group-readable file and another user's are errors (78), never passed
# over (nor waited on); no entry for the host goes on to the next source.
NETRC=$PM_HOME/.netrc
mkdir -p "$T/dotfiles"
printf 'machine %s login %s password %s\n' "$POP3_TLS_HOST" "$POP3_USER" \
	"$POP3_PASS" >"$T/dotfiles/netrc"
chmod 0600 "$T/dotfiles/netrc"
ln -s "$T/dotfiles/netrc" "$NETRC"
write_config "${good[@]}" -password
run_pm
is "$PM_RC" 0 "netrc, a symlink: exit status 0" || show_pm
is "$(server_count)" 0 "netrc, a symlink: its password logged in"
seed 1
chmod 0640 "$T/dotfiles/netrc"
run_pm
is "$PM_RC" 78 "netrc, group-readable: exit status 78" || show_pm
is "$PM_ERR" "pullmail: $ACCOUNT: $NETRC: holds a password but is mode 0640: run chmod 600 $NETRC" \
	"netrc, group-readable: one line naming the file and its mode"
chmod 0600 "$T/dotfiles/netrc"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$T/dotfiles/netrc"
	run_pm
	is "$PM_RC" 78 "netrc, another user's: exit status 78" || show_pm
	contains "$PM_ERR" "$NETRC: holds a password but is owned by uid 65534" \
		"netrc, another user's: stderr names the file and its owner"
	chown 0 "$T/dotfiles/netrc"
else
	skip "netrc, another user's: exit status 78" "not root: cannot chown"
	skip "netrc, another user's: stderr names the file and its owner" \
		"not root: cannot chown"
fi
rm -f "$NETRC"
mkfifo "$NETRC"
# no writer ever comes: waiting for one would end in run_pm's timeout (124)
run_pm
is "$PM_RC" 78 "netrc, a FIFO: exit status 78, not waiting for a writer (not the timeout's 124)" || show_pm
is "$PM_ERR" "pullmail: $ACCOUNT: $NETRC: not a regular file" \
	"netrc, a FIFO: one line naming the file"
write_config "${good[@]}"
run_pm
is "$PM_RC" 0 "netrc, a FIFO, password in the config: not consulted, fetched" || show_pm
seed 1
rm -f "$NETRC"
mkdir "$NETRC"
write_config "${good[@]}" -password
run_pm
is "$PM_RC" 78 "netrc, a directory: exit status 78" || show_pm
is "$PM_ERR" "pullmail: $ACCOUNT: $NETRC: not a regular file" \
	"netrc, a directory: one line naming the file"
rmdir "$NETRC"
printf 'machine elsewhere.example login %s password x\n' "$POP3_USER" >"$NETRC"
chmod 0644 "$NETRC"
run_pm
is "$PM_RC" 78 "netrc, no entry for the host: exit status 78" || show_pm
contains "$PM_ERR" "no password: set password or password_command" \
	"netrc, no entry for the host: on to the next source (no terminal: an error)"
is "$(server_count)" 1 "netrc errors: nothing fetched"
rm -f "$NETRC"

done_testing
