#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# many.sh - many accounts at once:
#
#   contrib/bench/many.sh [--pullmail PATH] [--accounts N] [--jobs J]
#                         [--messages M]
#
# One private Dovecot (tests/lib/dovecot.sh), M small messages (default 10)
# in its mailbox; a config of N accounts (default 500), all of that user,
# each into a Maildir of its own, keep mode (so each account fetches the
# same M); pullmail -j J (default 32) fetches them all.  Prints the total
# time, the time per account, pullmail's peak RSS (the parent) and the
# largest peak RSS of a job, and the time one account takes alone, with
# the target "total within 2x of (one account alone) x N / J".  Timings
# only: no pass/fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PM=$top/pullmail
N=500
J=32
M=10
while [ $# -gt 0 ]; do
	case $1 in
	--pullmail) PM=$2; shift 2 ;;
	--accounts) N=$2; shift 2 ;;
	--jobs) J=$2; shift 2 ;;
	--messages) M=$2; shift 2 ;;
	*) echo "usage: see the top of $0" >&2; exit 2 ;;
	esac
done
W=$(mktemp -d /tmp/pm-many.XXXXXX)
trap 'bash "$top/tests/lib/dovecot.sh" stop "$W/server" >/dev/null 2>&1; rm -rf "$W"' EXIT
bash "$top/tests/lib/dovecot.sh" start "$W/server" >/dev/null || exit 1
# shellcheck disable=SC1091
. "$W/server/env"
python3 -S "$top/tests/lib/genmail.py" --out "$W/mail" --count "$M" --mix small >/dev/null
bash "$top/tests/lib/dovecot.sh" seed "$W/server" "$W/mail"

config() { # FILE COUNT
	local i
	(
		umask 077
		exec >"$1"
		printf '[defaults]\njobs = %s\nhost = localhost\nport = %s\nuser = %s\npassword = "%s"\nca_file = %s\nkeep = yes\n' \
			"$J" "$POP3S_PORT" "$POP3_USER" "$POP3_PASS" "$CA_FILE"
		for i in $(seq "$2"); do
			printf '\n[a%d]\nmaildir = %s/md/a%d\n' "$i" "$W" "$i"
		done
	)
}
# run CONFIG: seconds, then the parent's and the largest child's peak RSS
run() {
	python3 -S - "$PM" "$1" "$W" <<'EOF' || exit 1
import os, resource, subprocess, sys, time
pm, conf, w = sys.argv[1:4]
env = dict(os.environ, HOME=w, XDG_STATE_HOME=w + "/state")
t0 = time.monotonic()
r = subprocess.run([pm, "-C", conf], env=env, stdin=subprocess.DEVNULL)
t = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if r.returncode != 0:
    sys.exit("pullmail exited %d" % r.returncode)
print("%.3f %d" % (t, ru.ru_maxrss))
EOF
}
config "$W/one.conf" 1
out=$(run "$W/one.conf") || exit 1
read -r t1 _ <<<"$out"
rm -rf "$W/state" "$W/md"
config "$W/many.conf" "$N"
out=$(run "$W/many.conf") || exit 1
read -r tn rss <<<"$out"
got=$(find "$W/md" -path '*/new/*' -type f | wc -l)
printf '%s accounts, -j %s, %s messages each (keep): %s of %s delivered\n' "$N" "$J" "$M" "$got" $((N * M))
printf 'one account alone  %8.3f s\n' "$t1"
printf 'all %-14s %8.3f s  (%.1f ms an account; target %.3f s = 2 x %.3f x %s / %s)\n' \
	"$N" "$tn" "$(awk -v t="$tn" -v n="$N" 'BEGIN { print t * 1000 / n }')" \
	"$(awk -v a="$t1" -v n="$N" -v j="$J" 'BEGIN { print 2 * a * n / j }')" "$t1" "$N" "$J"
printf 'largest peak RSS of a process  %s KB\n' "$rss"
