#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# big.sh - a 20 MB message arrives intact, and pullmail's memory does not
# grow with the size of the message.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# rss_pm ARG...: like run_pm; also sets PM_RSS, pullmail's peak RSS in KB
# (getrusage(RUSAGE_CHILDREN) of a Python parent that only runs pullmail)
rss_pm() {
	env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$PYTHON3" -c '
import resource, subprocess, sys
try:
    rc = subprocess.run(sys.argv[2:], timeout=25).returncode
except subprocess.TimeoutExpired:
    rc = 124
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc if rc >= 0 else 128 - rc)
' "$T/rss" "$PULLMAIL" "$@" </dev/null >"$T/pm.out" 2>"$T/pm.err"
	PM_RC=$?
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	PM_RSS=$(cat "$T/rss" 2>/dev/null)
	PM_RSS=${PM_RSS:-0}
}

start_server

# fetch_big NAME BYTES: seed one short message plus one of about BYTES
# bytes, fetch them into a Maildir of their own and check; sets PM_RSS
fetch_big() {
	local name=$1 bytes=$2 biggest
	EXPECTED=$T/expected-$name
	MAILDIR=$T/Maildir-$name
	mkdir -p "$EXPECTED"
	seed 1 --big "$bytes"
	write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" "maildir=$MAILDIR"
	rss_pm
	is "$PM_RC" 0 "$name: exit status 0" || show_pm
	is "$(server_count)" 0 "$name: server empty"
	is "$(maildir_count)" 2 "$name: both messages delivered"
	ok "$name: delivered byte for byte" mailcheck
	biggest=$(find "$MAILDIR/new" -type f -printf '%s\n' | sort -n | tail -n 1)
	ok "$name: the big message is at least $bytes bytes on disk (${biggest:-0})" \
		test "${biggest:-0}" -ge "$bytes"
	diag "$name: peak RSS of pullmail: $PM_RSS KB"
}

fetch_big small 200000
small_rss=$PM_RSS
fetch_big big 20000000
big_rss=$PM_RSS

ok "peak RSS measured ($small_rss KB, $big_rss KB)" test "$small_rss" -gt 0 -a "$big_rss" -gt 0
# AddressSanitizer's shadow memory and quarantine make absolute figures
# meaningless; the growth with message size is still checked
if grep -q __asan_init "$PULLMAIL" 2>/dev/null; then
	diag "pullmail is built with AddressSanitizer: absolute RSS limit not checked"
else
	ok "peak RSS for a 20 MB message below 16 MB ($big_rss KB)" test "$big_rss" -lt 16384
fi
ok "peak RSS grows by less than 4 MB from a 200 KB to a 20 MB message ($((big_rss - small_rss)) KB)" \
	test $((big_rss - small_rss)) -lt 4096

done_testing
