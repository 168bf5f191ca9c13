#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# postfix.sh - a private Postfix on 127.0.0.1 that delivers every message
# for RCPT into a Maildir, for smtp.sh (pullmail's SMTP delivery against a
# real MTA).
#
#   postfix.sh unpack ROOT   apt-get download postfix and dpkg -x it into
#                            ROOT/postfix (Postfix conflicts with the dma
#                            the suite installs, through mail-transport-agent:
#                            it is never installed, only unpacked)
#   postfix.sh start DIR     create DIR afresh, start Postfix, write DIR/env:
#                            POSTFIX_PORT (SMTP on 127.0.0.1), POSTFIX_RCPT
#                            (pmtest@example.org), POSTFIX_MAILDIR (where its
#                            mail goes), POSTFIX_LOG
#   postfix.sh stop DIR      stop it (harmless if not running)
#
# POSTFIX_DISCARD_EHLO=chunking in start's environment: Postfix does not
# offer CHUNKING (smtpd_discard_ehlo_keywords), so clients send DATA.
#
# Root only (Postfix's master runs as root; its daemons as the mail_owner,
# here the existing system user dovecot, the mail as nobody). Everything
# lives in a directory of its own in /tmp (DIR/postfix links to it), since
# those users must reach it; nothing outside it and ROOT is written: no
# /etc/postfix, /var/spool/postfix or syslog (maillog_file). The test
# configuration keeps messages as they come: message_drop_headers is empty
# (Postfix would drop the message's own Return-Path), and the delivery adds
# only Return-Path, X-Original-To, Delivered-To and Received: headers on top.
set -u
ROOT=${PM_SRVROOT:-/opt/pullmail-testsrv}
PF=$ROOT/postfix
die() {
	echo "postfix.sh: $*" >&2
	exit 1
}
pf() { # postfix COMMAND...: with the private configuration
	LD_LIBRARY_PATH=$PF/usr/lib/postfix "$PF/usr/sbin/postfix" -c "$1/conf" "${@:2}"
}

cmd_unpack() {
	local root=$1 tmp
	[ -x "$root/postfix/usr/lib/postfix/sbin/master" ] && return 0
	tmp=$(mktemp -d) || die "mktemp failed"
	(cd "$tmp" && apt-get download postfix >/dev/null) || die "apt-get download postfix failed"
	mkdir -p "$root/postfix" && dpkg -x "$tmp"/postfix_*.deb "$root/postfix" ||
		die "dpkg -x failed"
	rm -rf "$tmp"
}

cmd_stop() {
	local dir=$1 area pid
	[ -L "$dir/postfix" ] || return 0
	area=$(readlink "$dir/postfix")
	if [ -f "$area/queue/pid/master.pid" ]; then
		pf "$area" stop >/dev/null 2>&1
		pid=$(tr -d ' ' <"$area/queue/pid/master.pid")
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	case $area in /tmp/pullmail-postfix.*) rm -rf "$area" ;; esac
	rm -f "$dir/postfix"
}

cmd_start() {
	local dir=$1 area port rc
	[ "$(id -u)" = 0 ] || die "Postfix needs root"
	[ -x "$PF/usr/lib/postfix/sbin/master" ] ||
		die "no Postfix in $PF (run: postfix.sh unpack $ROOT, or contrib/install-deps.sh)"
	id dovecot >/dev/null 2>&1 || die "user dovecot missing (install dovecot-core)"
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || die "cannot make $dir"
	cmd_stop "$dir"
	area=$(mktemp -d /tmp/pullmail-postfix.XXXXXX) || die "mktemp failed"
	chmod 0755 "$area"
	ln -s "$area" "$dir/postfix"
	mkdir -p "$area/conf" "$area/queue/pid" "$area/queue/public" \
		"$area/queue/private" "$area/data" "$area/mail"
	chown -R dovecot: "$area/queue" "$area/data"
	chown root: "$area/queue" "$area/queue/pid"
	chown nobody:nogroup "$area/mail"
	echo "pmtest@example.org $area/mail/pmtest/" >"$area/conf/vmailbox"
	for _ in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		cat >"$area/conf/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
		cat >"$area/conf/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $area/conf
queue_directory = $area/queue
data_directory = $area/data
daemon_directory = $PF/usr/lib/postfix/sbin
command_directory = $PF/usr/sbin
shlib_directory = $PF/usr/lib/postfix
meta_directory = $PF/etc/postfix
mail_owner = dovecot
setgid_group = mail
myhostname = mta.example.test
mydomain = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
virtual_mailbox_domains = example.org
virtual_mailbox_base = /
virtual_mailbox_maps = texthash:$area/conf/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
message_size_limit = 0
message_drop_headers =
maillog_file = $area/maillog
maillog_file_prefixes = $area
import_environment = MAIL_CONFIG MAIL_DEBUG LD_LIBRARY_PATH=$PF/usr/lib/postfix
smtputf8_enable = yes
alias_maps =
alias_database =
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtpd_discard_ehlo_keywords = ${POSTFIX_DISCARD_EHLO:-}
EOF
		rc=0
		pf "$area" start >"$area/start.log" 2>&1 </dev/null || rc=$?
		[ $rc = 0 ] || { cat "$area/start.log" "$area/maillog" >&2 2>/dev/null; cmd_stop "$dir"; die "postfix start failed"; }
		for _ in $(seq 100); do
			python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null && break
			sleep 0.1
		done
		if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
			{
				echo "POSTFIX_PORT=$port"
				echo "POSTFIX_RCPT=pmtest@example.org"
				echo "POSTFIX_MAILDIR='$area/mail/pmtest'"
				echo "POSTFIX_LOG='$area/maillog'"
			} >"$dir/env"
			return 0
		fi
		pf "$area" stop >/dev/null 2>&1
	done
	cmd_stop "$dir"
	die "Postfix did not listen"
}

[ $# -eq 2 ] || die "usage: postfix.sh unpack ROOT | start DIR | stop DIR"
case $1 in
unpack) cmd_unpack "$2" ;;
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
*) die "unknown command $1" ;;
esac
