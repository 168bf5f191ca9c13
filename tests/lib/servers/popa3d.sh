#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# popa3d.sh - a private popa3d for pullmail's tests (interface:
# tests/lib/servers/README).
#
#   popa3d.sh packages | unpack ROOT | start DIR | seed DIR SRCDIR |
#             count DIR | stop DIR
#
# popa3d conflicts with Dovecot (Conflicts: pop3-server), so "unpack" puts
# Debian's package into ROOT/popa3d ($PM_SRVROOT, default
# /opt/pullmail-testsrv).  It runs in inetd mode under
# tests/lib/servers/inetd.py (one popa3d per connection), plain POP3 only:
# popa3d has no TLS, no APOP and no SASL.  It must run as root.
#
# popa3d has no configuration file; its paths are compiled in.  inetd.py
# runs it in a private mount namespace where these are bind-mounted from DIR
# (nothing changes outside it):
#
#   /etc/passwd, /etc/group, /etc/shadow  DIR/etc/*: copies of the system's
#           passwd and group plus the user pmtest (uid and gid free on
#           this system; its password in shadow, which holds only the
#           users added here, checked by PAM's pam_unix) and popa3d's
#           privilege-separation user "popa3d"
#   /etc/pam.d    DIR/etc/pam.d: a copy of the system's, plus the package's
#                 pam.d/popa3d (common-auth, common-account)
#   /var/mail     DIR/spool: the mailbox is DIR/spool/pmtest (mbox)
#   /dev          DIR/dev (see Logs)
#   /var/lib      DIR/varlib, holding only the empty directory popa3d
#                 chroots its unprivileged half into (/var/lib/popa3d)
#
# Logs: popa3d logs only through syslog(3); in the namespace /dev is DIR/dev,
# a copy whose "log" socket inetd.py reads into DIR/syslog.log (SRV_LOG).
# What it writes to stderr goes to DIR/inetd.log, inetd.py's own errors to
# DIR/startup.log.
# Mail: popa3d undoes no mbox escaping and starts a new message at any
# "From " line after an empty line; seed writes such a line as ">From "
# (and popa3d sends it so); other "From " and ">From " lines are stored and
# sent as they are.  A message with no empty line after its header is
# stored with one (the separator's), and popa3d sends that too.
# IN-USE: never answered.  popa3d locks the mailbox (fcntl) only while it
# reads or updates it, so two sessions at once are both served; when one
# of them changes the mailbox (DELE, QUIT), the other's next command gets
# no answer: that popa3d closes the connection.  seed appends under the
# same fcntl lock.
set -eu

PROG=popa3d.sh
PYTHON3=${PYTHON3:-python3}
# shellcheck source=tests/lib/servers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PM_SRVROOT=${PM_SRVROOT:-/opt/pullmail-testsrv}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MUSER=pmtest
PASS=pm-Secret-42

cmd_unpack() {
	local root=$1 tmp
	[ -x "$root/popa3d/usr/sbin/popa3d" ] && return 0
	tmp=$(mktemp -d)
	chmod 0755 "$tmp" # apt-get download runs as _apt
	(cd "$tmp" && apt-get download popa3d >/dev/null) ||
		{ rm -rf "$tmp"; die "apt-get download popa3d failed"; }
	mkdir -p "$root/popa3d"
	dpkg -x "$tmp"/popa3d_*.deb "$root/popa3d" ||
		{ rm -rf "$tmp"; die "dpkg -x failed"; }
	rm -rf "$tmp"
}

cmd_stop() {
	inetd_stop "$1"
}

cmd_start() {
	local dir=$1 bin hash puid muid port pid i label
	bin=$PM_SRVROOT/popa3d/usr/sbin/popa3d
	[ -x "$bin" ] || die "$bin not found (run: $PROG unpack $PM_SRVROOT)"
	[ "$(id -u)" = 0 ] || die "popa3d must be started as root"
	command -v openssl >/dev/null || die "openssl not found"
	umask 022
	mkdir -p "$dir"
	dir=$(abs_dir "$dir")
	case $dir in
	/) die "refusing to use / as DIR" ;;
	*[\'\"\\\$\`\ :]* | *"
"*) die "DIR must not contain quotes, blanks, colons, backslashes, \$ or \`: $dir" ;;
	esac
	cmd_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir/etc" "$dir/spool" "$dir/varlib/popa3d" "$dir/home/$MUSER"
	chmod 0755 "$dir" "$dir/varlib" "$dir/varlib/popa3d"

	puid=$(free_id 61000)
	muid=$(free_id $((puid + 1)))
	hash=$(printf '%s\n' "$PASS" | openssl passwd -6 -stdin) || die "openssl passwd failed"
	{
		cat /etc/passwd
		echo "popa3d:x:$puid:$puid:popa3d privsep:/var/lib/popa3d:/usr/sbin/nologin"
		echo "$MUSER:x:$muid:$muid:pullmail test:$dir/home/$MUSER:/bin/sh"
	} >"$dir/etc/passwd"
	{
		cat /etc/group
		echo "popa3d:x:$puid:"
		echo "$MUSER:x:$muid:"
	} >"$dir/etc/group"
	{
		# only the users of this instance: no copy of any real hash
		echo "popa3d:*:19000:0:99999:7:::"
		echo "$MUSER:$hash:19000:0:99999:7:::"
	} >"$dir/etc/shadow"
	chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
	chmod 0640 "$dir/etc/shadow"
	chgrp shadow "$dir/etc/shadow" 2>/dev/null || true
	cp -a /etc/pam.d "$dir/etc/pam.d"
	cp "$PM_SRVROOT/popa3d/etc/pam.d/popa3d" "$dir/etc/pam.d/popa3d"
	chown "$muid:$muid" "$dir/home/$MUSER"

	# like /var/mail: root:mail 2775; the mailbox belongs to its user
	chgrp mail "$dir/spool"
	chmod 2775 "$dir/spool"
	: >"$dir/spool/$MUSER"
	chown "$muid:mail" "$dir/spool/$MUSER"
	chmod 0600 "$dir/spool/$MUSER"

	: >"$dir/inetd.log"
	: >"$dir/syslog.log"
	mkdir "$dir/dev"
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			case $fd in 0 | 1 | 2 | *[!0-9]*) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
		done
		exec "$PYTHON3" "$HERE/inetd.py" --port-file "$dir/port" --pid-file "$dir/pid" \
			--log "$dir/inetd.log" --syslog "$dir/syslog.log" --dev-dir "$dir/dev" \
			--bind "$dir/etc/passwd:/etc/passwd" --bind "$dir/etc/group:/etc/group" \
			--bind "$dir/etc/shadow:/etc/shadow" --bind "$dir/etc/pam.d:/etc/pam.d" \
			--bind "$dir/spool:/var/mail" --bind "$dir/varlib:/var/lib" \
			-- "$bin"
	) </dev/null >"$dir/startup.log" 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 1000 ] && kill -0 "$pid" 2>/dev/null && ! [ -s "$dir/port" ]; do
		sleep 0.01
		i=$((i + 1))
	done
	if ! [ -s "$dir/port" ] || ! kill -0 "$pid" 2>/dev/null; then
		cat "$dir/startup.log" >&2
		die "inetd.py did not start"
	fi
	port=$(cat "$dir/port")
	if ! wait_greet "$port"; then
		cmd_stop "$dir"
		cat "$dir/inetd.log" >&2
		die "popa3d does not greet on 127.0.0.1:$port"
	fi

	label=$("$bin" -V 2>&1 | sed -n '1s/^popa3d version \([^ ]*\).*/popa3d \1/p')
	{
		echo "# generated by tests/lib/servers/popa3d.sh; source with: . DIR/env"
		echo "SRV_NAME=popa3d"
		echo "SRV_LABEL='$label'"
		echo "SRV_HOST=127.0.0.1"
		echo "SRV_TLS_HOST=localhost"
		echo "SRV_PORT=$port"
		echo "SRV_STLS=no"
		echo "SRV_TLS_PORT=''"
		echo "SRV_CA=''"
		echo "SRV_USER=$MUSER"
		echo "SRV_PASS=$PASS"
		echo "SRV_USERPASS=yes"
		echo "SRV_APOP=no"
		echo "SRV_MECHS=''"
		echo "SRV_UTF8=no"
		echo "SRV_PIPELINING=no"
		echo "SRV_LOG='$dir/syslog.log'"
		echo "SRV_PID=$pid"
		echo "SRV_NOTES='plain POP3 only: popa3d has no TLS, APOP or SASL; no CAPA, so no PIPELINING; mbox without unescaping: a body line \"From ...\" after an empty line arrives as \">From ...\", a message without an empty line after its header arrives with one'"
		echo "SRV_ADDS_FIELDS=''"
		echo "SRV_QUOTES_FROM=yes"
	} >"$dir/env"
}

mailbox() {
	[ -f "$1/env" ] || die "$1/env not found (run: $PROG start $1)"
	echo "$1/spool/$MUSER"
}

cmd_seed() {
	local dir=$1 src=$2
	[ -d "$src" ] || die "source directory $src not found"
	"$PYTHON3" - "$(mailbox "$dir")" "$src" <<'EOF'
import fcntl, os, re, sys
mbox, src = sys.argv[1:3]
names = sorted(n for n in os.listdir(src) if os.path.isfile(os.path.join(src, n)))
with open(mbox, "ab") as out:
    # popa3d locks the mailbox with fcntl while it reads or rewrites it
    fcntl.lockf(out, fcntl.LOCK_EX)
    for n in names:
        with open(os.path.join(src, n), "rb") as f:
            data = f.read()
        if not data.endswith(b"\n"):
            data += b"\n"
        # popa3d undoes no escaping, and takes a "From " line after an
        # empty line for the start of the next message: only such a line
        # is escaped, the least visible choice
        data = re.sub(rb"(?m)(^\n)From ", rb"\1>From ", data)
        data = re.sub(rb"\AFrom ", rb">From ", data)
        out.write(b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n" + data + b"\n")
    out.flush()
    os.fsync(out.fileno())
EOF
}

cmd_count() {
	local mbox
	mbox=$(mailbox "$1")
	# From_ lines: the first line, or one after an empty line
	awk 'NR == 1 || prev == "" { if (/^From /) n++ } { prev = $0 } END { print n + 0 }' "$mbox"
}

adapter_main "$@"
