#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# rtt.sh - pullmail (and mpop, if installed) over a path with a round trip:
#
#   contrib/bench/rtt.sh [--pullmail PATH]... [--messages N] [--rtt MS]...
#                        [--runs R] [--pipelining auto|no]
#
# A private Dovecot (tests/lib/dovecot.sh) on 127.0.0.1, reached over
# implicit TLS through contrib/bench/delayproxy.py delaying each direction
# by half of each round trip given (default: 0 10 50 ms); N small messages
# (genmail --mix small, default 2000) seeded afresh before every run, fetched
# in delete mode into a fresh Maildir; R runs each (default 3), the tools
# alternated, the median printed.  The "floor" is pullmail's 0 ms time plus
# ten round trips (connect, TLS, greeting, CAPA, login, listing, QUIT).
# Several --pullmail builds can be compared.  Timings only: no pass/fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PMS=()
N=2000
RTTS=()
RUNS=3
PIPE=auto
while [ $# -gt 0 ]; do
	case $1 in
	--pullmail) PMS+=("$2"); shift 2 ;;
	--messages) N=$2; shift 2 ;;
	--rtt) RTTS+=("$2"); shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--pipelining) PIPE=$2; shift 2 ;;
	*) echo "usage: see the top of $0" >&2; exit 2 ;;
	esac
done
[ ${#PMS[@]} -gt 0 ] || PMS=("$top/pullmail")
[ ${#RTTS[@]} -gt 0 ] || RTTS=(0 10 50)
W=$(mktemp -d /tmp/pm-rtt.XXXXXX)
PROXY=
cleanup() {
	[ -n "$PROXY" ] && kill "$PROXY" 2>/dev/null
	bash "$top/tests/lib/dovecot.sh" stop "$W/server" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
bash "$top/tests/lib/dovecot.sh" start "$W/server" >/dev/null || exit 1
# shellcheck disable=SC1091
. "$W/server/env"
python3 -S "$top/tests/lib/genmail.py" --out "$W/mail" --count "$N" --mix small >/dev/null

now() { python3 -S -c 'import time; print("%.6f" % time.monotonic())'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# run_one TOOL PORT: seed, fetch, print the seconds it took
run_one() {
	local tool=$1 port=$2 t0 t1 d=$W/run
	rm -rf "$d" "$SERVER_MAILDIR"/new/* "$SERVER_MAILDIR"/cur/*
	mkdir -p "$d/Maildir/new" "$d/Maildir/cur" "$d/Maildir/tmp"
	bash "$top/tests/lib/dovecot.sh" seed "$W/server" "$W/mail" || return 1
	case $tool in
	mpop)
		printf 'account b\nhost localhost\nport %s\ntls on\ntls_starttls off\ntls_trust_file %s\nuser %s\npassword %s\nauth plain\nkeep off\ndelivery maildir %s/Maildir\nuidls_file %s/uidls\n' \
			"$port" "$CA_FILE" "$POP3_USER" "$POP3_PASS" "$d" "$d" >"$d/mpoprc"
		chmod 600 "$d/mpoprc"
		t0=$(now)
		mpop -C "$d/mpoprc" -q b >/dev/null 2>&1 || { echo "mpop failed" >&2; return 1; }
		;;
	*)
		(umask 077 && printf '[b]\nhost = localhost\nport = %s\nuser = %s\npassword = "%s"\nca_file = %s\nmaildir = %s/Maildir\n' \
			"$port" "$POP3_USER" "$POP3_PASS" "$CA_FILE" "$d" >"$d/config")
		[ "$PIPE" = no ] && echo "pipelining = no" >>"$d/config"
		t0=$(now)
		env HOME="$d" XDG_STATE_HOME="$d/state" "$tool" -C "$d/config" </dev/null ||
			{ echo "$tool failed" >&2; return 1; }
		;;
	esac
	t1=$(now)
	n=$(find "$d/Maildir/new" "$d/Maildir/cur" -type f | wc -l)
	[ "$n" = "$N" ] || { echo "$tool: $n of $N delivered" >&2; return 1; }
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

tools=("${PMS[@]}")
command -v mpop >/dev/null && tools+=(mpop)
printf '%s small messages, TLS, delete, pipelining %s, medians of %s\n' "$N" "$PIPE" "$RUNS"
printf '%-8s' "RTT ms"
for t in "${tools[@]}"; do case $t in mpop) l=mpop ;; *) l=$(basename "$(dirname "$t")")/$(basename "$t") ;; esac; printf ' %14s' "$l"; done
printf ' %10s\n' floor
floor0=
for rtt in "${RTTS[@]}"; do
	rm -f "$W/pport"
	python3 -S "$here/delayproxy.py" --to "127.0.0.1:$POP3S_PORT" \
		--delay "$(awk -v r="$rtt" 'BEGIN { print r / 2 }')" --port-file "$W/pport" >/dev/null &
	PROXY=$!
	for _ in $(seq 100); do [ -s "$W/pport" ] && break; sleep 0.05; done
	port=$(cat "$W/pport")
	declare -A times=()
	for r in $(seq "$RUNS"); do
		for t in "${tools[@]}"; do
			times[$t]+="$(run_one "$t" "$port") "
		done
	done
	printf '%-8s' "$rtt"
	first=1
	for t in "${tools[@]}"; do
		m=$(printf '%s\n' ${times[$t]} | median)
		printf ' %14s' "$m"
		if [ $first = 1 ] && [ "$rtt" = 0 ]; then floor0=$m; fi
		first=0
	done
	if [ -n "$floor0" ]; then
		awk -v f="$floor0" -v r="$rtt" 'BEGIN { printf " %10.3f\n", f + 10 * r / 1000 }'
	else
		printf ' %10s\n' -
	fi
	unset times
	kill "$PROXY" 2>/dev/null
	wait "$PROXY" 2>/dev/null
	PROXY=
done
