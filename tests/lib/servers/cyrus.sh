#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# cyrus.sh - a private, throw-away Cyrus pop3d for pullmail's tests (issue 10).
#
#   cyrus.sh packages          Debian packages to apt-get install normally
#   cyrus.sh unpack ROOT       apt-get download cyrus-pop3d and cyrus-imapd,
#                              dpkg -x them into ROOT/cyrus
#   cyrus.sh start DIR         create DIR afresh, start the instance, write DIR/env
#   cyrus.sh seed DIR SRCDIR   add SRCDIR's files (IMAP APPEND), in name order
#   cyrus.sh count DIR         number of messages in the INBOX (IMAP STATUS)
#   cyrus.sh stop DIR          stop DIR's instance; leaves no process behind
#
# The interface is tests/lib/servers/README.  cyrus-pop3d and cyrus-imapd
# conflict with Dovecot (pop3-server, imap-server), so their pop3d and
# imapd are run from ROOT/cyrus (unpacked, the version of the installed
# cyrus-common); master and ctl_cyrusdb come from cyrus-common,
# saslpasswd2 from sasl2-bin.  The instance is Cyrus's own master
# (-C imapd.conf -M cyrus.conf, both in DIR) with three services: pop3 on
# 127.0.0.1, plain with STLS; pop3s on 127.0.0.1, implicit TLS; imapd on the
# unix socket DIR/socket/imap, for seed and count only.  The user and its
# password are in a SASL sasldb in DIR (auxprop), the INBOX is created by
# Cyrus at the first login (autocreate): no system user is involved.
# Everything Cyrus writes (databases, spool, sockets, locks) is in DIR;
# its log (syslog only) is caught into DIR/cyrus.log.
#
# Why seed does not use LMTP: lmtpd replaces Return-Path (by the envelope
# sender) and adds Received, X-Cyrus-Session-Id and X-Sieve to every
# message, whatever imapd.conf says, so RETR could not be byte-exact.
# IMAP APPEND stores the message as given (8-bit headers too, with
# munge8bit off), and RETR returns it as stored.
#
# Redirections, all in a private mount namespace (unshare -m --propagation
# private; mount -n, so no /run/mount/utab either) that the master and
# every child live in; nothing changes outside it:
#   - DIR is bind-mounted on ROOT/cyrus/inst, and the configuration names
#     only paths below ROOT/cyrus/inst.  Cyrus's processes run as the
#     system user "cyrus" (created by cyrus-common), which cannot search
#     a DIR below a 0700 directory (mktemp -d, /root...); the bind mount
#     gives them a reachable path (and a short one, for the unix sockets).
#   - /dev is replaced by DIR/dev: the device nodes of /dev the servers
#     need (null, zero, full, random, urandom, tty) bind-mounted into it,
#     plus "log", the unix datagram socket of a syslog receiver of our own
#     (python3, outside the namespace, pid in DIR/syslog.pid) that appends
#     to DIR/cyrus.log: Cyrus logs only with syslog(3), to /dev/log.
# The master (SRV_PID, DIR/master.pid) runs in a session of its own
# (setsid): stop waits until that session has no live process left.
# Root only (mount namespace; Cyrus itself changes to the user cyrus).
set -eu

PROG=cyrus.sh
PYTHON3=${PYTHON3:-python3}
SRV_USER=pmtest
SRV_PASS=pm-Cyrus-42
# the SASL realm (Cyrus's servername); sasldb keys are user@realm
REALM=localhost
CYRUS_BIN=/usr/lib/cyrus/bin
# SASL mechanisms to offer (sasl_mech_list; start keeps those whose plugin
# is installed; after TLS Cyrus adds SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS
# by itself).  SRV_MECHS lists them without DIGEST-MD5: offered (a client
# must cope with mechanisms it does not know), but pullmail has no
# DIGEST-MD5 (RFC 6331 made it historic), so no test can log in with it.
WANT_MECHS="PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256"
NOTES="no UTF8 (RFC 6856); seeded by IMAP APPEND (lmtpd adds headers); DIGEST-MD5 and SCRAM-*-PLUS offered, untested (pullmail has neither)"

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

srvroot() {
	echo "${PM_SRVROOT:-/opt/pullmail-testsrv}"
}

abs_dir() {
	(cd "$1" && pwd)
}

cmd_packages() {
	# cyrus-common wants a mail-transport-agent: dma is the lightest;
	# libsasl2-modules has LOGIN, CRAM-MD5, DIGEST-MD5 and SCRAM;
	# libsasl2-modules-db the sasldb auxprop plugin.
	printf '%s\n' cyrus-common sasl2-bin db-util dma libsasl2-modules libsasl2-modules-db
}

# The packages unpacked into ROOT/cyrus: cyrus-pop3d for pop3d, and
# cyrus-imapd for imapd, through which seed APPENDs (lmtpd rewrites
# headers, see cmd_seed).  Both declare Conflicts with Dovecot's
# pop3-server / imap-server.
UNPACK_PKGS="cyrus-pop3d cyrus-imapd"

cmd_unpack() {
	local root=$1 dest ver have tmp
	dest=$root/cyrus
	# the binaries must be exactly the version of the installed cyrus-common
	ver=$(dpkg-query -W -f '${Version}' cyrus-common 2>/dev/null) ||
		die "cyrus-common is not installed (apt-get install $(cmd_packages | tr '\n' ' '))"
	have=$(cat "$dest/VERSION" 2>/dev/null || true)
	if [ "$have" = "$ver $UNPACK_PKGS" ] && [ -x "$dest/usr/lib/cyrus/bin/pop3d" ] &&
		[ -x "$dest/usr/lib/cyrus/bin/imapd" ]; then
		return 0
	fi
	mkdir -p "$root"
	tmp=$(mktemp -d "$root/.cyrus-unpack.XXXXXX")
	(
		set -e
		cd "$tmp"
		# apt's sandbox user _apt must be able to write here
		chmod 0777 .
		mkdir x
		for p in $UNPACK_PKGS; do
			apt-get download -q "$p=$ver" >download.log 2>&1 ||
				{ cat download.log >&2; exit 1; }
			dpkg -x "${p}_"*.deb x
		done
		[ -x x/usr/lib/cyrus/bin/pop3d ] || { echo "no pop3d in cyrus-pop3d" >&2; exit 1; }
		[ -x x/usr/lib/cyrus/bin/imapd ] || { echo "no imapd in cyrus-imapd" >&2; exit 1; }
		echo "$ver $UNPACK_PKGS" >x/VERSION
		mkdir x/inst
	) || { rm -rf "$tmp"; die "could not download and unpack $UNPACK_PKGS (version $ver)"; }
	rm -rf "$dest"
	mv "$tmp/x" "$dest"
	rm -rf "$tmp"
	chmod 0755 "$dest" "$dest/inst"
}

# ------------------------------------------------------------- instance

# The path DIR is seen at inside the instance's mount namespace.
inst_path() {
	echo "$(srvroot)/cyrus/inst"
}

# Print the pid in DIR/FILE if that process is alive (not a zombie) and
# is COMM.
live_pid() {
	local file=$1/$2 comm=$3 pid c
	[ -f "$file" ] || return 0
	pid=$(cat "$file" 2>/dev/null) || return 0
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	c=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
	[ "$c" = "$comm" ] || return 0
	# a zombie is not alive (when the master's parent is gone, nobody may
	# reap it in a container)
	case $(ps -o stat= -p "$pid" 2>/dev/null) in Z* | '') return 0 ;; esac
	echo "$pid"
}

# Live (non-zombie) processes of session SID named one of COMMS (a
# space-separated list), as "PID COMM" lines.
session_procs() {
	ps -o pid=,stat=,comm= -s "$1" 2>/dev/null |
		awk -v comms=" $2 " '$2 !~ /^Z/ && index(comms, " " $3 " ") { print $1, $3 }' || true
}

# kill_session DIR FILE COMM...: stop the session whose leader's pid is in
# DIR/FILE: SIGTERM to the leader if it is alive and named COMM (the first
# one), else SIGKILL to what is left of its session (processes named one
# of the COMMs, e.g. children of a master that died); wait until none is
# left (SIGKILL them after a long while); remove FILE.
kill_session() {
	local dir=$1 file=$2 comm=$3 comms pid i procs
	shift 2
	comms=$*
	[ -f "$dir/$file" ] || return 0
	pid=$(cat "$dir/$file" 2>/dev/null) || pid=
	case $pid in '' | *[!0-9]*) rm -f "${dir:?}/$file"; return 0 ;; esac
	if [ -n "$(live_pid "$dir" "$file" "$comm")" ]; then
		kill -TERM "$pid" 2>/dev/null || true
	else
		# without their master, Cyrus's children ignore SIGTERM
		procs=$(session_procs "$pid" "$comms")
		# shellcheck disable=SC2046
		[ -z "$procs" ] || kill -KILL $(printf '%s\n' "$procs" | awk '{ print $1 }') 2>/dev/null || true
	fi
	i=0
	while [ $i -lt 3000 ]; do
		procs=$(session_procs "$pid" "$comms")
		[ -z "$procs" ] && break
		sleep 0.01
		i=$((i + 1))
	done
	if [ -n "$procs" ]; then
		echo "$PROG: warning: killing leftover processes: $(printf '%s\n' "$procs" | tr '\n' ' ')" >&2
		# shellcheck disable=SC2046
		kill -KILL $(printf '%s\n' "$procs" | awk '{ print $1 }') 2>/dev/null || true
		i=0
		while [ $i -lt 3000 ] && [ -n "$(session_procs "$pid" "$comms")" ]; do
			sleep 0.01
			i=$((i + 1))
		done
	fi
	rm -f "${dir:?}/$file"
}

# The names of the instance's processes: the master and what it starts.
MASTER_COMMS="master pop3d imapd ctl_cyrusdb"

cmd_stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	# shellcheck disable=SC2086
	kill_session "$dir" master.pid $MASTER_COMMS
	# last: it writes what the dying master and children still log
	kill_session "$dir" syslog.pid python3
	return 0
}

# Two free TCP ports on 127.0.0.1, both held until both are chosen.
pick_ports() {
	"$PYTHON3" -c '
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
'
}

# wait_greeting DIR PID PORT [tls]: poll until 127.0.0.1:PORT answers +OK
# (over TLS with "tls"); returns 1 if it never does or PID dies.
wait_greeting() {
	"$PYTHON3" -c '
import os, socket, ssl, sys, time
ca, master, port, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for _ in range(1000):
    try:
        os.kill(master, 0)
    except OSError:
        sys.exit(1)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            if mode == "tls":
                ctx = ssl.create_default_context(cafile=ca)
                s = ctx.wrap_socket(s, server_hostname="localhost")
            if s.makefile("rb").readline().startswith(b"+OK"):
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.02)
sys.exit(1)
' "$1/ca.pem" "$2" "$3" "${4:-plain}"
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
			-subj "/O=pullmail tests/CN=pullmail cyrus test CA" \
			-addext "basicConstraints = critical, CA:TRUE" \
			-addext "keyUsage = critical, keyCertSign, cRLSign"
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout server.key -out server.csr \
			-subj "/O=pullmail tests/CN=localhost"
		openssl x509 -req -in server.csr -CA ../ca.pem -CAkey ca.key \
			-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
			-days 3650 -extfile server.ext -out server.pem
	) >"$dir/tls/openssl.log" 2>&1 || {
		cat "$dir/tls/openssl.log" >&2
		die "certificate generation with openssl failed"
	}
	chmod 0644 "$dir/ca.pem" "$dir/tls/server.pem"
	chmod 0600 "$dir/tls/"*.key
}

# The SASL mechanisms of WANT_MECHS whose plugin is installed.
avail_mechs() {
	local m lib f out=
	for m in $WANT_MECHS; do
		case $m in
		PLAIN) lib=plain ;;
		LOGIN) lib=login ;;
		CRAM-MD5) lib=crammd5 ;;
		DIGEST-MD5) lib=digestmd5 ;;
		SCRAM-*) lib=scram ;;
		*) continue ;;
		esac
		for f in /usr/lib/*/sasl2/lib"$lib".so /usr/lib/sasl2/lib"$lib".so; do
			if [ -e "$f" ]; then
				out="$out $m"
				break
			fi
		done
	done
	echo "${out# }"
}

write_config() {
	local dir=$1 in=$2 p_pop3=$3 p_pop3s=$4 mechs=$5 pop3d imapd
	pop3d=$(srvroot)/cyrus/usr/lib/cyrus/bin/pop3d
	imapd=$(srvroot)/cyrus/usr/lib/cyrus/bin/imapd
	cat >"$dir/imapd.conf" <<EOF
# Private Cyrus for pullmail tests (generated by tests/lib/servers/cyrus.sh).
# $in is DIR, bind-mounted there in the instance's mount namespace.
configdirectory: $in/conf
partition-default: $in/spool
defaultpartition: default
sievedir: $in/sieve
# no lmtpd runs: this only keeps the default path inside DIR
lmtpsocket: $in/socket/lmtp
idlesocket: $in/socket/idle
notifysocket: $in/socket/notify
servername: $REALM
syslog_prefix: pullmail-cyrus

sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $in/sasldb
sasl_mech_list: $mechs
allowplaintext: yes
allowapop: yes

tls_server_cert: $in/tls/server.pem
tls_server_key: $in/tls/server.key
tls_sessions_db_path: $in/conf/tls_sessions.db

# The INBOX comes into being at the first login.
autocreate_quota: 0
# Messages are stored as given: no header munging, no Message-ID
# based duplicate suppression (a test may seed a message twice).
munge8bit: no
reject8bit: no
duplicatesuppression: no
popminpoll: 0
uidl_format: cyrus
EOF
	cat >"$dir/cyrus.conf" <<EOF
# Private Cyrus master for pullmail tests (generated by tests/lib/servers/cyrus.sh).
START {
  recover cmd="$CYRUS_BIN/ctl_cyrusdb -C $in/imapd.conf -r"
}
SERVICES {
  pop3 cmd="$pop3d -C $in/imapd.conf" listen="127.0.0.1:$p_pop3" proto=tcp4 prefork=0
  pop3s cmd="$pop3d -s -C $in/imapd.conf" listen="127.0.0.1:$p_pop3s" proto=tcp4 prefork=0
  imapunix cmd="$imapd -C $in/imapd.conf" listen="$in/socket/imap" prefork=0
}
EVENTS {
}
DAEMON {
}
EOF
}

# run_detached PIDFILE LOG COMMAND...: COMMAND in the background in a
# session of its own, without our file descriptors (make's jobserver, a
# harness's pipes), output appended to LOG; its pid (written by the process
# itself, as setsid forks when it has to) in PIDFILE once this returns.
run_detached() {
	local pidfile=$1 log=$2 i
	shift 2
	rm -f "$pidfile"
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			case $fd in 0 | 1 | 2 | *[!0-9]*) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
		done
		# shellcheck disable=SC2016
		exec setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
			"$pidfile" "$@" </dev/null >>"$log" 2>&1
	) &
	i=0
	while [ ! -s "$pidfile" ]; do
		i=$((i + 1))
		[ $i -lt 3000 ] || die "$1 did not start (see $log)"
		sleep 0.01
	done
}

# A syslog receiver on DIR/dev/log (the instance's /dev/log): one line per
# message, priority prefix removed, appended to DIR/cyrus.log.
start_syslog() {
	local dir=$1 pid i
	rm -f "$dir/dev/log"
	run_detached "$dir/syslog.pid" "$dir/syslog.err" "$PYTHON3" -c '
import os, re, signal, socket, sys
path, logf = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path + ".new")
os.chmod(path + ".new", 0o666)
os.rename(path + ".new", path)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
out = open(logf, "ab", buffering=0)
pri = re.compile(rb"^<[0-9]+>")
while True:
    data = s.recv(65536)
    out.write(pri.sub(b"", data).rstrip(b"\0\n") + b"\n")
' "$dir/dev/log" "$dir/cyrus.log"
	pid=$(cat "$dir/syslog.pid")
	i=0
	while [ ! -S "$dir/dev/log" ]; do
		if [ ! -d "/proc/$pid" ] || [ $i -ge 3000 ]; then
			cat "$dir/syslog.err" >&2
			die "the syslog receiver did not create $dir/dev/log"
		fi
		i=$((i + 1))
		sleep 0.01
	done
}

# start_master DIR IN: the master in its own session and mount namespace
# (see the top); sets MASTER_PID.
start_master() {
	local dir=$1 in=$2
	# shellcheck disable=SC2016
	run_detached "$dir/master.pid" "$dir/master.out" unshare -m --propagation private \
		bash -c '
set -e
dir=$1 in=$2
shift 2
mount -n --bind "$dir" "$in"
for n in null zero full random urandom tty; do
	mount -n --bind "/dev/$n" "$in/dev/$n"
done
mount -n --rbind "$in/dev" /dev
exec "$@"
' inst "$dir" "$in" "$CYRUS_BIN/master" -C "$in/imapd.conf" -M "$in/cyrus.conf" \
		-p "$in/conf/master.pid"
	MASTER_PID=$(cat "$dir/master.pid")
}

cmd_start() {
	local dir=$1 in root pop3d attempt ports p_pop3 p_pop3s mechs srv_mechs label ver n
	root=$(srvroot)
	pop3d=$root/cyrus/usr/lib/cyrus/bin/pop3d
	in=$(inst_path)
	[ -x "$pop3d" ] || die "$pop3d not found (run: $PROG unpack $root)"
	[ -x "$CYRUS_BIN/master" ] || die "$CYRUS_BIN/master not found (install cyrus-common)"
	command -v saslpasswd2 >/dev/null 2>&1 || die "saslpasswd2 not found (install sasl2-bin)"
	command -v unshare >/dev/null 2>&1 || die "unshare not found (util-linux)"
	command -v openssl >/dev/null 2>&1 || die "openssl not found"
	[ "$(id -u)" = 0 ] || die "must run as root (mount namespace; Cyrus runs as user cyrus)"
	id cyrus >/dev/null 2>&1 || die "no user 'cyrus' (install cyrus-common)"
	[ -d "$in" ] || mkdir -p "$in"
	# Cyrus runs (and reaches DIR through $in) as the user cyrus
	setpriv --reuid=cyrus --regid=mail --clear-groups test -x "$in" -a -x "$pop3d" 2>/dev/null ||
		die "user cyrus cannot reach $in and $pop3d (ROOT must be searchable by all)"
	umask 022
	mkdir -p "$dir"
	dir=$(abs_dir "$dir")
	case $dir in
	/) die "refusing to use / as DIR" ;;
	*[\'\"\\\$\`\ ]* | *"
"*) die "DIR must not contain quotes, backslashes, blanks, \$, \` or newlines: $dir" ;;
	esac
	cmd_stop "$dir"
	rm -rf "$dir"
	# a start that fails half-way leaves no process behind
	# shellcheck disable=SC2064
	trap "cmd_stop '$dir'" EXIT
	# configdirectory as Debian's cyrus-makedirs lays it out
	mkdir -p "$dir"/conf "$dir"/spool "$dir"/sieve "$dir"/socket "$dir"/dev
	for n in db socket proc lock log msg user quota sync ptclient; do
		mkdir "$dir/conf/$n"
	done
	chmod 0755 "$dir"
	gen_certs "$dir"

	# SASL users: sasldb keys are user@realm
	printf '%s' "$SRV_PASS" | saslpasswd2 -p -c -f "$dir/sasldb" -u "$REALM" "$SRV_USER" ||
		die "saslpasswd2 failed"
	chmod 0640 "$dir/sasldb"
	chown -R cyrus:mail "$dir/conf" "$dir/spool" "$dir/sieve" "$dir/socket" \
		"$dir/sasldb" "$dir/tls/server.key"

	# the instance's /dev (see the top)
	for n in null zero full random urandom tty; do
		: >"$dir/dev/$n"
	done
	start_syslog "$dir"

	mechs=$(avail_mechs)
	attempt=0
	while :; do
		attempt=$((attempt + 1))
		ports=$(pick_ports) || die "could not pick free ports"
		# shellcheck disable=SC2086
		set -- $ports
		p_pop3=$1 p_pop3s=$2
		write_config "$dir" "$in" "$p_pop3" "$p_pop3s" "$mechs"
		start_master "$dir" "$in"
		if wait_greeting "$dir" "$MASTER_PID" "$p_pop3" &&
			wait_greeting "$dir" "$MASTER_PID" "$p_pop3s" tls; then
			break
		fi
		# shellcheck disable=SC2086
		kill_session "$dir" master.pid $MASTER_COMMS
		if [ $attempt -ge 3 ] || ! grep -q 'in use' "$dir/cyrus.log" 2>/dev/null; then
			echo "--- $dir/master.out:" >&2
			tail -n 20 "$dir/master.out" >&2 2>/dev/null || true
			echo "--- tail of $dir/cyrus.log:" >&2
			tail -n 20 "$dir/cyrus.log" >&2 2>/dev/null || true
			cmd_stop "$dir"
			die "cyrus master did not start serving 127.0.0.1:$p_pop3/$p_pop3s"
		fi
	done
	srv_mechs=
	for n in $mechs; do
		[ "$n" = DIGEST-MD5 ] || srv_mechs="$srv_mechs $n"
	done
	srv_mechs=${srv_mechs# }
	ver=$(cat "$root/cyrus/VERSION" 2>/dev/null || echo unknown)
	label="Cyrus pop3d ${ver%%-*}"

	{
		echo "# generated by tests/lib/servers/cyrus.sh; source with: . DIR/env"
		echo "SRV_NAME=cyrus"
		echo "SRV_LABEL='$label'"
		echo "SRV_HOST=127.0.0.1"
		echo "SRV_TLS_HOST=localhost"
		echo "SRV_PORT=$p_pop3"
		echo "SRV_STLS=yes"
		echo "SRV_TLS_PORT=$p_pop3s"
		echo "SRV_CA='$dir/ca.pem'"
		echo "SRV_USER=$SRV_USER"
		echo "SRV_PASS=$SRV_PASS"
		echo "SRV_USERPASS=yes"
		echo "SRV_APOP=yes"
		echo "SRV_MECHS='$srv_mechs'"
		echo "SRV_UTF8=no"
		echo "SRV_PIPELINING=yes"
		echo "SRV_LOG='$dir/cyrus.log'"
		echo "SRV_PID=$MASTER_PID"
		echo "SRV_NOTES='$NOTES'"
		echo "SRV_ADDS_FIELDS=''"
		echo "SRV_QUOTES_FROM=no"
		echo "export SRV_NAME SRV_LABEL SRV_HOST SRV_TLS_HOST SRV_PORT SRV_STLS SRV_TLS_PORT SRV_CA"
		echo "export SRV_USER SRV_PASS SRV_USERPASS SRV_APOP SRV_MECHS SRV_UTF8 SRV_PIPELINING"
		echo "export SRV_LOG SRV_PID SRV_NOTES SRV_ADDS_FIELDS SRV_QUOTES_FROM"
	} >"$dir/env"
	trap - EXIT
}

# imap DIR PYTHON-CODE ARG...: run PYTHON-CODE with "M", an imaplib.IMAP4
# logged in as SRV_USER through the instance's imapd unix socket
# (DIR/socket/imap, connected to relative to DIR/socket: the full path
# may be too long for a unix socket address), and sys.argv[1:] the ARGs.
imap() {
	local dir=$1 code=$2
	shift 2
	[ -n "$(live_pid "$dir" master.pid master)" ] || die "the instance of $dir is not running"
	[ -S "$dir/socket/imap" ] || die "$dir/socket/imap not found"
	(
		cd "$dir/socket"
		"$PYTHON3" -c '
import imaplib, os, socket, sys

class UnixIMAP(imaplib.IMAP4):
    def open(self, host="", port=0, timeout=None):
        self.host = host
        self.port = port
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect("./imap")
        self.file = self.sock.makefile("rb")

def check(what, res):
    typ, data = res
    if typ != "OK":
        sys.exit("cyrus.sh: error: IMAP %s: %s %r" % (what, typ, data))
    return data

user, password = os.environ["CY_USER"], os.environ["CY_PASS"]
M = UnixIMAP()
check("LOGIN", M.login(user, password))
'"$code"'
M.logout()
' "$@"
	)
}

# seed: IMAP APPEND stores each message as given (LF made CRLF), which is
# what RETR then sends (dot-stuffed by pop3d); see the top for why not
# LMTP.  APPENDs go in name order, so the N-th file gets the next UID and
# POP3 number.
cmd_seed() {
	local dir=$1 src=$2
	[ -d "$src" ] || die "source directory $src not found"
	src=$(abs_dir "$src")
	CY_USER=$SRV_USER CY_PASS=$SRV_PASS imap "$dir" '
src = sys.argv[1]
names = sorted(n for n in os.listdir(src)
               if os.path.isfile(os.path.join(src, n)) and not os.path.islink(os.path.join(src, n)))
for n in names:
    with open(os.path.join(src, n), "rb") as f:
        data = f.read()
    if b"\r" in data:
        sys.exit("cyrus.sh: error: %s contains CR bytes: seed takes LF files" % n)
    data = data.replace(b"\n", b"\r\n")
    check("APPEND " + n, M.append("INBOX", None, None, data))
' "$src"
}

cmd_count() {
	local dir=$1
	CY_USER=$SRV_USER CY_PASS=$SRV_PASS imap "$dir" '
data = check("STATUS", M.status("INBOX", "(MESSAGES)"))
import re
m = re.search(rb"MESSAGES (\d+)", data[0])
if not m:
    sys.exit("cyrus.sh: error: IMAP STATUS: %r" % data)
print(int(m.group(1)))
'
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
packages)
	[ $# -eq 0 ] || usage
	cmd_packages
	;;
unpack)
	[ $# -eq 1 ] || usage
	cmd_unpack "$1"
	;;
start)
	[ $# -eq 1 ] || usage
	cmd_start "$1"
	;;
seed)
	[ $# -eq 2 ] || usage
	[ -d "$1" ] || die "$1 not found"
	cmd_seed "$(abs_dir "$1")" "$2"
	;;
count)
	[ $# -eq 1 ] || usage
	[ -d "$1" ] || die "$1 not found"
	cmd_count "$(abs_dir "$1")"
	;;
stop)
	[ $# -eq 1 ] || usage
	[ -d "$1" ] || exit 0
	cmd_stop "$(abs_dir "$1")"
	;;
*)
	usage
	;;
esac
