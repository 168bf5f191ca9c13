#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# mailutils.sh - a private GNU Mailutils pop3d for pullmail's tests
# (interface: tests/lib/servers/README).
#
#   mailutils.sh packages | unpack ROOT | start DIR | seed DIR SRCDIR |
#                count DIR | stop DIR
#
# pop3d (Debian's mailutils-pop3d, installed normally: it does not conflict
# with Dovecot) runs in its own daemon mode, in the foreground in a session
# of its own, from DIR/pop3d.conf (--config-file, so /etc/mailutils.conf is
# never read), logging to DIR/pop3d.log instead of syslog.  Nothing is
# redirected: every path pop3d uses is named in that file.
#
#   SRV_PORT       plain POP3, STLS offered (tls-mode ondemand: USER/PASS
#                  also works before STLS)
#   SRV_TLS_PORT   implicit TLS (tls-mode connection)
#   users          the "virtdomain" module: DIR/virt/localhost is a passwd
#                  file with the crypt(3) hash of the password; the login
#                  name is therefore pmtest@localhost.  Its home is
#                  DIR/mail/pmtest and the mailbox DIR/mail/pmtest/INBOX
#                  (mbox; virtdomain names the mailbox HOME/INBOX itself, so
#                  mailbox-pattern has no say).  The mail uid is the caller's.
#   APOP           DIR/apop.db (GDBM, made by popauth, mode 0600)
#   SASL           none: Mailutils' pop3d does not implement AUTH
#   LOGIN-DELAY    SRV_LOGIN_DELAY=N (seconds) in start's environment turns
#                  on login-delay N with its stat file DIR/logindelay.db,
#                  made empty beforehand with mode 0600 (pop3d would create
#                  it 0660 and then refuse it as group readable).  A login
#                  within N seconds of the end of the last session is
#                  answered "-ERR [LOGIN-DELAY] Attempt to log in within the
#                  minimum login delay interval" (after PASS or APOP).
#   IN-USE         a second session on the mailbox while one is open gets
#                  "-ERR [IN-USE] Mailbox in use" (pop3d holds the mailbox's
#                  dotlock, DIR/mail/pmtest/INBOX.lock, for the session)
#
# seed appends to the mbox in the mboxrd escaping, which pop3d undoes, under
# the same dotlock.
#
# What does not round-trip (Mailutils 3.15, see SRV_NOTES): RETR is
# byte-exact only until the session asks UIDL.  The UIDL command adds
# "X-UIDL: <md5>.<uidvalidity>.<uid>" to the header of each message (LIST
# then counts it too), and when a session ends pop3d rewrites the mbox with
# that field, X-IMAPbase (first message), X-UID and Status (RO after RETR)
# added at the end of each header.  So a client that asks UIDL, as pullmail
# always does, gets every message with those fields.  Also an empty header
# field ("X-Empty:") comes back as "X-Empty: ", and a message with no empty
# line after its header gets one (the mbox separator's).
set -eu

PROG=mailutils.sh
PYTHON3=${PYTHON3:-python3}
# shellcheck source=tests/lib/servers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
USER_LOCAL=pmtest
SRV_DOMAIN=localhost
PASS=pm-Secret-42

# pid of DIR's running pop3d master, or nothing
master_pid() {
	local pid
	[ -f "$1/pid" ] || return 0
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pop3d ] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--config-file=$1/pop3d.conf" || return 0
	echo "$pid"
}

cmd_stop() {
	local dir=$1 pid i procs
	pid=$(master_pid "$dir")
	[ -n "$pid" ] || return 0
	# The master is a session leader (setsid at start): its session holds
	# it and every per-connection child.  SIGTERM to each of them, then
	# wait until none is left.
	procs=$(session_procs "$pid")
	# shellcheck disable=SC2086
	[ -z "$procs" ] || kill -TERM $procs 2>/dev/null || true
	i=0
	while [ $i -lt 1000 ]; do
		procs=$(session_procs "$pid")
		[ -n "$procs" ] || break
		sleep 0.01
		i=$((i + 1))
	done
	procs=$(session_procs "$pid")
	if [ -n "$procs" ]; then
		# shellcheck disable=SC2086
		echo "$PROG: warning: killing leftover pop3d processes:" $procs >&2
		# shellcheck disable=SC2086
		kill -KILL $procs 2>/dev/null || true
		i=0
		while [ $i -lt 1000 ] && [ -n "$(session_procs "$pid")" ]; do
			sleep 0.01
			i=$((i + 1))
		done
	fi
	rm -f "$dir/pid"
}

# two free TCP ports on 127.0.0.1
pick_ports() {
	"$PYTHON3" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# a private CA (DIR/ca.pem) and a server certificate for DNS:localhost
gen_certs() {
	local t=$1/tls
	mkdir -p "$t"
	(
		cd "$t"
		cat >server.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout ca.key -out ../ca.pem -days 3650 \
			-subj "/O=pullmail tests/CN=pullmail test CA" \
			-addext "basicConstraints = critical, CA:TRUE" \
			-addext "keyUsage = critical, keyCertSign, cRLSign"
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -keyout server.key -out server.csr \
			-subj "/O=pullmail tests/CN=localhost"
		openssl x509 -req -in server.csr -CA ../ca.pem -CAkey ca.key \
			-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
			-days 3650 -extfile server.ext -out server.pem
		chmod 0600 server.key ca.key
	) >"$1/openssl.log" 2>&1 || { cat "$1/openssl.log" >&2; die "openssl failed"; }
}

write_config() {
	local dir=$1 port=$2 tlsport=$3
	{
		cat <<EOF
# generated by tests/lib/servers/mailutils.sh
logging { syslog no; print-severity yes; };
mode daemon;
foreground yes;
pidfile "$dir/pop3d.pid";
max-children 50;
tcp-wrappers { enable no; };
auth { authorization virtdomain; authentication generic; };
virtdomain { passwd-dir "$dir/virt"; };
apop-database-file "$dir/apop.db";
locking { type dotlock; };
tls {
  ssl-certificate-file "$dir/tls/server.pem";
  ssl-key-file "$dir/tls/server.key";
};
server 127.0.0.1:$port { tls-mode ondemand; };
server 127.0.0.1:$tlsport { tls-mode connection; };
EOF
		if [ "${SRV_LOGIN_DELAY:-0}" -gt 0 ]; then
			echo "login-delay $SRV_LOGIN_DELAY;"
			echo "stat-file \"$dir/logindelay.db\";"
		fi
	} >"$dir/pop3d.conf"
}

# Start pop3d as a session leader without our file descriptors beyond
# 0-2 (make's jobserver, a harness's pipes).
run_pop3d() {
	local dir=$1
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			case $fd in 0 | 1 | 2 | *[!0-9]*) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
		done
		exec setsid /usr/sbin/pop3d --config-file="$dir/pop3d.conf"
	) </dev/null >>"$dir/pop3d.log" 2>&1 &
	echo $!
}

cmd_start() {
	local dir=$1 hash uid gid attempt ports port tlsport pid i label
	[ -x /usr/sbin/pop3d ] || die "/usr/sbin/pop3d not found (apt-get install mailutils-pop3d)"
	command -v popauth >/dev/null || die "popauth not found (apt-get install mailutils-pop3d)"
	command -v openssl >/dev/null || die "openssl not found"
	case ${SRV_LOGIN_DELAY:-} in *[!0-9]*) die "SRV_LOGIN_DELAY must be a number of seconds" ;; esac
	umask 022
	mkdir -p "$dir"
	dir=$(abs_dir "$dir")
	case $dir in
	/) die "refusing to use / as DIR" ;;
	*[\'\"\\\$\`\ ]* | *"
"*) die "DIR must not contain quotes, blanks, backslashes, \$ or \`: $dir" ;;
	esac
	cmd_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir/virt" "$dir/mail/$USER_LOCAL"
	chmod 0755 "$dir"
	gen_certs "$dir"

	uid=$(id -u)
	gid=$(id -g)
	hash=$(printf '%s\n' "$PASS" | openssl passwd -6 -stdin) || die "openssl passwd failed"
	printf '%s:%s:%s:%s::%s:/bin/false\n' "$USER_LOCAL" "$hash" "$uid" "$gid" \
		"$dir/mail/$USER_LOCAL" >"$dir/virt/$SRV_DOMAIN"
	chmod 0600 "$dir/virt/$SRV_DOMAIN"
	: >"$dir/mail/$USER_LOCAL/INBOX"
	chmod 0600 "$dir/mail/$USER_LOCAL/INBOX"

	# popauth reads "user password" lines; the plaintext is removed at once
	(umask 077 && printf '%s@%s %s\n' "$USER_LOCAL" "$SRV_DOMAIN" "$PASS" >"$dir/apop.txt")
	popauth -c -f "$dir/apop.txt" -o "$dir/apop.db" -P 600 ||
		{ rm -f "$dir/apop.txt"; die "popauth could not create $dir/apop.db"; }
	rm -f "$dir/apop.txt"
	if [ "${SRV_LOGIN_DELAY:-0}" -gt 0 ]; then
		popauth -c -f /dev/null -o "$dir/logindelay.db" -P 600 ||
			die "popauth could not create $dir/logindelay.db"
	fi

	attempt=0
	while :; do
		attempt=$((attempt + 1))
		ports=$(pick_ports) || die "could not pick free ports"
		port=${ports% *}
		tlsport=${ports#* }
		write_config "$dir" "$port" "$tlsport"
		: >"$dir/pop3d.log"
		pid=$(run_pop3d "$dir")
		echo "$pid" >"$dir/pid"
		# started once both listeners greet, failed if pop3d exits
		i=0
		while [ $i -lt 1000 ] && kill -0 "$pid" 2>/dev/null &&
			! grep -q ' started$' "$dir/pop3d.log"; do
			sleep 0.01
			i=$((i + 1))
		done
		if [ -n "$(master_pid "$dir")" ] && wait_greet "$port" &&
			wait_greet "$tlsport" tls "$dir/ca.pem"; then
			break
		fi
		cmd_stop "$dir"
		if grep -qi 'in use' "$dir/pop3d.log" && [ $attempt -lt 5 ]; then
			continue
		fi
		tail -n 20 "$dir/pop3d.log" >&2
		die "pop3d did not start"
	done

	label=$(/usr/sbin/pop3d --version | sed -n '1s/^pop3d (GNU Mailutils) /GNU Mailutils pop3d /p')
	{
		echo "# generated by tests/lib/servers/mailutils.sh; source with: . DIR/env"
		echo "SRV_NAME=mailutils"
		echo "SRV_LABEL='$label'"
		echo "SRV_HOST=127.0.0.1"
		echo "SRV_TLS_HOST=localhost"
		echo "SRV_PORT=$port"
		echo "SRV_STLS=yes"
		echo "SRV_TLS_PORT=$tlsport"
		echo "SRV_CA='$dir/ca.pem'"
		echo "SRV_USER=$USER_LOCAL@$SRV_DOMAIN"
		echo "SRV_PASS=$PASS"
		echo "SRV_USERPASS=yes"
		echo "SRV_APOP=yes"
		echo "SRV_MECHS=''"
		echo "SRV_UTF8=no"
		echo "SRV_PIPELINING=yes"
		echo "SRV_LOG='$dir/pop3d.log'"
		echo "SRV_PID=$pid"
		echo "SRV_NOTES='no SASL (pop3d has no AUTH); pop3d changes the messages: UIDL adds an X-UIDL field to the header of each message (their LIST sizes grow with it), and the end of each session rewrites the mbox with X-IMAPbase, X-UID and Status fields added; an empty header field gets a blank after its colon; a message without an empty line after its header gets one; CAPA says EXPIRENEVER and, with login-delay, the number alone'"
		echo "SRV_ADDS_FIELDS='X-UIDL X-IMAPbase X-UID Status'"
		echo "SRV_QUOTES_FROM=no"
	} >"$dir/env"
}

mailbox() {
	[ -f "$1/env" ] || die "$1/env not found (run: $PROG start $1)"
	echo "$1/mail/$USER_LOCAL/INBOX"
}

cmd_seed() {
	local dir=$1 src=$2
	[ -d "$src" ] || die "source directory $src not found"
	"$PYTHON3" - "$(mailbox "$dir")" "$src" <<'EOF'
import os, re, sys, time
mbox, src = sys.argv[1:3]
lock = mbox + ".lock"
# pop3d holds this dotlock for a whole session: wait for it (bounded)
for _ in range(30000):
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        break
    except FileExistsError:
        time.sleep(0.01)
else:
    sys.exit("mailutils.sh: %s stays locked" % lock)
try:
    os.write(fd, b"%d\n" % os.getpid())
    os.close(fd)
    names = sorted(n for n in os.listdir(src) if os.path.isfile(os.path.join(src, n)))
    with open(mbox, "ab") as out:
        for n in names:
            with open(os.path.join(src, n), "rb") as f:
                data = f.read()
            if not data.endswith(b"\n"):
                data += b"\n"
            # mboxrd: one more ">" before every ^>*From line
            data = re.sub(rb"(?m)^(>*From )", rb">\1", data)
            if b"\n\n" not in data:
                # no blank line after the header: pop3d would read the
                # separating blank line as its end, and the next From_
                # line as body
                data += b"\n"
            out.write(b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n" + data + b"\n")
        out.flush()
        os.fsync(out.fileno())
finally:
    os.unlink(lock)
EOF
}

cmd_count() {
	local mbox
	mbox=$(mailbox "$1")
	# From_ lines: the first line, or one after an empty line
	awk 'NR == 1 || prev == "" { if (/^From /) n++ } { prev = $0 } END { print n + 0 }' "$mbox"
}

cmd_packages() {
	echo mailutils-pop3d
}

cmd_unpack() {
	:	# installed normally (no conflict with Dovecot)
}

adapter_main "$@"
