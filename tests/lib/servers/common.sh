# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# common.sh - what the server adapters share (bash, sourced after PROG and
# PYTHON3 are set): errors, paths, the processes of an instance, waiting
# for a greeting, free ids, the inetd.py listener, and the subcommand
# dispatch of tests/lib/servers/README.  An adapter defines cmd_unpack,
# cmd_start, cmd_seed, cmd_count and cmd_stop (cmd_packages if it needs
# packages installed), then ends with: adapter_main "$@"

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	echo "usage: $PROG packages | unpack ROOT | start DIR | seed DIR SRCDIR | count DIR | stop DIR" >&2
	exit 2
}

abs_dir() {
	(cd "$1" && pwd)
}

# session_procs SID: the live (non-zombie) processes of session SID
session_procs() {
	ps -o pid=,stat= -s "$1" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }' || true
}

# wait_greet PORT [tls CAFILE]: until a POP3 greeting arrives on
# 127.0.0.1:PORT (over TLS for "localhost" with "tls"), a bounded count of
# tries; then QUIT, so the server logs a clean session
wait_greet() {
	"$PYTHON3" - "$1" "${2:-}" "${3:-}" <<'PYEOF'
import socket, ssl, sys, time
port, tls, ca = int(sys.argv[1]), sys.argv[2] == "tls", sys.argv[3]
for _ in range(1000):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls:
            ctx = ssl.create_default_context(cafile=ca)
            s = ctx.wrap_socket(s, server_hostname="localhost")
        f = s.makefile("rwb")
        line = f.readline()
        if line.startswith(b"+OK"):
            f.write(b"QUIT\r\n")
            f.flush()
            f.readline()
            s.close()
            sys.exit(0)
        s.close()
    except (OSError, ssl.SSLError):
        pass
    time.sleep(0.01)
sys.exit(1)
PYEOF
}

# free_id N: the first id from N on that is neither a uid nor a gid here
free_id() {
	local id=$1
	while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do
		id=$((id + 1))
	done
	echo "$id"
}

# inetd_pid DIR: the pid of DIR's running inetd.py listener, or nothing
inetd_pid() {
	local pid
	[ -f "$1/pid" ] || return 0
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "inetd.py --port-file $1/port " || return 0
	echo "$pid"
}

# inetd_stop DIR: stop DIR's inetd.py (it stops its children, whose session
# it leads) and wait until nothing of the session is left
inetd_stop() {
	local dir=$1 pid i procs
	pid=$(inetd_pid "$dir")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while [ $i -lt 1500 ] && [ -n "$(session_procs "$pid")" ]; do
		sleep 0.01
		i=$((i + 1))
	done
	procs=$(session_procs "$pid")
	if [ -n "$procs" ]; then
		# shellcheck disable=SC2086
		echo "$PROG: warning: killing leftover processes:" $procs >&2
		# shellcheck disable=SC2086
		kill -KILL $procs 2>/dev/null || true
	fi
	rm -f "$dir/pid"
}

# adapter_main "$@": the subcommands of tests/lib/servers/README
adapter_main() {
	[ $# -ge 1 ] || usage
	case $1 in
	packages)
		[ $# -eq 1 ] || usage
		if declare -F cmd_packages >/dev/null; then cmd_packages; fi
		;;
	unpack)
		[ $# -eq 2 ] || usage
		cmd_unpack "$2"
		;;
	start)
		[ $# -eq 2 ] || usage
		cmd_start "$2"
		;;
	seed)
		[ $# -eq 3 ] || usage
		[ -d "$2" ] || die "$2 not found"
		cmd_seed "$(abs_dir "$2")" "$3"
		;;
	count)
		[ $# -eq 2 ] || usage
		[ -d "$2" ] || die "$2 not found"
		cmd_count "$(abs_dir "$2")"
		;;
	stop)
		[ $# -eq 2 ] || usage
		[ -d "$2" ] || exit 0
		cmd_stop "$(abs_dir "$2")"
		;;
	*)
		usage
		;;
	esac
}
