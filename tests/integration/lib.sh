# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# lib.sh - shared helpers for pullmail's integration tests (bash).
#
# Sourced by each tests/integration/*.sh script, which prints TAP:
#
#   . "$(dirname "$0")/lib.sh"
#   start_server                 # private Dovecot, env sourced, stopped on exit
#   seed 10 --mix edge           # generate into $EXPECTED and seed the server
#   write_config implicit "$POP3S_PORT" localhost
#   run_pm -v                    # -> $PM_RC, $PM_OUT, $PM_ERR
#   is "$PM_RC" 0 "exit status"
#   fake_start --fault drop-mid-retr=2   # tests/lib/fakepop.py instead:
#                                # $FAKE_PORT, $FAKE_LOG, $FAKE_SRV, $FAKE_MD
#   wait_for 30 test -e "$T/x"   # poll a condition (a count, never a clock)
#   done_testing
#
# A script that needs a tool calls "need faketime:faketime" first: without
# it the script is skipped (TAP "1..0 # SKIP ...", exit status 77, which
# Automake shows as SKIP); one check that cannot run is "skip DESC REASON".
#
# Environment (set by "make check"; defaults for running by hand):
#   PULLMAIL  the binary            (default: ../../pullmail from this file)
#   TESTLIB   tests/lib             (default: ../lib from this file)
#   PYTHON3   the Python 3 to use   (default: python3)
#
# Everything a test creates lives in $T, a fresh directory under
# ${TMPDIR:-/tmp} that is removed on exit, together with the Dovecot
# instance and any background process registered with track_pid.

# shellcheck disable=SC2034 # variables for the test scripts

# Run by "sh" (dash) from Automake: these tests need bash.
if [ -z "${BASH_VERSION:-}" ]; then
	echo "Bail out! the integration tests need bash"
	exit 99
fi
set -u

_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PULLMAIL=${PULLMAIL:-$_here/../../pullmail}
TESTLIB=${TESTLIB:-$_here/../lib}
PYTHON3=${PYTHON3:-python3}
case $PULLMAIL in /*) ;; *) PULLMAIL=$PWD/$PULLMAIL ;; esac
case $TESTLIB in /*) ;; *) TESTLIB=$PWD/$TESTLIB ;; esac
# A wrapper such as pyenv's shim costs ~0.25 s per call: use the real
# interpreter.
_py=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null) &&
	[ -n "$_py" ] && [ -x "$_py" ] && PYTHON3=$_py
export PULLMAIL TESTLIB PYTHON3

TEST_NAME=$(basename "$0" .sh)

# ---------------------------------------------------------------- TAP

_tap_n=0
_tap_failed=0
_tap_skipped=0
_tap_done=0

# diag MESSAGE...: TAP comments, one per line of each MESSAGE
diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do
		printf '# %s\n' "$line"
	done
}

_tap_result() { # PASSED DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" = 1 ]; then
		printf 'ok %d - %s\n' "$_tap_n" "$2"
		return 0
	fi
	_tap_failed=$((_tap_failed + 1))
	printf 'not ok %d - %s\n' "$_tap_n" "$2"
	return 1
}

# ok DESCRIPTION COMMAND [ARG...]: passes if COMMAND exits 0
ok() {
	local desc=$1
	shift
	if "$@"; then
		_tap_result 1 "$desc"
	else
		_tap_result 0 "$desc"
		diag "  failed: $*"
		return 1
	fi
}

# is GOT EXPECTED DESCRIPTION: string equality
is() {
	if [ "$1" = "$2" ]; then
		_tap_result 1 "$3"
	else
		_tap_result 0 "$3"
		diag "       got: '$1'" "  expected: '$2'"
		return 1
	fi
}

# contains TEXT FRAGMENT DESCRIPTION: TEXT contains FRAGMENT (literally)
contains() {
	case $1 in
	*"$2"*) _tap_result 1 "$3" ;;
	*)
		_tap_result 0 "$3"
		diag "  '$1'" "  does not contain '$2'"
		return 1
		;;
	esac
}

# lacks TEXT FRAGMENT DESCRIPTION: TEXT does not contain FRAGMENT
lacks() {
	case $1 in
	*"$2"*)
		_tap_result 0 "$3"
		diag "  '$1'" "  contains '$2'"
		return 1
		;;
	*) _tap_result 1 "$3" ;;
	esac
}

# skip DESCRIPTION REASON: a test that cannot run here, as a TAP skip
# ("ok N - DESCRIPTION # SKIP REASON"): Automake counts it as SKIP, not
# PASS, and .ci/run fails on it
skip() {
	_tap_skipped=$((_tap_skipped + 1))
	_tap_result 1 "$1 # SKIP $2"
}

# todo DESCRIPTION REASON COMMAND [ARG...]: a check known to fail (TAP
# TODO): its failure is an expected one (XFAIL), a pass is an unexpected
# one (XPASS, which fails the suite: remove the TODO once it is fixed)
todo() {
	local desc=$1 reason=$2
	shift 2
	_tap_n=$((_tap_n + 1))
	if "$@"; then
		printf 'ok %d - %s # TODO %s\n' "$_tap_n" "$desc" "$reason"
	else
		printf 'not ok %d - %s # TODO %s\n' "$_tap_n" "$desc" "$reason"
	fi
}

# skip_all REASON: the whole script cannot run here (a tool it needs is
# missing): "1..0 # SKIP REASON" and exit status 77, before any test
skip_all() {
	[ "$_tap_n" = 0 ] || bail_out "cannot skip after $_tap_n tests: $*"
	_tap_done=1
	printf '1..0 # SKIP %s\n' "$*"
	exit 77
}

# need COMMAND:PACKAGE...: skip the script (skip_all) unless every COMMAND
# is installed; PACKAGE is the Debian package that has it
need() {
	local c
	for c; do
		command -v "${c%%:*}" >/dev/null 2>&1 ||
			skip_all "${c%%:*} not found (apt-get install ${c#*:})"
	done
}

# bail_out REASON: abort the whole script (setup failure)
bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 99
}

# done_testing: print the plan; the exit status says whether all passed
done_testing() {
	_tap_done=1
	printf '1..%d\n' "$_tap_n"
	if [ "$_tap_skipped" -ne 0 ]; then
		diag "$TEST_NAME: $_tap_skipped of $_tap_n tests skipped"
	fi
	if [ "$_tap_failed" -ne 0 ]; then
		diag "$TEST_NAME: $_tap_failed of $_tap_n tests failed"
		exit 1
	fi
	exit 0
}

"$PYTHON3" -c '' 2>/dev/null || skip_all "$PYTHON3 not found (apt-get install python3)"

# ---------------------------------------------------------- temp dir

T=$(mktemp -d "${TMPDIR:-/tmp}/pm-$TEST_NAME.XXXXXX") || bail_out "mktemp failed"
T=$(cd "$T" && pwd -P)
SERVER=$T/server
EXPECTED=$T/expected
MAILDIR=$T/Maildir
PM_HOME=$T/home
PM_STATE=$T/state
STATE_DIR=$PM_STATE/pullmail
CONFIG=$PM_HOME/.config/pullmail/config
ACCOUNT="test"
mkdir -p "$EXPECTED" "$PM_HOME/.config/pullmail" "$PM_STATE" || bail_out "mkdir in $T failed"

_server_started=0
_tracked_pids=

# wait_for SECS COMMAND [ARG...]: run COMMAND every 50 ms until it
# succeeds, at most SECS x 20 times (a count: on a loaded machine the wait
# only gets longer); status 1 if it never did.  SECS is a generous cap that
# only catches a hang: nothing may depend on how soon COMMAND succeeds.
wait_for() {
	local i n=$(($1 * 20))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# wait_fakepop PID PORTFILE ERRFILE [NAME]: wait (wait_for 30) until the
# fakepop.py started as PID has written its port number to PORTFILE; bail
# out with its stderr (ERRFILE) if it died first or never did
wait_fakepop() {
	local pid=$1 pf=$2 ef=$3 name=${4:-fakepop}
	wait_for 30 _fakepop_up "$pid" "$pf" || true
	[ -s "$pf" ] || bail_out "$name did not start: $(cat "$ef")"
}
_fakepop_up() { # PID PORTFILE: it wrote the port, or it is gone
	[ -s "$2" ] || ! kill -0 "$1" 2>/dev/null
}

# signal_pending PID [SIGNUM]: signal SIGNUM (default 15, SIGTERM) is
# pending for PID (sent, not yet taken: its handler has not run)
signal_pending() {
	local key val bit=$((1 << (${2:-15} - 1)))
	while read -r key val; do
		case $key in
		SigPnd: | ShdPnd:) (((16#$val & bit) != 0)) && return 0 ;;
		esac
	done 2>/dev/null <"/proc/$1/status"
	return 1
}

# wait_signal_taken PID [SIGNUM]: after "kill -SIG PID", wait (wait_for
# 30) until PID has taken the signal, i.e. its handler ran; status 1 if not
wait_signal_taken() {
	wait_for 30 eval "! signal_pending $1 ${2:-15}"
}

# track_pid PID: kill PID (if still running) when the test exits
track_pid() {
	_tracked_pids="$_tracked_pids $1"
}

# untrack_pid PID: forget a tracked process once it has been waited for:
# its PID may be reused by then, and the cleanup kills tracked PIDs at exit
untrack_pid() {
	local p l=
	for p in $_tracked_pids; do
		[ "$p" = "$1" ] || l="$l $p"
	done
	_tracked_pids=$l
}

# fakepop, one at a time: fake_start FAKEPOP-ARG... stops the one started
# before and starts a fresh one in $FD = $FAKE_DIR/fake.N (FAKE_DIR: $T
# unless set), its mailbox FAKE_SRV holding a copy of $FAKE_MAIL's messages
# (empty if FAKE_MAIL is unset); sets FAKE_PORT, FAKE_LOG (its transcript)
# and FAKE_MD (a Maildir for this case), and forgets the UIDL cache (every
# fakepop starts with the same UIDs). fake_stop stops it.
FAKE_N=0
FAKE_PID=
fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		kill -TERM "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		untrack_pid "$FAKE_PID"
		FAKE_PID=
	fi
}
fake_start() {
	fake_stop
	FAKE_N=$((FAKE_N + 1))
	FD=${FAKE_DIR:-$T}/fake.$FAKE_N
	FAKE_SRV=$FD/srv
	FAKE_MD=$FD/Maildir
	FAKE_LOG=$FD/transcript
	mkdir -p "$FAKE_SRV" || bail_out "cannot set up $FD"
	if [ -n "${FAKE_MAIL:-}" ]; then
		cp "$FAKE_MAIL"/* "$FAKE_SRV"/ || bail_out "cannot set up $FD"
	fi
	rm -rf "$STATE_DIR"
	"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$FAKE_SRV" \
		--port-file "$FD/port" --log "$FAKE_LOG" "$@" 2>"$FD/fakepop.err" &
	FAKE_PID=$!
	track_pid "$FAKE_PID"
	wait_fakepop "$FAKE_PID" "$FD/port" "$FD/fakepop.err"
	FAKE_PORT=$(cat "$FD/port")
}

_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	for pid in $_tracked_pids; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [ "$_server_started" = 1 ]; then
		bash "$TESTLIB/dovecot.sh" stop "$SERVER" >/dev/null 2>&1 || true
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	if [ "$_tap_done" = 0 ] && [ "$rc" = 0 ]; then
		rc=99
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------ server

# start_server: start a private Dovecot in $SERVER and source its env
# (the script is skipped if Dovecot or openssl is not installed)
start_server() {
	[ -x /usr/sbin/dovecot ] || [ -x /usr/local/sbin/dovecot ] ||
		need dovecot:dovecot-pop3d
	need openssl:openssl
	_server_started=1
	if ! bash "$TESTLIB/dovecot.sh" start "$SERVER" >"$T/server-start.log" 2>&1; then
		diag "$(cat "$T/server-start.log")"
		bail_out "could not start Dovecot"
	fi
	# shellcheck disable=SC1091
	. "$SERVER/env" || bail_out "cannot read $SERVER/env"
}

# _count_msgs DIR: messages in DIR/new and DIR/cur (no extra process: the
# tests count often, on a loaded machine)
_count_msgs() {
	local -a f
	shopt -s nullglob
	f=("$1"/new/* "$1"/cur/*)
	shopt -u nullglob
	echo "${#f[@]}"
}

# dlog_count FIXED-STRING: lines of Dovecot's log containing it
dlog_count() {
	grep -cF -- "$1" "$DOVECOT_LOG" 2>/dev/null || true
}

# dlog_grew FIXED-STRING BEFORE: wait (wait_for 30: Dovecot writes its log
# asynchronously) until more than BEFORE lines contain FIXED-STRING
dlog_grew() {
	wait_for 30 _dlog_more "$1" "$2" && return 0
	diag "Dovecot's log has no new line with '$1'"
	return 1
}
_dlog_more() { # FIXED-STRING BEFORE
	[ "$(dlog_count "$1")" -gt "$2" ]
}

# server_count: print the number of messages on the server
server_count() {
	_count_msgs "$SERVER_MAILDIR"
}

_seed_calls=0

# seed N [GENMAIL-ARGS...]: generate N messages (genmail.py, a new seed and
# file numbers following those already in $EXPECTED unless ARGS say
# otherwise), add them to $EXPECTED and to the server's mailbox.
seed() {
	local n=$1 stage first
	shift
	_seed_calls=$((_seed_calls + 1))
	stage=$T/gen.$_seed_calls
	first=$(($(find "$EXPECTED" -type f | wc -l) + 1))
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$stage" --count "$n" \
		--seed $((20240600 + _seed_calls)) --first "$first" "$@" ||
		bail_out "genmail.py failed"
	cp "$stage"/* "$EXPECTED"/ || bail_out "copying messages failed"
	bash "$TESTLIB/dovecot.sh" seed "$SERVER" "$stage" || bail_out "seeding the server failed"
	rm -rf "$stage"
}

# ------------------------------------------------------------ config

# _config_section NAME TLS PORT HOST [KEY=VALUE | -KEY]...: print a section.
# Defaults: user, password (quoted), maildir = $MAILDIR and, unless TLS is
# none, ca_file = $CA_FILE; KEY=VALUE sets or replaces a key (written as
# is), -KEY drops it.
_config_section() {
	local name=$1 tls=$2 port=$3 host=$4 arg key
	shift 4
	local -a keys=(host port tls user password maildir)
	local -A val=(
		[host]=$host [port]=$port [tls]=$tls [user]=${POP3_USER:-pmtest}
		[password]="\"${POP3_PASS:-pm-Secret-42}\"" [maildir]=$MAILDIR
	)
	if [ "$tls" != none ]; then
		keys+=(ca_file)
		val[ca_file]=${CA_FILE:-}
	fi
	for arg in "$@"; do
		case $arg in
		-*)
			key=${arg#-}
			unset "val[$key]"
			;;
		*=*)
			key=${arg%%=*}
			[ -n "${val[$key]+set}" ] || keys+=("$key")
			val[$key]=${arg#*=}
			;;
		*) bail_out "_config_section: bad argument '$arg'" ;;
		esac
	done
	printf '[%s]\n' "$name"
	for key in "${keys[@]}"; do
		if [ -n "${val[$key]+set}" ]; then
			printf '%s = %s\n' "$key" "${val[$key]}"
		fi
	done
	printf '\n'
}

# write_config TLS PORT HOST [KEY=VALUE | -KEY]...: write $CONFIG (mode
# 0600) with the one account $ACCOUNT.
write_config() {
	mkdir -p "$(dirname "$CONFIG")"
	(umask 077 && _config_section "$ACCOUNT" "$@" >"$CONFIG") ||
		bail_out "cannot write $CONFIG"
	chmod 0600 "$CONFIG"
}

# add_account NAME TLS PORT HOST [KEY=VALUE | -KEY]...: append an account
add_account() {
	_config_section "$@" >>"$CONFIG" || bail_out "cannot write $CONFIG"
}

# term_reap PID DESCRIPTION: SIGTERM to the pullmail started in the
# background as PID (its output in $T/pm.out and $T/pm.err), one check that
# it ended within 20 s (waited for by count, then killed if not), then
# reaped: PM_RC, PM_OUT, PM_ERR as run_pm sets them
term_reap() {
	local pid=$1 desc=$2
	kill -TERM "$pid"
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	ok "$desc" eval '! kill -0 "$pid" 2>/dev/null'
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	PM_RC=$?
	untrack_pid "$pid"
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
}

# mode_config MODE POLICY [KEY=VALUE | -KEY]...: the account $ACCOUNT
# against the fakepop running now (user u, password p), delivering by MODE:
# maildir ($FAKE_MD), mbox ($FD/mbox) or procmail (into $FAKE_MD, with
# $T/procmailrc); POLICY: delete, keep or keep_days (5 days)
mode_config() {
	local mode=$1 policy=$2
	shift 2
	local -a keys=(user=u 'password="p"' allow_plaintext=yes)
	case $mode in
	maildir) keys+=("maildir=$FAKE_MD") ;;
	mbox) keys+=(-maildir "mbox=$FD/mbox") ;;
	procmail)
		mkdir -p "$FAKE_MD"/new "$FAKE_MD"/cur "$FAKE_MD"/tmp
		printf 'MAILDIR=%s/\nDEFAULT=$MAILDIR\n' "$FAKE_MD" >"$T/procmailrc"
		keys+=(-maildir "mda=procmail -m $T/procmailrc")
		;;
	*) bail_out "mode_config: no mode $mode" ;;
	esac
	case $policy in
	delete) ;;
	keep) keys+=(keep=yes) ;;
	keep_days) keys+=(keep_days=5) ;;
	*) bail_out "mode_config: no policy $policy" ;;
	esac
	write_config none "$FAKE_PORT" 127.0.0.1 "${keys[@]}" "$@"
}

# ----------------------------------------------------------- running

# run_pm [ARG...]: run pullmail in $T with HOME=$PM_HOME and
# XDG_STATE_HOME=$PM_STATE (the config is $CONFIG =
# $HOME/.config/pullmail/config unless -C is given), stdin from /dev/null,
# stdout and stderr to files, killed after 25 s.  Sets PM_RC, PM_OUT and
# PM_ERR; the files are $T/pm.out and $T/pm.err.
run_pm() {
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		timeout -k 2 25 "$PULLMAIL" "$@" </dev/null >"$T/pm.out" 2>"$T/pm.err")
	PM_RC=$?
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	if [ "${VERBOSE_PM:-0}" = 1 ]; then
		diag "pullmail $* -> $PM_RC" "stdout: $PM_OUT" "stderr: $PM_ERR"
	fi
	return 0
}

# show_pm: the last run as TAP comments (for failures)
show_pm() {
	diag "exit $PM_RC" "stdout: $PM_OUT" "stderr: $PM_ERR"
}

# ---------------------------------------------------------- checking

# count_files DIR: number of regular files directly in DIR (0 if none)
count_files() {
	if [ -d "$1" ]; then
		find "$1" -mindepth 1 -maxdepth 1 -type f | wc -l | tr -d ' '
	else
		echo 0
	fi
}

# maildir_count [MAILDIR]: messages in new/ and cur/
maildir_count() {
	_count_msgs "${1:-$MAILDIR}"
}

# mailcheck [--allow-duplicates]: compare $MAILDIR with $EXPECTED byte for
# byte, but for the Received: field pullmail adds at the top; output in
# MC_OUT (also shown as diag on failure)
mailcheck() {
	local rc
	MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$EXPECTED" \
		--maildir "$MAILDIR" --strip-received "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

# line_count TEXT: number of lines in TEXT (0 if empty)
line_count() {
	if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi
}

# file_mode FILE: octal permission bits
file_mode() {
	stat -c %a "$1"
}

# now_ms: a monotonic-enough clock in milliseconds, for timings shown with
# diag; no test may pass or fail on one (a loaded machine is slow)
now_ms() {
	date +%s%3N
}
