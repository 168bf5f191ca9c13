#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# solid.sh - a private Solid POP3 (solid-pop3d) for pullmail's tests
# (interface: tests/lib/servers/README).
#
#   solid.sh packages | unpack ROOT | start DIR | seed DIR SRCDIR |
#            count DIR | stop DIR
#
# solid-pop3d conflicts with Dovecot (Conflicts: pop3-server), so "unpack"
# puts Debian's package into ROOT/solid ($PM_SRVROOT, default
# /opt/pullmail-testsrv); its support package liblockfile1 is installed
# normally.  It runs in inetd mode under tests/lib/servers/inetd.py (one
# solid-pop3d per connection) with -f DIR/spop3d.conf: plain POP3 (Solid
# has no TLS and no SASL), USER/PASS and APOP, the mail in the Maildir
# DIR/Maildir.  It must run as root.
#
# Logins are checked by PAM (pam_unix: /etc/shadow) and the user's home
# comes from /etc/passwd, so inetd.py runs it in a private mount namespace
# where these are bind-mounted from DIR (nothing changes outside it):
#
#   ROOT/solid/instance  DIR itself, so that pmtest and spop3d reach
#           DIR's files whatever DIR's parents allow; Solid's paths (its
#           config, the Maildir, the users' homes) are given below it
#   /etc/passwd, /etc/group, /etc/shadow  DIR/etc/*: copies of the system's
#           passwd and group plus the user pmtest (uid and gid free on
#           this system; its password in shadow, which holds only the
#           users added here) and Solid's unprivileged user "spop3d"
#   /etc/pam.d    DIR/etc/pam.d: a copy of the system's, plus the package's
#                 pam.d/solid-pop3d (common-auth, common-account)
#   /dev          DIR/dev (see Logs)
#
# APOP: the secret is in the user's ~/.spop3d (DIR/home/pmtest/.spop3d,
# mode 0600) as "APOPSecret HEX", HEX the bytes of the secret each XORed
# with 0xff, as pop_auth(1) writes it.  The secret is the password.
# Maildir: Solid numbers the messages by their files' mtime, so seed gives
# each file a later mtime than the one before (DIR/seed.seq) and they come
# in seed order; the files are sent as they are (byte-exact).
# Logs: Solid logs only through syslog(3); in the namespace /dev is DIR/dev,
# a copy whose "log" socket inetd.py reads into DIR/syslog.log (SRV_LOG).
# What it writes to stderr goes to DIR/inetd.log, inetd.py's own errors to
# DIR/startup.log.
# IN-USE: never answered.  Solid takes no lock on a Maildir: two sessions
# at once are both served; when one of them has removed a message, the
# other's RETR of it gets no answer: that solid-pop3d exits ("maildir
# content probably has been changed").
set -eu

PROG=solid.sh
PYTHON3=${PYTHON3:-python3}
# shellcheck source=tests/lib/servers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PM_SRVROOT=${PM_SRVROOT:-/opt/pullmail-testsrv}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MUSER=pmtest
PASS=pm-Secret-42

cmd_unpack() {
	local root=$1 tmp
	[ -x "$root/solid/usr/sbin/solid-pop3d" ] && return 0
	tmp=$(mktemp -d)
	chmod 0755 "$tmp" # apt-get download runs as _apt
	(cd "$tmp" && apt-get download solid-pop3d >/dev/null) ||
		{ rm -rf "$tmp"; die "apt-get download solid-pop3d failed"; }
	mkdir -p "$root/solid"
	dpkg -x "$tmp"/solid-pop3d_*.deb "$root/solid" ||
		{ rm -rf "$tmp"; die "dpkg -x failed"; }
	rm -rf "$tmp"
}

cmd_stop() {
	inetd_stop "$1"
}

cmd_start() {
	local dir=$1 bin hash suid muid port pid i secret version inst
	bin=$PM_SRVROOT/solid/usr/sbin/solid-pop3d
	[ -x "$bin" ] || die "$bin not found (run: $PROG unpack $PM_SRVROOT)"
	[ "$(id -u)" = 0 ] || die "solid-pop3d must be started as root"
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
	# Solid reaches DIR's files as pmtest and spop3d, who may not get
	# through DIR's parents (a test's 0700 mktemp directory): in the
	# namespace DIR is also mounted on ROOT/solid/instance, and Solid is
	# given only paths below that
	inst=$PM_SRVROOT/solid/instance
	mkdir -p "$inst"
	chmod 0755 "$inst"
	mkdir -p "$dir/etc" "$dir/spop3d" "$dir/home/$MUSER" "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"
	chmod 0755 "$dir"

	suid=$(free_id 61000)
	muid=$(free_id $((suid + 1)))
	hash=$(printf '%s\n' "$PASS" | openssl passwd -6 -stdin) || die "openssl passwd failed"
	{
		cat /etc/passwd
		# the unprivileged user Solid runs as before a login (Debian's
		# postinst makes it a system user in group mail)
		echo "spop3d:x:$suid:$(getent group mail | cut -d: -f3):Solid POP3 Server:$inst/spop3d:/usr/sbin/nologin"
		echo "$MUSER:x:$muid:$muid:pullmail test:$inst/home/$MUSER:/bin/sh"
	} >"$dir/etc/passwd"
	{
		cat /etc/group
		echo "$MUSER:x:$muid:"
	} >"$dir/etc/group"
	{
		# only the users of this instance: no copy of any real hash
		echo "spop3d:*:19000:0:99999:7:::"
		echo "$MUSER:$hash:19000:0:99999:7:::"
	} >"$dir/etc/shadow"
	chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
	chmod 0640 "$dir/etc/shadow"
	chgrp shadow "$dir/etc/shadow" 2>/dev/null || true
	cp -a /etc/pam.d "$dir/etc/pam.d"
	cp "$PM_SRVROOT/solid/etc/pam.d/solid-pop3d" "$dir/etc/pam.d/solid-pop3d"

	secret=$(printf '%s' "$PASS" | od -An -v -tu1 |
		awk '{ for (i = 1; i <= NF; i++) printf "%02x", 255 - $i }')
	(umask 077 && echo "APOPSecret $secret" >"$dir/home/$MUSER/.spop3d")
	chown -R "$muid:$muid" "$dir/home/$MUSER" "$dir/Maildir"
	chmod 0700 "$dir/home/$MUSER" "$dir/Maildir" "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"
	echo "$muid" >"$dir/mailuid"

	cat >"$dir/spop3d.conf" <<EOF
/* generated by tests/lib/servers/solid.sh */
<Global>
	MailDropName	"$inst/Maildir"
	MailDropType	maildir
	AllowUser	yes
	AllowAPOP	yes
	UserOverride	yes
	AddBulletins	no
	LogStatistics	no
	LogPriority	mail.info
	WrongCommandsLimit	0
</Global>
EOF
	chmod 0644 "$dir/spop3d.conf"

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
			--bind "$dir:$inst" \
			-- "$bin" -f "$inst/spop3d.conf"
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
		die "solid-pop3d does not greet on 127.0.0.1:$port"
	fi

	# the upstream version, from the package's changelog: 0.15-31 -> 0.15
	version=$(zcat "$PM_SRVROOT/solid/usr/share/doc/solid-pop3d/changelog.Debian.gz" 2>/dev/null |
		sed -n '1s/^solid-pop3d (\([^-)]*\).*/\1/p')
	{
		echo "# generated by tests/lib/servers/solid.sh; source with: . DIR/env"
		echo "SRV_NAME=solid"
		echo "SRV_LABEL='Solid POP3 $version'"
		echo "SRV_HOST=127.0.0.1"
		echo "SRV_TLS_HOST=localhost"
		echo "SRV_PORT=$port"
		echo "SRV_STLS=no"
		echo "SRV_TLS_PORT=''"
		echo "SRV_CA=''"
		echo "SRV_USER=$MUSER"
		echo "SRV_PASS=$PASS"
		echo "SRV_USERPASS=yes"
		echo "SRV_APOP=yes"
		echo "SRV_MECHS=''"
		echo "SRV_UTF8=no"
		echo "SRV_PIPELINING=no"
		echo "SRV_LOG='$dir/syslog.log'"
		echo "SRV_PID=$pid"
		echo "SRV_NOTES='plain POP3 only: Solid has no TLS and no SASL'"
		echo "SRV_ADDS_FIELDS=''"
		echo "SRV_QUOTES_FROM=no"
	} >"$dir/env"
}

maildir() {
	[ -f "$1/env" ] || die "$1/env not found (run: $PROG start $1)"
	echo "$1/Maildir"
}

cmd_seed() {
	local dir=$1 src=$2
	[ -d "$src" ] || die "source directory $src not found"
	"$PYTHON3" - "$(maildir "$dir")" "$src" "$(cat "$dir/mailuid")" "$dir/seed.seq" <<'EOF'
import os, socket, sys
md, src, uid, seqfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Solid orders messages by mtime: one second apart, from a fixed past time
try:
    with open(seqfile) as f:
        seq = int(f.read())
except FileNotFoundError:
    seq = 0
base = 1700000000
host = socket.gethostname().replace("/", "_").replace(":", "_") or "localhost"
names = sorted(n for n in os.listdir(src) if os.path.isfile(os.path.join(src, n)))
for n in names:
    with open(os.path.join(src, n), "rb") as f:
        data = f.read()
    name = "%d.M%dP%d.%s" % (base + seq, seq, os.getpid(), host)
    tmp = os.path.join(md, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.utime(tmp, (base + seq, base + seq))
    os.chown(tmp, uid, uid)
    os.rename(tmp, os.path.join(md, "new", name))
    seq += 1
with open(seqfile + ".tmp", "w") as f:
    f.write("%d\n" % seq)
os.rename(seqfile + ".tmp", seqfile)
EOF
}

cmd_count() {
	local md
	md=$(maildir "$1")
	find "$md/new" "$md/cur" -mindepth 1 -maxdepth 1 -type f ! -name '.*' | wc -l | tr -d ' '
}

cmd_packages() {
	echo liblockfile1
}

adapter_main "$@"
