#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# demo.sh - try pullmail against a private, throw-away Dovecot POP3 server.
#
#   usage: contrib/demo.sh PATH/TO/pullmail        (or: make demo)
#
# Everything happens in ./demo (in the current directory):
#   demo/server    the private Dovecot (127.0.0.1 only, random ports, TLS
#                  with a test CA; see tests/lib/README)
#   demo/messages  ~40 generated test messages, seeded into the server
#   demo/config    the pullmail configuration used (mode 0600)
#   demo/state     XDG_STATE_HOME for pullmail
#   demo/Maildir   where pullmail delivers the mail
# Needs dovecot-pop3d, openssl and python3.  Works as root or as a normal
# user.  The server is stopped when the demo ends; the exit status is
# pullmail's.
set -eu

PROG=demo.sh
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

[ $# -eq 1 ] || {
	echo "usage: $0 PATH/TO/pullmail" >&2
	exit 2
}
PULLMAIL=$1
if [ ! -f "$PULLMAIL" ] || [ ! -x "$PULLMAIL" ]; then
	die "$PULLMAIL is not an executable file (build pullmail first: make)"
fi
case $PULLMAIL in
*/*) ;;
*) PULLMAIL=./$PULLMAIL ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
LIB=$here/../tests/lib
[ -f "$LIB/dovecot.sh" ] || die "$LIB/dovecot.sh not found"
dovecot_sh() {
	bash "$LIB/dovecot.sh" "$@"
}
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || die "python3 is needed for the demo"
export PYTHON3

DEMO=$PWD/demo
MARK=$DEMO/.pullmail-demo
if [ -e "$DEMO" ] && [ ! -e "$MARK" ] &&
	[ -n "$(ls -A "$DEMO" 2>/dev/null)" ]; then
	die "$DEMO exists and was not made by this demo; move it away first"
fi

# remove the state of a previous run (stopping its server if still up)
if [ -d "$DEMO/server" ]; then
	dovecot_sh stop "$DEMO/server" || true
fi
rm -rf "$DEMO"
mkdir -p "$DEMO"
: >"$MARK"

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	dovecot_sh stop "$DEMO/server" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> Starting a private Dovecot POP3 server in ./demo/server"
dovecot_sh start "$DEMO/server"
# shellcheck disable=SC1091
. "$DEMO/server/env"

echo "==> Generating test messages in ./demo/messages"
"$PYTHON3" "$LIB/genmail.py" --out "$DEMO/messages" --count 26 --mix mixed --seed 3
"$PYTHON3" "$LIB/genmail.py" --out "$DEMO/messages" --count 16 --mix edge --seed 103 --first 27
dovecot_sh seed "$DEMO/server" "$DEMO/messages"
nmsg=$(dovecot_sh count "$DEMO/server")
bytes=$(cat "$DEMO"/messages/* | wc -c | tr -d ' ')
echo "    $nmsg messages ($bytes bytes) are waiting on the server for user $POP3_USER"

old_umask=$(umask)
umask 077
cat >"$DEMO/config" <<EOF
[defaults]
tls = implicit
ca_file = $CA_FILE

[demo]
host = localhost
port = $POP3S_PORT
user = $POP3_USER
password = "$POP3_PASS"
maildir = $DEMO/Maildir
EOF
umask "$old_umask"
chmod 0600 "$DEMO/config"
mkdir -p "$DEMO/state" "$DEMO/Maildir/new" "$DEMO/Maildir/cur" "$DEMO/Maildir/tmp"

echo "==> Running: $PULLMAIL -v -C ./demo/config   (configuration:)"
sed 's/^/    /' "$DEMO/config"
echo
rc=0
XDG_STATE_HOME=$DEMO/state "$PULLMAIL" -v -C ./demo/config || rc=$?
echo

echo "==> pullmail exited with status $rc"
if [ -d "$DEMO/Maildir/new" ]; then
	got=$(find "$DEMO/Maildir/new" -mindepth 1 -maxdepth 1 -type f | wc -l | tr -d ' ')
else
	got=0
fi
left=$(dovecot_sh count "$DEMO/server")
echo "    ./demo/Maildir/new now holds $got messages"
if [ "$left" -eq 0 ]; then
	echo "    the server mailbox is now empty"
else
	echo "    the server mailbox still holds $left messages"
fi
if [ -d "$DEMO/Maildir" ]; then
	echo "    comparing the delivered messages with the originals:"
	"$PYTHON3" "$LIB/mailcheck.py" --expected "$DEMO/messages" \
		--maildir "$DEMO/Maildir" --strip-received 2>&1 | sed 's/^/    /' || true
fi
echo
echo "Your mail is in ./demo/Maildir (try: mutt -f ./demo/Maildir)"
exit "$rc"
