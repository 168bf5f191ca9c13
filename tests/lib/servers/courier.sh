#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# courier.sh - a private, throw-away Courier pop3d for pullmail's tests
# (issue 10; the interface is tests/lib/servers/README).
#
#   courier.sh packages | unpack ROOT | start DIR | seed DIR SRCDIR |
#              count DIR | stop DIR
#
# What runs: courier-pop 1.0.16 (Debian 12), unpacked into ROOT/courier
# (it Conflicts: pop3-server with dovecot-pop3d), with courier-base
# (couriertcpd, couriertls), courier-authdaemon and courier-authlib-userdb
# installed normally.  One couriertcpd on the plain port runs
# courierpop3login (STLS through couriertls), one on the implicit-TLS port
# runs "couriertls -server -tcpd" in front of courierpop3login; both
# authenticate through a private authdaemond with the userdb module only.
# Mail is a Maildir; it is accessed as nobody:nogroup (Courier runs the
# mail process under the user's userdb uid, and the test user gets that of
# nobody, never root).
#
# Redirections: authlib has compiled-in paths that no option changes: it
# reads /etc/courier/authdaemonrc and /etc/courier/userdb{,shadow}.dat, and
# authdaemond and its clients meet at /run/courier/authdaemon/socket.  So
# the whole instance runs in a private mount namespace (unshare -m
# --propagation private, as root) where
#
#   DIR/etc  is bind-mounted over /etc/courier  (authdaemonrc, userdb)
#   DIR/run  is bind-mounted over /run/courier  (authdaemon socket; the
#            user's home /run/courier/home/pmtest = DIR/run/home/pmtest)
#
# Nothing is written to the real /etc/courier or /run/courier, nor
# anywhere else outside DIR (TLS session cache off, logs in DIR/courier.log
# from the processes' stderr, no syslog).  The home lives below the mount
# so that nobody reaches it whatever the modes of DIR's parents (mktemp's
# 0700).  If /run/courier does not exist (courier-authdaemon's tmpfiles
# not applied), a tmpfs is mounted over /run/courier's parent /run inside
# the namespace first, to make the mount point.
#
# Processes: DIR/pid holds the pid of the namespace's first process (a bash
# running "courier.sh _run DIR", which starts authdaemond and the two
# couriertcpd and waits); DIR/mntns names its mount namespace.  stop
# TERMs the per-connection processes of that namespace (courierpop3login,
# courierpop3d, couriertls; leaves first, so that their parents reap
# them), then the runner, which TERMs and reaps its daemons, then kills
# whatever is still left in the namespace, and waits until nothing is.
# The couriertls that courierpop3login starts for STLS is double-forked
# (its parent is init from the start): its zombie is init's to reap, as
# after any STLS session.
#
# What the server does (Courier 1.0.16): USER/PASS also on the plain port;
# SASL PLAIN LOGIN CRAM-MD5 CRAM-SHA1 CRAM-SHA256 (all in SRV_MECHS, each
# checked by hand, a wrong password refused); no APOP; EXTERNAL only with
# client certificates, not set up.  CAPA says UTF8 and PIPELINING (and
# LOGIN-DELAY 10, not enforced).  A message with raw UTF-8 in its headers
# is sent to a client that has not said UTF8 (RFC 6856) as a multipart
# "Cannot display Unicode content" notice with the original attached
# (LIST still gives the original's size); after UTF8, byte-exact.  UIDL
# is UIDn-VALIDITY from Maildir/courierpop3dsizelist; the first login
# moves new/ into cur/.  QUIT is answered before the deleted files are
# all unlinked: a client that logs in again at once can still see some.
set -eu

PROG=courier.sh
PYTHON3=${PYTHON3:-python3}
# not a wrapper such as pyenv's shim (~0.25 s a call)
_py=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null) &&
	[ -n "$_py" ] && [ -x "$_py" ] && PYTHON3=$_py
ROOT=${PM_SRVROOT:-/opt/pullmail-testsrv}
SRV_USER=pmtest
SRV_PASS=pm-Secret-42
# the SASL mechanisms Courier's pop3login implements (pop3d's
# POP3AUTH_ORIG); each has its userdb field (systempw, hmac-*pw)
MECHS="PLAIN LOGIN CRAM-MD5 CRAM-SHA1 CRAM-SHA256"
NSHOME=/run/courier/home/$SRV_USER
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<EOF
usage: $PROG packages
       $PROG unpack ROOT
       $PROG start DIR
       $PROG seed DIR SRCDIR
       $PROG count DIR
       $PROG stop DIR
EOF
	exit 2
}

abs_dir() {
	(cd "$1" && pwd)
}

cmd_packages() {
	# dma: the mail-transport-agent courier-base wants, without exim
	printf '%s\n' dma courier-base courier-authdaemon courier-authlib-userdb
}

# unpack ROOT: courier-pop into ROOT/courier (with its version in
# ROOT/courier/VERSION), unless that version is there already
cmd_unpack() {
	local root=$1 ver tmp deb
	ver=$(apt-cache policy courier-pop 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		die "apt knows no courier-pop (apt-get update?)"
	fi
	if [ -x "$root/courier/usr/lib/courier/courier/courierpop3d" ] &&
		[ "$(cat "$root/courier/VERSION" 2>/dev/null)" = "$ver" ]; then
		return 0
	fi
	tmp=$(mktemp -d)
	chmod 0755 "$tmp"
	(cd "$tmp" && apt-get download -q "courier-pop=$ver" >/dev/null 2>"$tmp/log") || {
		cat "$tmp/log" >&2
		rm -rf "$tmp"
		die "apt-get download courier-pop failed"
	}
	deb=$(echo "$tmp"/courier-pop_*.deb)
	[ -f "$deb" ] || { rm -rf "$tmp"; die "no courier-pop .deb downloaded"; }
	rm -rf "$root/courier"
	mkdir -p "$root/courier"
	dpkg -x "$deb" "$root/courier"
	echo "$ver" >"$root/courier/VERSION"
	rm -rf "$tmp"
}

# ------------------------------------------------------------ processes

# the mount namespace (as "mnt:[INODE]") of DIR's instance, if recorded
inst_ns() {
	cat "$1/mntns" 2>/dev/null || true
}

# pids of the live processes in mount namespace NS (zombies have no
# readable ns link and are not counted)
ns_procs() {
	local ns=$1 p l
	[ -n "$ns" ] || return 0
	for p in /proc/[0-9]*; do
		l=$(readlink "$p/ns/mnt" 2>/dev/null) || continue
		[ "$l" = "$ns" ] && echo "${p#/proc/}"
	done
	return 0
}

# the per-connection processes among them (courierpop3login,
# courierpop3d, couriertls), not the runner and its daemons; with "leaves",
# only those without children (so that each is reaped by its parent)
conn_procs() {
	local p c
	for p in $(ns_procs "$1"); do
		c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case $c in bash | authdaemond | couriertcpd) continue ;; esac
		if [ "${2:-}" = leaves ] &&
			[ -n "$(cat /proc/"$p"/task/*/children 2>/dev/null)" ]; then
			continue
		fi
		echo "$p"
	done
	return 0
}

cmd_stop() {
	local dir=$1 pid ns i left
	[ -d "$dir" ] || return 0
	ns=$(inst_ns "$dir")
	pid=$(cat "$dir/pid" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) pid= ;; esac
	if [ -n "$pid" ] && [ -n "$ns" ] &&
		[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ]; then
		# first the per-connection processes, while their couriertcpd
		# is there to reap them (else they end as zombies of init)
		i=0
		while [ -n "$(conn_procs "$ns")" ] && [ $i -lt 200 ]; do
			if [ $((i % 10)) = 0 ]; then
				# shellcheck disable=SC2046
				kill -TERM $(conn_procs "$ns" leaves) 2>/dev/null || true
			fi
			sleep 0.01
			i=$((i + 1))
		done
		kill -TERM "$pid" 2>/dev/null || true
	elif [ -n "$pid" ] && [ -z "$ns" ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -F "_run $dir"; then
		# stopped before it recorded its namespace: it starts nothing
		# more once it is gone (the daemons start after the record)
		kill -KILL "$pid" 2>/dev/null || true
		i=0
		while [ -d "/proc/$pid" ] && [ $i -lt 1000 ]; do
			sleep 0.01
			i=$((i + 1))
		done
	fi
	if [ -n "$ns" ]; then
		# the runner TERMs its daemons; per-connection children are
		# not theirs to stop: after a while, kill all that is left
		i=0
		while left=$(ns_procs "$ns") && [ -n "$left" ]; do
			i=$((i + 1))
			if [ $i -ge 200 ]; then
				# shellcheck disable=SC2086
				kill -KILL $left 2>/dev/null || true
			elif [ $i -ge 50 ]; then
				# shellcheck disable=SC2086
				kill -TERM $left 2>/dev/null || true
			fi
			[ $i -lt 1000 ] || die "processes of $dir do not go away: $left"
			sleep 0.01
		done
	fi
	rm -f "$dir/pid" "$dir/mntns"
	return 0
}

# two free TCP ports on 127.0.0.1 (held until both are chosen)
pick_ports() {
	"$PYTHON3" - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# greets HOST PORT [tls]: a +OK greeting arrives (through TLS with "tls")
greets() {
	"$PYTHON3" - "$@" <<'EOF'
import socket, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((host, port), timeout=5)
    if len(sys.argv) > 3:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    line = s.makefile("rb").readline()
    s.close()
except (OSError, ssl.SSLError):
    sys.exit(1)
sys.exit(0 if line.startswith(b"+OK") else 1)
EOF
}

gen_certs() {
	local dir=$1
	mkdir -p "$dir/tls"
	cat >"$dir/tls/server.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	(
		cd "$dir/tls"
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout ca.key -out ../ca.pem -days 3650 \
			-subj "/O=pullmail tests/CN=pullmail test CA (courier)" \
			-addext "basicConstraints = critical, CA:TRUE" \
			-addext "keyUsage = critical, keyCertSign, cRLSign"
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout server.key -out server.csr \
			-subj "/O=pullmail tests/CN=localhost"
		openssl x509 -req -in server.csr -CA ../ca.pem -CAkey ca.key \
			-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
			-days 3650 -extfile server.ext -out server.pem
		# couriertls: key and certificate in one file
		cat server.key server.pem >server-combined.pem
		# RFC 7919's ffdhe2048 (no generation: instant)
		openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 \
			-out dhparams.pem
	) >"$dir/tls/openssl.log" 2>&1 || {
		cat "$dir/tls/openssl.log" >&2
		die "certificate generation with openssl failed"
	}
	chmod 0644 "$dir/ca.pem" "$dir/tls/server.pem"
	chmod 0600 "$dir/tls/"*.key "$dir/tls/server-combined.pem"
	# couriertls as started for STLS runs as user courier: it reads
	# these as /etc/courier/pop3d.pem and dhparams.pem (DIR/etc, group
	# courier), whatever the modes of DIR's parents
	install -m 0640 -g courier "$dir/tls/server-combined.pem" "$dir/etc/pop3d.pem"
	install -m 0640 -g courier "$dir/tls/dhparams.pem" "$dir/etc/dhparams.pem"
}

# userdb DIR UID GID: DIR/etc/userdb and its compiled .dat files; the
# CRAM mechanisms need the HMAC precomputed keys (userdbpw -hmac-*)
make_userdb() {
	local dir=$1 uid=$2 gid=$3 line h f
	line="uid=$uid|gid=$gid|home=$NSHOME|mail=$NSHOME/Maildir"
	line="$line|systempw=$(printf '%s\n' "$SRV_PASS" | openssl passwd -6 -stdin)"
	for h in md5 sha1 sha256; do
		f=$(printf '%s\n%s\n' "$SRV_PASS" "$SRV_PASS" | userdbpw -hmac-$h) ||
			die "userdbpw -hmac-$h failed"
		line="$line|hmac-${h}pw=$f"
	done
	(
		umask 077
		printf '%s\t%s\n' "$SRV_USER" "$line" >"$dir/etc/userdb"
	)
	makeuserdb -f "$dir/etc/userdb" >"$dir/etc/makeuserdb.log" 2>&1 || {
		cat "$dir/etc/makeuserdb.log" >&2
		die "makeuserdb failed"
	}
}

# pop3_daemon plain|tls PORT: exec couriertcpd for that port with
# courierpop3login's settings: the package's defaults (its
# /etc/courier/pop3d and pop3d-ssl from ROOT), then ours (TLS files
# under the mounts, every SASL mechanism, no TLS session cache)
pop3_daemon() {
	# shellcheck disable=SC2153 # CROOT: from DIR/run.conf
	local kind=$1 port=$2 login=$CROOT/usr/lib/courier/courier
	set -a +u
	# shellcheck disable=SC1091
	. "$CROOT/etc/courier/pop3d"
	# shellcheck disable=SC1091
	. "$CROOT/etc/courier/pop3d-ssl"
	set +a -u
	unset TLS_CACHEFILE TLS_CACHESIZE
	export POP3AUTH="$PM_MECHS" POP3AUTH_TLS="$PM_MECHS" POP3_TLS_REQUIRED=0 \
		COURIERTLS=/usr/bin/couriertls TLS_CERTFILE=/etc/courier/pop3d.pem \
		TLS_DHPARAMS=/etc/courier/dhparams.pem TLS_VERIFYPEER=NONE \
		TLS_TRUSTCERTS=/etc/courier/pop3d.pem
	if [ "$kind" = tls ]; then
		# implicit TLS: couriertls in front of pop3login
		export POP3_TLS=1 POP3_STARTTLS=NO
		set -- /usr/bin/couriertls -server -tcpd "$login/courierpop3login"
	else
		export POP3_STARTTLS=YES
		unset POP3_TLS
		set -- "$login/courierpop3login"
	fi
	exec /usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=40 -maxperip=40 \
		-nodnslookup -noidentlookup "$port" "$@" "$login/courierpop3d" Maildir
}

# _run DIR: inside the private mount namespace (see the top): mount,
# start authdaemond and the two couriertcpd, wait; TERM stops them
cmd_run() {
	local dir=$1 pids="" p
	# shellcheck disable=SC1091
	. "$dir/run.conf"
	if [ ! -d /run/courier ]; then
		mount -t tmpfs -o mode=0755 pullmail-courier /run
		mkdir /run/courier
	fi
	mount --bind "$dir/etc" /etc/courier
	mount --bind "$dir/run" /run/courier
	readlink /proc/self/ns/mnt >"$dir/mntns.tmp"
	mv "$dir/mntns.tmp" "$dir/mntns"

	# stop: TERM the daemons and reap them (per-connection children are
	# left to cmd_stop, which finds them by namespace)
	# shellcheck disable=SC2086
	trap '[ -z "$pids" ] || { kill -TERM $pids 2>/dev/null; wait $pids; }; exit 0' TERM INT HUP

	# authlib's own daemon, in the foreground (the Debian wrapper would
	# daemonize it through courierlogger)
	/usr/lib/courier/courier-authlib/authdaemond &
	pids="$pids $!"

	pop3_daemon plain "$PM_PORT" &
	pids="$pids $!"
	pop3_daemon tls "$PM_TLS_PORT" &
	pids="$pids $!"
	# the first daemon to end ends the instance (e.g. a port in use)
	wait -n || true
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	# shellcheck disable=SC2086
	wait $pids || true
	echo "$PROG: a daemon exited; instance stopped" >&2
	exit 1
}

cmd_start() {
	local dir=$1 croot uid gid ports port tls_port attempt i ver up f
	[ "$(id -u)" = 0 ] ||
		die "needs root (a private mount namespace for authlib's compiled-in paths)"
	croot=$ROOT/courier
	[ -x "$croot/usr/lib/courier/courier/courierpop3login" ] ||
		die "$croot has no courier-pop (run: $PROG unpack $ROOT, or contrib/install-deps.sh)"
	for f in /usr/sbin/couriertcpd /usr/bin/couriertls \
		/usr/lib/courier/courier-authlib/authdaemond \
		/usr/lib/courier-authlib/libauthuserdb.so /usr/sbin/makeuserdb /usr/sbin/userdbpw; do
		[ -e "$f" ] || die "$f not found (apt-get install $(cmd_packages | tr '\n' ' '))"
	done
	[ -d /etc/courier ] || die "/etc/courier not found (apt-get install courier-authdaemon)"
	id courier >/dev/null 2>&1 || die "no user courier (apt-get install courier-authdaemon)"
	command -v unshare >/dev/null 2>&1 || die "unshare not found (util-linux)"
	command -v openssl >/dev/null 2>&1 || die "openssl not found"
	umask 022
	mkdir -p "$dir"
	dir=$(abs_dir "$dir")
	case $dir in
	/) die "refusing to use / as DIR" ;;
	*[\'\"\\\$\`\ ]* | *"
"*) die "DIR must not contain quotes, blanks, backslashes, \$, \` or newlines: $dir" ;;
	esac
	cmd_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir/etc" "$dir/run/authdaemon" "$dir/run/home"
	chmod 0755 "$dir" "$dir/run" "$dir/run/home"
	chmod 0750 "$dir/etc" "$dir/run/authdaemon"
	chgrp courier "$dir/etc"

	uid=$(id -u nobody) || die "no user nobody"
	gid=$(getent group nogroup | cut -d: -f3)
	[ -n "$gid" ] || gid=$(id -g nobody)
	mkdir -p "$dir/run/home/$SRV_USER/Maildir/new" "$dir/run/home/$SRV_USER/Maildir/cur" \
		"$dir/run/home/$SRV_USER/Maildir/tmp"
	chmod -R 0700 "$dir/run/home/$SRV_USER"
	chown -R "$uid:$gid" "$dir/run/home/$SRV_USER"
	echo "$uid:$gid" >"$dir/mailuser"

	# only the userdb module; never DEBUG_LOGIN=2 (it logs passwords)
	cat >"$dir/etc/authdaemonrc" <<EOF
# private authdaemond for pullmail's tests (tests/lib/servers/courier.sh)
authmodulelist="authuserdb"
authmodulelistorig="authuserdb"
daemons=2
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
EOF
	make_userdb "$dir" "$uid" "$gid"
	gen_certs "$dir"

	ver=$(cat "$croot/VERSION" 2>/dev/null || true)
	ver=${ver%%-*}
	attempt=0
	while :; do
		attempt=$((attempt + 1))
		ports=$(pick_ports) || die "could not pick free ports"
		port=${ports% *} tls_port=${ports#* }
		cat >"$dir/run.conf" <<EOF
CROOT='$croot'
PM_PORT=$port
PM_TLS_PORT=$tls_port
PM_MECHS='$MECHS'
EOF
		rm -f "$dir/mntns"
		# setsid: no controlling terminal, its own process group; no
		# inherited descriptors beyond 0-2 (make's jobserver, TAP pipes)
		(
			for fd in "/proc/$BASHPID/fd/"*; do
				fd=${fd##*/}
				case $fd in 0 | 1 | 2 | *[!0-9]*) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
			done
			exec setsid unshare -m --propagation private bash "$SELF" _run "$dir"
		) </dev/null >>"$dir/courier.log" 2>&1 &
		echo $! >"$dir/pid"
		up=no
		i=0
		while [ $i -lt 300 ]; do
			if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
				break
			fi
			if [ -f "$dir/mntns" ] && greets 127.0.0.1 "$port" &&
				greets 127.0.0.1 "$tls_port" tls; then
				up=yes
				break
			fi
			sleep 0.02
			i=$((i + 1))
		done
		[ $up = yes ] && break
		cmd_stop "$dir"
		if [ $attempt -lt 5 ] && grep -q -i 'in use' "$dir/courier.log"; then
			continue
		fi
		echo "--- tail of $dir/courier.log:" >&2
		tail -n 20 "$dir/courier.log" >&2 || true
		die "courier pop3d did not start on 127.0.0.1:$port/$tls_port"
	done

	{
		echo "# generated by tests/lib/servers/courier.sh; source with: . DIR/env"
		echo "SRV_NAME=courier"
		echo "SRV_LABEL='Courier pop3d $ver'"
		echo "SRV_HOST=127.0.0.1"
		echo "SRV_TLS_HOST=localhost"
		echo "SRV_PORT=$port"
		echo "SRV_STLS=yes"
		echo "SRV_TLS_PORT=$tls_port"
		echo "SRV_CA='$dir/ca.pem'"
		echo "SRV_USER=$SRV_USER"
		echo "SRV_PASS=$SRV_PASS"
		echo "SRV_USERPASS=yes"
		echo "SRV_APOP=no"
		echo "SRV_MECHS='$MECHS'"
		echo "SRV_UTF8=yes"
		echo "SRV_PIPELINING=yes"
		echo "SRV_LOG='$dir/courier.log'"
		echo "SRV_PID=$(cat "$dir/pid")"
		echo "SRV_NOTES='no APOP (Courier pop3d has none); EXTERNAL not set up (needs client certificates)'"
		echo "SRV_ADDS_FIELDS=''"
		echo "SRV_QUOTES_FROM=no"
	} >"$dir/env"
}

server_maildir() {
	local dir=$1
	[ -f "$dir/env" ] || die "$dir/env not found (run: $PROG start $dir)"
	[ -d "$dir/run/home/$SRV_USER/Maildir/new" ] ||
		die "server Maildir $dir/run/home/$SRV_USER/Maildir not found"
	echo "$dir/run/home/$SRV_USER/Maildir"
}

# seed: like tests/lib/dovecot.sh: tmp/ then rename into new/, names
# whose time part grows with each message (persistent sequence), mtime
# likewise, so that any order Courier sorts by keeps SRCDIR's order
cmd_seed() {
	local dir=$1 src=$2 maildir owner
	[ -d "$src" ] || die "source directory $src not found"
	maildir=$(server_maildir "$dir")
	owner=$(cat "$dir/mailuser")
	"$PYTHON3" - "$maildir" "$src" "$owner" "$dir/seed.seq" <<'EOF'
import os, sys, socket, time
maildir, src, owner, seqfile = sys.argv[1:5]
uid, gid = (int(x) for x in owner.split(":"))
try:
    with open(seqfile) as f:
        base, seq = (int(x) for x in f.read().split())
except FileNotFoundError:
    base, seq = int(time.time()) - 100000, 0
host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
pid = os.getpid()
names = sorted(n for n in os.listdir(src)
               if os.path.isfile(os.path.join(src, n)) and not os.path.islink(os.path.join(src, n)))
for n in names:
    with open(os.path.join(src, n), "rb") as f:
        data = f.read()
    secs = base + seq
    name = "%d.M%dP%dQ%d.%s" % (secs, seq, pid, seq, host)
    seq += 1
    tmp = os.path.join(maildir, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chown(tmp, uid, gid)
    os.utime(tmp, (secs, secs))
    os.rename(tmp, os.path.join(maildir, "new", name))
with open(seqfile + ".tmp", "w") as f:
    f.write("%d %d\n" % (base, seq))
os.rename(seqfile + ".tmp", seqfile)
EOF
}

cmd_count() {
	local dir=$1 maildir
	maildir=$(server_maildir "$dir")
	find "$maildir/new" "$maildir/cur" -mindepth 1 -maxdepth 1 -type f | wc -l | tr -d ' '
}

[ $# -ge 1 ] || usage
cmd=$1
case $cmd in
packages)
	[ $# -eq 1 ] || usage
	cmd_packages
	;;
unpack)
	[ $# -eq 2 ] || usage
	cmd_unpack "$2"
	;;
start)
	[ $# -eq 2 ] || usage
	cmd_start "$2"
	;;
_run)
	[ $# -eq 2 ] || usage
	cmd_run "$2"
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
