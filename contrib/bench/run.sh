#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# run.sh - benchmark pullmail against mpop, fetchmail, getmail6 and a bare
# pipelined POP3 client, on a private Dovecot (see contrib/bench/README).
#
#   contrib/bench/run.sh [--pullmail PATH] [--runs N] [--scenario NAME...]
#                        [--quick] [--out FILE.tsv] [--tools LIST] [--tmpfs]
#                        [--timeout SEC] [--slow SEC] [--cache DIR] [--keep-workdir]
set -eu

PROG=run.sh
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
LIB=$top/tests/lib
PYTHON3=${PYTHON3:-python3}
export PYTHON3

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	cat <<EOF
usage: $PROG [options]
  --pullmail PATH    the pullmail to measure (default: $top/pullmail;
                     build an optimised copy for benchmarking, see README)
  --runs N           runs per tool and scenario, medians reported (default 3)
  --scenario NAME... only these scenarios: mixed small keep scale bigmsg cache
                     (default: all, in that order)
  --quick            smaller mailboxes (about 5 minutes in all)
  --out FILE         also write every run and the medians as TSV to FILE
  --tools LIST       comma-separated subset of: pullmail,mpop,fetchmail,getmail,bare
  --tmpfs            deliver into Maildirs on tmpfs (/dev/shm) instead of disk,
                     to take fsync out of the comparison
  --timeout SEC      per-run limit; a slower run is killed and reported as
                     TIMEOUT (default 120, quick 30)
  --slow SEC         run fetchmail and getmail only once per scenario when
                     that run takes longer than SEC (default 60, quick 10; 0: never)
  --cache DIR        where generated mail is kept between invocations
                     (default: /var/tmp/pullmail-bench-cache)
  --keep-workdir     do not remove the work directory (logs, configs)
EOF
	exit "${1:-0}"
}

pullmail=$top/pullmail
runs=
quick=
out=
tools=
tmpfs=
timeout=
slow=
cache=${PULLMAIL_BENCH_CACHE:-/var/tmp/pullmail-bench-cache}
keepwork=
scenarios=()
while [ $# -gt 0 ]; do
	case $1 in
	--pullmail) [ $# -ge 2 ] || usage 2; pullmail=$2; shift 2 ;;
	--pullmail=*) pullmail=${1#*=}; shift ;;
	--runs) [ $# -ge 2 ] || usage 2; runs=$2; shift 2 ;;
	--runs=*) runs=${1#*=}; shift ;;
	--scenario)
		shift
		while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do
			scenarios+=("$1")
			shift
		done
		;;
	--scenario=*) scenarios+=("${1#*=}"); shift ;;
	--quick) quick=1; shift ;;
	--out) [ $# -ge 2 ] || usage 2; out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--tools) [ $# -ge 2 ] || usage 2; tools=$2; shift 2 ;;
	--tools=*) tools=${1#*=}; shift ;;
	--tmpfs) tmpfs=1; shift ;;
	--timeout) [ $# -ge 2 ] || usage 2; timeout=$2; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--slow) [ $# -ge 2 ] || usage 2; slow=$2; shift 2 ;;
	--slow=*) slow=${1#*=}; shift ;;
	--cache) [ $# -ge 2 ] || usage 2; cache=$2; shift 2 ;;
	--cache=*) cache=${1#*=}; shift ;;
	--keep-workdir) keepwork=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "$PROG: unknown argument: $1" >&2; usage 2 ;;
	esac
done
[[ -z $runs || $runs =~ ^[1-9][0-9]?$ ]] || die "--runs: a number from 1 to 99"
[[ -z $timeout || $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout: a number of seconds"
[[ -z $slow || $slow =~ ^[0-9]+$ ]] || die "--slow: a number of seconds"

[ -x "$pullmail" ] || die "$pullmail is not executable (build it, or give --pullmail)"
case $pullmail in /*) ;; *) pullmail=$PWD/$pullmail ;; esac
command -v "$PYTHON3" >/dev/null || die "python3 is needed"
[ -f "$LIB/dovecot.sh" ] || die "$LIB/dovecot.sh not found"
if [ -n "$out" ]; then
	case $out in /*) ;; *) out=$PWD/$out ;; esac
fi

# ---- work directories: disk (temp dir) and, for the fast paths, tmpfs
work=$(mktemp -d "${TMPDIR:-/tmp}/pullmail-bench.XXXXXX")
fast=
cleanup() {
	set +e
	bash "$LIB/dovecot.sh" stop "$work/server" >/dev/null 2>&1
	if [ -n "$keepwork" ]; then
		echo "work directory kept: $work${fast:+ and $fast}"
	else
		rm -rf "$work"
		[ -z "$fast" ] || rm -rf "$fast"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$work"
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt 3000000 ]; then
	fast=$(mktemp -d /dev/shm/pullmail-bench.XXXXXX)
else
	fast=$work/fast
	mkdir -p "$fast"
	echo "$PROG: note: no tmpfs with 3 GB free: the 'fast' Maildirs are on disk" >&2
fi
chmod 755 "$fast"
mkdir -p "$cache"

# ---- disk space: the full run needs ~1.5 GB of cache and ~1 GB of work space
for d in "$work" "$cache"; do
	free=$(df -Pk "$d" | awk 'NR == 2 { print $4 }')
	if [ "$free" -lt 3000000 ]; then
		echo "$PROG: warning: only $((free / 1024)) MB free under $d (about 3 GB wanted)" >&2
	fi
done

# ---- helpers: the bare client in C (else Python) and fetchmail's MDA
mkdir -p "$work/bin"
bare=
maildir_mda=
rusage=
cc=${CC:-cc}
if command -v "$cc" >/dev/null; then
	sslflags=$(pkg-config --cflags --libs openssl 2>/dev/null || echo "-lssl -lcrypto")
	# shellcheck disable=SC2086
	if "$cc" -O2 -o "$work/bin/bare" "$here/bare.c" $sslflags 2>"$work/bin/bare.log"; then
		bare=$work/bin/bare
	else
		echo "$PROG: note: cannot build bare.c (see below); using bare.py, which is slower than a real lower bound" >&2
		sed 's/^/    /' "$work/bin/bare.log" >&2
	fi
	if "$cc" -O2 -static -o "$work/bin/rusage" "$here/rusage.c" 2>/dev/null ||
		"$cc" -O2 -o "$work/bin/rusage" "$here/rusage.c"; then
		rusage=$work/bin/rusage
	fi
	# static if possible: fetchmail starts one per message
	if "$cc" -O2 -static -o "$work/bin/maildir-mda" "$here/maildir-mda.c" 2>/dev/null ||
		"$cc" -O2 -o "$work/bin/maildir-mda" "$here/maildir-mda.c"; then
		maildir_mda=$work/bin/maildir-mda
	fi
else
	echo "$PROG: note: no C compiler: bare.py replaces bare.c, and fetchmail is skipped" >&2
fi
[ -n "$bare" ] || bare=$here/bare.py

# ---- the server
echo "==> starting a private Dovecot in $work/server"
bash "$LIB/dovecot.sh" start "$work/server" >/dev/null
# shellcheck disable=SC1091
. "$work/server/env"
export DOVECOT_PID

args=(--pullmail "$pullmail" --work "$work" --fast "$fast" --cache "$cache"
	--bare "$bare" --maildir-mda "$maildir_mda" --rusage "$rusage")
[ -z "$runs" ] || args+=(--runs "$runs")
[ -z "$quick" ] || args+=(--quick)
[ -z "$out" ] || args+=(--out "$out")
[ -z "$tools" ] || args+=(--tools "$tools")
[ -z "$tmpfs" ] || args+=(--tmpfs)
[ -z "$timeout" ] || args+=(--timeout "$timeout")
[ -z "$slow" ] || args+=(--slow "$slow")
[ ${#scenarios[@]} -eq 0 ] || args+=(--scenario "${scenarios[@]}")
"$PYTHON3" "$here/bench.py" "${args[@]}"
