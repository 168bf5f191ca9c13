#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# dovecot.sh - run a private, throw-away Dovecot POP3 server for pullmail tests.
#
#   dovecot.sh start DIR        create DIR afresh, start Dovecot, write DIR/env
#   dovecot.sh seed DIR SRCDIR  copy SRCDIR's files into the server Maildir (new/)
#   dovecot.sh count DIR        print the number of messages in the server Maildir
#   dovecot.sh stop DIR         stop the instance of DIR (harmless if not running)
#
# Everything (config, certificates, logs, state, mail) lives inside DIR (a
# few parts may sit in /tmp/pullmail-dovecot.* behind symlinks, see
# cmd_start); the system Dovecot and /etc/dovecot are never touched.  All
# listeners are bound to 127.0.0.x only, on ports chosen at start time.
# Runs as root (mail user nobody) or as any other user.  See tests/lib/README.
set -eu

PROG=dovecot.sh
PYTHON3=${PYTHON3:-python3}
DOVECOT=${DOVECOT:-}
# DOVECOT_LOCK_SESSION=yes: one POP3 session at a time per mailbox (a
# second login gets -ERR [IN-USE])
DOVECOT_LOCK_SESSION=${DOVECOT_LOCK_SESSION:-no}
# DOVECOT_OAUTH2_URL=https://.../introspect: XOAUTH2 and OAUTHBEARER too,
# their tokens checked through that RFC 7662 introspection URL (the oauth2
# passdb), trusting DOVECOT_OAUTH2_CA (default: this instance's own CA)
DOVECOT_OAUTH2_URL=${DOVECOT_OAUTH2_URL:-}
DOVECOT_OAUTH2_CA=${DOVECOT_OAUTH2_CA:-}
POP3_USER=pmtest
POP3_PASS=pm-Secret-42
NOSTLS_ADDR=127.0.0.2
# the user named by a client certificate that Dovecot does not know
OTHER_CERT_USER=intruder
# LMTP (with dovecot-lmtpd): a second user whose Maildir LMTP delivers into
LMTP_RCPT=lmtpuser

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<EOF
usage: $PROG start DIR
       $PROG seed DIR SRCDIR
       $PROG count DIR
       $PROG stop DIR
EOF
	exit 2
}

find_dovecot() {
	if [ -z "$DOVECOT" ]; then
		for d in /usr/sbin/dovecot /usr/local/sbin/dovecot; do
			if [ -x "$d" ]; then DOVECOT=$d; break; fi
		done
		[ -n "$DOVECOT" ] || DOVECOT=$(command -v dovecot 2>/dev/null) ||
			die "dovecot not found (install the Debian package dovecot-pop3d)"
	fi
}

# absolute path of an existing directory
abs_dir() {
	(cd "$1" && pwd)
}

# Print the pid of the master of DIR's instance if it is running, else nothing.
master_pid() {
	local pidfile pid comm
	pidfile=$1/dovecot.pid
	# if start was interrupted before writing dovecot.pid
	[ -f "$pidfile" ] || pidfile=$1/run/master.pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	[ -d "/proc/$pid" ] || return 0
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
	[ "$comm" = dovecot ] || return 0
	echo "$pid"
}

# Live (non-zombie) processes in session SID, as "PID COMM" lines.  Dovecot's
# master calls setsid() when it daemonizes, so the whole instance (master
# and all children) shares the master's session id.  Zombies are ignored:
# when the reparented master exits, nobody may reap it in a container.
session_procs() {
	ps -o pid=,stat=,comm= -s "$1" 2>/dev/null | awk '$2 !~ /^Z/ { print $1, $3 }' || true
}

cmd_stop() {
	local dir=$1 pid i procs others area
	[ -d "$dir" ] || return 0
	pid=$(master_pid "$dir")
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		# The master stops its services, then sends SIGQUIT to its log
		# process and sleeps unconditionally for 1 s; the log process
		# only exits once the master is gone.  So once only the master
		# and its log process are left there is nothing to wait for:
		# SIGKILL the sleeping master to keep stop fast.
		i=0
		while [ $i -lt 500 ]; do
			procs=$(session_procs "$pid")
			[ -z "$procs" ] && break
			others=$(printf '%s\n' "$procs" | awk -v m="$pid" '$1 != m && $2 != "log"')
			if [ -z "$others" ] && [ $i -ge 1 ]; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
			sleep 0.01
			i=$((i + 1))
		done
		procs=$(session_procs "$pid")
		if [ -n "$procs" ]; then
			echo "$PROG: warning: killing leftover Dovecot processes: $(printf '%s\n' "$procs" | tr '\n' ' ')" >&2
			# shellcheck disable=SC2046
			kill -KILL $(printf '%s\n' "$procs" | awk '{ print $1 }') 2>/dev/null || true
			sleep 0.05
		fi
	fi
	rm -f "$dir/dovecot.pid" "$dir/run/master.pid"
	# parts of the instance may live in /tmp (see cmd_start)
	if [ -f "$dir/tmparea" ]; then
		area=$(cat "$dir/tmparea")
		case $area in
		/tmp/pullmail-dovecot.*) rm -rf "$area" ;;
		esac
		rm -f "$dir/tmparea"
	fi
	return 0
}

# Choose free TCP ports: two on 127.0.0.1, one on $NOSTLS_ADDR (0 if that
# address is unusable).  All sockets are held until all ports are chosen.
pick_ports() {
	"$PYTHON3" - "$NOSTLS_ADDR" <<'EOF'
import socket, sys
socks = []
ports = []
for addr in ["127.0.0.1", "127.0.0.1", sys.argv[1]]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((addr, 0))
    except OSError:
        ports.append(0)
        continue
    socks.append(s)
    ports.append(s.getsockname()[1])
print(" ".join(str(p) for p in ports))
EOF
}

# Wait until host:port accepts a connection; with "greet", until a POP3
# greeting arrives.  Returns 1 on timeout.
wait_port() {
	local host=$1 port=$2 greet=$3 i=0 line
	while [ $i -lt 300 ]; do
		if exec 3<>"/dev/tcp/$host/$port" 2>/dev/null; then
			if [ "$greet" = greet ]; then
				line=
				IFS= read -r -t 2 line <&3 || true
				exec 3<&- 3>&-
				case $line in "+OK"*) return 0 ;; esac
			else
				exec 3<&- 3>&-
				return 0
			fi
		fi
		sleep 0.01
		i=$((i + 1))
	done
	return 1
}

gen_certs() {
	local dir=$1 ext
	ext=$dir/tls/server.ext
	mkdir -p "$dir/tls"
	cat >"$ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	cat >"$dir/tls/client.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	(
		cd "$dir/tls"
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout ca.key -out ../ca.pem -days 3650 \
			-subj "/O=pullmail tests/CN=pullmail test CA" \
			-addext "basicConstraints = critical, CA:TRUE" \
			-addext "keyUsage = critical, keyCertSign, cRLSign"
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout other-ca.key -out ../other-ca.pem -days 3650 \
			-subj "/O=pullmail tests/CN=unrelated test CA" \
			-addext "basicConstraints = critical, CA:TRUE" \
			-addext "keyUsage = critical, keyCertSign, cRLSign"
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout server.key -out server.csr \
			-subj "/O=pullmail tests/CN=localhost"
		openssl x509 -req -in server.csr -CA ../ca.pem -CAkey ca.key \
			-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
			-days 3650 -extfile server.ext -out server.pem
		# Client certificates come from a CA of their own: were the
		# server's CA in ssl_ca, OpenSSL would send it along with the
		# server certificate, and an unrelated ca_file would then fail
		# with "self-signed certificate in certificate chain" instead
		# of "unable to get local issuer certificate".
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout client-ca.key -out ../client-ca.pem -days 3650 \
			-subj "/O=pullmail tests/CN=pullmail test client CA" \
			-addext "basicConstraints = critical, CA:TRUE" \
			-addext "keyUsage = critical, keyCertSign, cRLSign"
		# client certificates, as "FILE CN CA"
		for c in "client $POP3_USER client-ca" "client-other-user $OTHER_CERT_USER client-ca" \
			"client-other-ca $POP3_USER other-ca"; do
			# shellcheck disable=SC2086
			set -- $c
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
				-nodes -keyout "$1.key" -out "$1.csr" \
				-subj "/O=pullmail tests/CN=$2"
			openssl x509 -req -in "$1.csr" -CA "../$3.pem" -CAkey "$3.key" \
				-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
				-days 3650 -extfile client.ext -out "$1.pem"
		done
	) >"$dir/tls/openssl.log" 2>&1 || {
		cat "$dir/tls/openssl.log" >&2
		die "certificate generation with openssl failed"
	}
	chmod 0644 "$dir/ca.pem" "$dir/other-ca.pem" "$dir/client-ca.pem" "$dir/tls/"*.pem
	chmod 0600 "$dir/tls/"*.key
}

write_config() {
	local dir=$1 base=$2 p_pop3=$3 p_pop3s=$4 p_nostls=$5
	local conf=$dir/dovecot.conf
	{
		cat <<EOF
# Private Dovecot for pullmail tests (generated by tests/lib/dovecot.sh).
instance_name = pullmail-test-$$
protocols = pop3${HAVE_LMTP:+ lmtp}
listen = 127.0.0.1
base_dir = $base
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
debug_log_path = $dir/dovecot.log

default_login_user = $LOGIN_USER
default_internal_user = $INTERNAL_USER
default_internal_group = $INTERNAL_GROUP
first_valid_uid = 1
first_valid_gid = 1

ssl = yes
ssl_cert = <$dir/tls/server.pem
ssl_key = <$dir/tls/server.key
ssl_min_protocol = TLSv1.2
# Client certificates are asked for (not required): one signed by the test
# client CA logs in with SASL EXTERNAL as the user its CN names.
ssl_ca = <$dir/client-ca.pem
ssl_verify_client_cert = yes
ssl_require_crl = no
auth_ssl_require_client_cert = no
auth_ssl_username_from_cert = yes
ssl_cert_username_field = commonName

disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 external${DOVECOT_OAUTH2_URL:+ xoauth2 oauthbearer}
auth_failure_delay = 0
auth_verbose = yes
EOF
		if [ -n "$DOVECOT_OAUTH2_URL" ]; then
			# where Dovecot's unprivileged auth process can read it
			# (next to the passwd-file)
			oca=${PASSWD_FILE%/*}/oauth2-ca.pem
			cp "${DOVECOT_OAUTH2_CA:-$dir/ca.pem}" "$oca" &&
				chmod 0644 "$oca" || die "cannot copy $DOVECOT_OAUTH2_CA"
			cat >"$dir/dovecot-oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = $DOVECOT_OAUTH2_URL
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = $oca
EOF
			cat <<EOF
# OAuth2: the bearer token checked by the authorization server
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/dovecot-oauth2.conf.ext
}
EOF
		fi
		cat <<EOF
# EXTERNAL: the user (from a verified client certificate) is checked
# against this list, with "nopassword"; no other mechanism consults it
passdb {
  driver = passwd-file
  mechanisms = external
  args = username_format=%u $EXT_PASSWD_FILE
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $PASSWD_FILE
}
userdb {
  driver = passwd-file
  args = username_format=%u $PASSWD_FILE
}

mail_location = maildir:~/Maildir
# LMTP (to $LMTP_RCPT): the message as it came, but for the Return-Path
# header Dovecot always puts first; no Received:, no Delivered-To:
lmtp_add_received_header = no
lmtp_hdr_delivery_address = none
mail_fsync = optimized
mail_max_userip_connections = 100
pop3_uidl_format = %08Xu%08Xv
pop3_no_flag_updates = yes
pop3_lock_session = ${DOVECOT_LOCK_SESSION:-no}
shutdown_clients = yes

service pop3-login {
  $LOGIN_CHROOT
  inet_listener pop3 {
    address = 127.0.0.1
    port = $p_pop3
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $p_pop3s
    ssl = yes
  }
EOF
		if [ "$p_nostls" != 0 ]; then
			cat <<EOF
  inet_listener pop3nostls {
    address = $NOSTLS_ADDR
    port = $p_nostls
  }
EOF
		fi
		echo "}"
		if [ -n "$HAVE_LMTP" ]; then
			cat <<EOF
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
EOF
		fi
		if [ "$p_nostls" != 0 ]; then
			cat <<EOF
# connections to $NOSTLS_ADDR get no TLS at all: STLS is not offered
local $NOSTLS_ADDR {
  ssl = no
}
EOF
		fi
		if [ "$(id -u)" != 0 ]; then
			# unprivileged: no chroots, nothing changes uid
			cat <<EOF
service anvil {
  chroot =
}
service ipc {
  chroot =
}
service old-stats {
  chroot =
}
EOF
		fi
	} >"$conf"
}

# Start the daemon without leaking our file descriptors (make's jobserver
# pipe, a test harness's output pipe, ...) into the long-lived master.
run_dovecot() {
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			case $fd in 0 | 1 | 2 | *[!0-9]*) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
		done
		exec "$DOVECOT" -c "$1"
	)
}

# as_user UID GID COMMAND...: run COMMAND with only that uid and gid
as_user() {
	local u=$1 g=$2
	shift 2
	setpriv --reuid="$u" --regid="$g" --clear-groups "$@" 2>/dev/null
}

# can_search UID GID DIR: can that user reach things inside DIR?
can_search() {
	as_user "$1" "$2" test -x "$3"
}

cmd_start() {
	local dir=$1 base attempt ports p_pop3 p_pop3s p_nostls mailuid mailgid
	local maildir home out rc pid area
	find_dovecot
	command -v openssl >/dev/null 2>&1 || die "openssl not found"
	umask 022
	mkdir -p "$dir"
	dir=$(abs_dir "$dir")
	case $dir in
	/) die "refusing to use / as DIR" ;;
	*[\'\"\\\$\`]* | *"
"*) die "DIR must not contain quotes, backslashes, \$, \` or newlines: $dir" ;;
	esac
	cmd_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir" "$dir/state"
	chmod 0755 "$dir"

	if [ "$(id -u)" = 0 ]; then
		# Dovecot refuses to access mail as root
		MAIL_USER=nobody
		mailuid=$(id -u nobody) || die "no user 'nobody'"
		mailgid=$(getent group nogroup | cut -d: -f3)
		[ -n "$mailgid" ] || mailgid=$(id -g nobody)
		LOGIN_USER=dovenull
		INTERNAL_USER=dovecot
		INTERNAL_GROUP=dovecot
		id dovenull >/dev/null 2>&1 || die "user 'dovenull' missing (install dovecot-core)"
		id dovecot >/dev/null 2>&1 || die "user 'dovecot' missing (install dovecot-core)"
		LOGIN_CHROOT="chroot = login"
	else
		MAIL_USER=$(id -un) || die "current uid $(id -u) has no user name"
		mailuid=$(id -u)
		mailgid=$(id -g)
		LOGIN_USER=$MAIL_USER
		INTERNAL_USER=$MAIL_USER
		INTERNAL_GROUP=$(id -gn)
		LOGIN_CHROOT="chroot ="
	fi

	# Dovecot's unprivileged processes must reach some files: as root, the
	# auth process (user dovecot) reads the passwd file, the mail processes
	# (user nobody) use the Maildir and the login processes (dovenull) the
	# sockets in base_dir.  If DIR is not searchable by others (e.g. below
	# root's 0700 home), those live in a private directory in /tmp instead,
	# reached through symlinks DIR/run, DIR/home and DIR/passwd; "stop"
	# removes it.  Likewise for base_dir alone when DIR is deep: unix socket
	# paths are limited to ~107 bytes and base_dir holds e.g. login/pop3.
	area=
	PASSWD_FILE=
	if [ "$(id -u)" = 0 ] && ! { can_search "$mailuid" "$mailgid" "$dir" &&
		can_search dovecot dovecot "$dir" && can_search dovenull dovenull "$dir"; }; then
		area=$(mktemp -d /tmp/pullmail-dovecot.XXXXXX)
		chmod 0755 "$area"
		mkdir "$area/run" "$area/home"
		: >"$area/passwd"
		ln -s "$area/run" "$dir/run"
		ln -s "$area/home" "$dir/home"
		ln -s "$area/passwd" "$dir/passwd"
		base=$area/run
		home=$area/home/$POP3_USER
		PASSWD_FILE=$area/passwd
	elif [ ${#dir} -gt 60 ]; then
		area=$(mktemp -d /tmp/pullmail-dovecot.XXXXXX)
		chmod 0755 "$area"
		mkdir "$area/run"
		ln -s "$area/run" "$dir/run"
		base=$area/run
		home=$dir/home/$POP3_USER
	else
		base=$dir/run
		home=$dir/home/$POP3_USER
		mkdir "$base"
	fi
	[ -n "${PASSWD_FILE:-}" ] || PASSWD_FILE=$dir/passwd
	EXT_PASSWD_FILE=${PASSWD_FILE%/*}/passwd-external
	[ -z "$area" ] || echo "$area" >"$dir/tmparea"
	chmod 0755 "$base"

	gen_certs "$dir"

	maildir=$home/Maildir
	mkdir -p "$maildir/new" "$maildir/cur" "$maildir/tmp"
	chmod 0700 "$home" "$maildir" "$maildir/new" "$maildir/cur" "$maildir/tmp"
	printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$POP3_USER" "$POP3_PASS" \
		"$mailuid" "$mailgid" "$home" >"$dir/passwd"
	lmtp_home=${home%/*}/$LMTP_RCPT
	HAVE_LMTP=
	if [ -x "${DOVECOT%/sbin/dovecot}/lib/dovecot/lmtp" ]; then
		HAVE_LMTP=yes
		mkdir -p "$lmtp_home/Maildir/new" "$lmtp_home/Maildir/cur" "$lmtp_home/Maildir/tmp"
		chmod -R 0700 "$lmtp_home"
		printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$LMTP_RCPT" "no-login-$$" \
			"$mailuid" "$mailgid" "$lmtp_home" >>"$dir/passwd"
		[ "$(id -u)" != 0 ] || chown -R "$mailuid:$mailgid" "$lmtp_home"
	fi
	chmod 0644 "$dir/passwd"
	printf '%s:::::::nopassword\n' "$POP3_USER" >"$EXT_PASSWD_FILE"
	chmod 0644 "$EXT_PASSWD_FILE"
	echo "$mailuid:$mailgid" >"$dir/mailuser"
	if [ "$(id -u)" = 0 ]; then
		chown -R "$mailuid:$mailgid" "$home"
		as_user "$mailuid" "$mailgid" test -w "$maildir/new" ||
			die "user nobody cannot write to $maildir/new"
		as_user dovecot dovecot test -r "$PASSWD_FILE" ||
			die "user dovecot cannot read $PASSWD_FILE"
	fi
	maildir=$dir/home/$POP3_USER/Maildir

	attempt=0
	while :; do
		attempt=$((attempt + 1))
		ports=$(pick_ports) || die "could not pick free ports"
		# shellcheck disable=SC2086
		set -- $ports
		p_pop3=$1 p_pop3s=$2 p_nostls=$3
		write_config "$dir" "$base" "$p_pop3" "$p_pop3s" "$p_nostls"
		rc=0
		# not $(...): the daemonized master keeps inherited fds open
		run_dovecot "$dir/dovecot.conf" </dev/null >"$dir/startup.log" 2>&1 || rc=$?
		out=$(cat "$dir/startup.log")
		if [ $rc -eq 0 ]; then
			break
		fi
		case $out in
		*"in use"*)
			if [ $attempt -lt 5 ]; then continue; fi ;;
		esac
		printf '%s\n' "$out" >&2
		echo "--- tail of $dir/dovecot.log:" >&2
		tail -n 20 "$dir/dovecot.log" >&2 2>/dev/null || true
		die "dovecot failed to start (exit status $rc)"
	done

	# master.pid is written by the daemonized master
	pid=
	for _ in $(seq 1 200); do
		if [ -s "$base/master.pid" ]; then
			pid=$(cat "$base/master.pid")
			[ -n "$pid" ] && break
		fi
		sleep 0.01
	done
	[ -n "$pid" ] || die "dovecot did not write $base/master.pid"
	echo "$pid" >"$dir/dovecot.pid"
	# Disable Dovecot's auth penalty (anvil delays logins from an IP by 2,
	# 4, 8, ... 15 s after failed logins, including the next good one):
	# the auth process is started on demand and silently disables the
	# penalty when this socket does not exist.  Failed logins are still
	# answered after up to ~0.5 s (auth_failure_delay granularity).
	rm -f "$base/anvil-auth-penalty"

	if ! wait_port 127.0.0.1 "$p_pop3" greet || ! wait_port 127.0.0.1 "$p_pop3s" connect ||
		{ [ "$p_nostls" != 0 ] && ! wait_port "$NOSTLS_ADDR" "$p_nostls" greet; }; then
		echo "--- tail of $dir/dovecot.log:" >&2
		tail -n 20 "$dir/dovecot.log" >&2 2>/dev/null || true
		cmd_stop "$dir"
		die "dovecot did not start listening on 127.0.0.1:$p_pop3/$p_pop3s"
	fi

	{
		echo "# generated by tests/lib/dovecot.sh; source with: . DIR/env"
		echo "DOVECOT_DIR='$dir'"
		echo "DOVECOT_CONF='$dir/dovecot.conf'"
		echo "DOVECOT_LOG='$dir/dovecot.log'"
		echo "DOVECOT_PID='$pid'"
		echo "POP3_HOST=127.0.0.1"
		echo "POP3_TLS_HOST=localhost"
		echo "POP3_PORT=$p_pop3"
		echo "POP3S_PORT=$p_pop3s"
		echo "POP3_USER=$POP3_USER"
		echo "POP3_PASS='$POP3_PASS'"
		echo "CA_FILE='$dir/ca.pem'"
		echo "OTHER_CA_FILE='$dir/other-ca.pem'"
		echo "CLIENT_CA_FILE='$dir/client-ca.pem'"
		echo "CLIENT_CERT='$dir/tls/client.pem'"
		echo "CLIENT_KEY='$dir/tls/client.key'"
		echo "OTHER_USER_CERT='$dir/tls/client-other-user.pem'"
		echo "OTHER_USER_KEY='$dir/tls/client-other-user.key'"
		echo "OTHER_USER=$OTHER_CERT_USER"
		echo "OTHER_CA_CERT='$dir/tls/client-other-ca.pem'"
		echo "OTHER_CA_KEY='$dir/tls/client-other-ca.key'"
		echo "SERVER_MAILDIR='$maildir'"
		echo "MAIL_USER=$MAIL_USER"
		if [ "$p_nostls" != 0 ]; then
			echo "NOSTLS_ADDR=$NOSTLS_ADDR"
			echo "NOSTLS_PORT=$p_nostls"
		fi
		if [ -n "$HAVE_LMTP" ]; then
			echo "LMTP_SOCKET='$base/lmtp'"
			echo "LMTP_RCPT=$LMTP_RCPT"
			echo "LMTP_MAILDIR='$dir/home/$LMTP_RCPT/Maildir'"
			echo "export LMTP_SOCKET LMTP_RCPT LMTP_MAILDIR"
		fi
		echo "export DOVECOT_DIR POP3_HOST POP3_TLS_HOST POP3_PORT POP3S_PORT POP3_USER POP3_PASS CA_FILE OTHER_CA_FILE SERVER_MAILDIR"
		echo "export CLIENT_CA_FILE CLIENT_CERT CLIENT_KEY OTHER_USER_CERT OTHER_USER_KEY OTHER_USER OTHER_CA_CERT OTHER_CA_KEY"
		if [ "$p_nostls" != 0 ]; then
			echo "export NOSTLS_ADDR NOSTLS_PORT"
		fi
	} >"$dir/env"
}

server_maildir() {
	local dir=$1
	[ -f "$dir/env" ] || die "$dir/env not found (run: $PROG start $dir)"
	[ -d "$dir/home/$POP3_USER/Maildir/new" ] ||
		die "server Maildir $dir/home/$POP3_USER/Maildir not found (instance stopped?)"
	echo "$dir/home/$POP3_USER/Maildir"
}

cmd_seed() {
	local dir=$1 src=$2 maildir owner
	[ -d "$src" ] || die "source directory $src not found"
	maildir=$(server_maildir "$dir")
	owner=$(cat "$dir/mailuser")
	"$PYTHON3" - "$maildir" "$src" "$owner" "$dir/seed.seq" <<'EOF'
import os, sys, socket, time
maildir, src, owner, seqfile = sys.argv[1:5]
uid, gid = (int(x) for x in owner.split(":"))
chown = os.geteuid() == 0
# Dovecot assigns UIDs to new files in order of (seconds, microseconds) of
# the Maildir base name, so keep a persistent monotonic sequence number
# and encode it in those two fields.
try:
    with open(seqfile) as f:
        base, seq = (int(x) for x in f.read().split())
except FileNotFoundError:
    base, seq = int(time.time()), 0
host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
pid = os.getpid()
names = sorted(n for n in os.listdir(src)
               if os.path.isfile(os.path.join(src, n)) and not os.path.islink(os.path.join(src, n)))
for n in names:
    with open(os.path.join(src, n), "rb") as f:
        data = f.read()
    secs, usec = base + seq // 1000000, seq % 1000000
    name = "%d.M%dP%dQ%d.%s,S=%d" % (secs, usec, pid, seq, host, len(data))
    seq += 1
    tmp = os.path.join(maildir, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    if chown:
        os.chown(tmp, uid, gid)
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

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
case $cmd in
start)
	[ $# -eq 2 ] || usage
	cmd_start "$dir"
	;;
seed)
	[ $# -eq 3 ] || usage
	[ -d "$dir" ] || die "$dir not found"
	cmd_seed "$(abs_dir "$dir")" "$3"
	;;
count)
	[ $# -eq 2 ] || usage
	[ -d "$dir" ] || die "$dir not found"
	cmd_count "$(abs_dir "$dir")"
	;;
stop)
	[ $# -eq 2 ] || usage
	[ -d "$dir" ] || exit 0
	cmd_stop "$(abs_dir "$dir")"
	;;
*)
	usage
	;;
esac
