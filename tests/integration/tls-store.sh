#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# tls-store.sh - the system trust store: OpenSSL's hashed directory
# (SSL_CERT_DIR) is consulted first, its bundle file (SSL_CERT_FILE) is
# loaded only when a certificate does not verify without it.
#
#   file only   the test CA only in the bundle file: verified and fetched;
#               with the wrong host name refused for the name (the second
#               verification still checks it); --serverinfo says "yes"
#   dir only    the test CA only in a hashed directory, the file empty or
#               absent: verified and fetched
#   neither     refused (77) with the same error as before: unable to get
#               local issuer certificate
#   not opened  the file is a FIFO: opening it would be seen (a writer
#               waiting on it gets through); with the CA in the directory,
#               with ca_file, or with a pinned fingerprint it is never
#               opened; with the CA nowhere it is (and the error is the
#               same); strace (if it works here): the default bundle file
#               is not opened by a run with ca_file
#   chain       fakepop sends its certificate and an intermediate CA, the
#               root is in the directory (the file is not opened), in the
#               file (fetched), in neither (77)
#
# Every success fetches exactly one message (max_messages = 1).
#
# Environment: see lib.sh (PULLMAIL, TESTLIB, PYTHON3, KEEP_TMP=1).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

start_server
seed 20

EMPTY_DIR=$T/store/empty-dir
HASHED_DIR=$T/store/hashed
BUNDLE=$T/store/bundle.pem
OTHER_BUNDLE=$T/store/other-bundle.pem
EMPTY_FILE=$T/store/empty.pem
ABSENT_FILE=$T/store/absent.pem
mkdir -p "$EMPTY_DIR" "$HASHED_DIR" || bail_out "mkdir failed"
cp "$CA_FILE" "$HASHED_DIR/test-ca.pem" || bail_out "cp failed"
openssl rehash "$HASHED_DIR" >/dev/null 2>&1 || bail_out "openssl rehash failed"
[ -n "$(find "$HASHED_DIR" -name '*.0' -print -quit)" ] ||
	bail_out "openssl rehash made no hash link"
# a bundle with an unrelated CA first, as a real one holds many
cat "$OTHER_CA_FILE" "$CA_FILE" >"$BUNDLE" || bail_out "cannot write $BUNDLE"
cp "$OTHER_CA_FILE" "$OTHER_BUNDLE" || bail_out "cp failed"
: >"$EMPTY_FILE"

REFUSED="pullmail: $ACCOUNT: $POP3_TLS_HOST: server certificate not accepted: unable to get local issuer certificate"

# run_store FILE DIR [ARG...]: run_pm with SSL_CERT_FILE=FILE, SSL_CERT_DIR=DIR
run_store() {
	local file=$1 dir=$2
	shift 2
	SSL_CERT_FILE=$file SSL_CERT_DIR=$dir run_pm "$@"
}

# fetched_one LABEL: the last run exited 0 and delivered exactly one
# message more than before (md0 and srv0, set by the caller)
fetched_one() {
	is "$PM_RC" 0 "$1: exit status 0" || show_pm
	is "$(maildir_count)" $((md0 + 1)) "$1: one message delivered"
	is "$(server_count)" $((srv0 - 1)) "$1: and deleted from the server"
}

# store_config [KEY=VALUE | -KEY...]: an implicit TLS account for
# localhost, max_messages = 1, no ca_file unless given
store_config() {
	case " $* " in
	*" ca_file="*) write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" \
		max_messages=1 "$@" ;;
	*) write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -ca_file \
		max_messages=1 "$@" ;;
	esac
}

# store_ok LABEL FILE DIR [KEY=VALUE | -KEY...]: with that store (and no
# ca_file unless given), one message is fetched
store_ok() {
	local label=$1 file=$2 dir=$3
	shift 3
	srv0=$(server_count)
	md0=$(maildir_count)
	store_config "$@"
	run_store "$file" "$dir"
	fetched_one "$label"
}

# store_refused LABEL ERROR FILE DIR [KEY=VALUE | -KEY...]: exit 77, stderr
# exactly ERROR, nothing fetched
store_refused() {
	local label=$1 error=$2 file=$3 dir=$4
	shift 4
	srv0=$(server_count)
	md0=$(maildir_count)
	store_config "$@"
	run_store "$file" "$dir"
	is "$PM_RC" 77 "$label: exit status 77" || show_pm
	is "$PM_ERR" "$error" "$label: the error"
	is "$(maildir_count)" "$md0" "$label: nothing delivered"
	is "$(server_count)" "$srv0" "$label: nothing deleted"
}

# ---------------------------------------------------------- file only

store_ok "CA only in the bundle file" "$BUNDLE" "$EMPTY_DIR"
store_ok "CA only in the bundle file, STLS" "$BUNDLE" "$EMPTY_DIR" \
	tls=starttls "port=$POP3_PORT"
store_refused "CA only in the bundle file, host 127.0.0.1" \
	"pullmail: $ACCOUNT: $POP3_HOST: server certificate not accepted: IP address mismatch (it is not valid for $POP3_HOST)" \
	"$BUNDLE" "$EMPTY_DIR" "host=$POP3_HOST"
write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" -ca_file
run_store "$BUNDLE" "$EMPTY_DIR" --serverinfo "$ACCOUNT"
is "$PM_RC" 0 "--serverinfo, CA only in the bundle file: exit status 0" || show_pm
contains "$PM_OUT" "$(printf '\n  verified ')" "--serverinfo: a verified line"
is "$(printf '%s\n' "$PM_OUT" | sed -n 's/^  verified *//p')" yes \
	"--serverinfo, CA only in the bundle file: verified yes"

# ----------------------------------------------------------- dir only

store_ok "CA only in the hashed directory, the file empty" "$EMPTY_FILE" "$HASHED_DIR"
store_ok "CA only in the hashed directory, the file absent" "$ABSENT_FILE" "$HASHED_DIR"
store_ok "CA only in the hashed directory, another CA in the file" \
	"$OTHER_BUNDLE" "$HASHED_DIR"

# ------------------------------------------------------------ neither

store_refused "CA in neither, the file empty" "$REFUSED" "$EMPTY_FILE" "$EMPTY_DIR"
store_refused "CA in neither, the file absent" "$REFUSED" "$ABSENT_FILE" "$EMPTY_DIR"
store_refused "CA in neither, another CA in the file" "$REFUSED" \
	"$OTHER_BUNDLE" "$EMPTY_DIR"
store_refused "CA in neither, STLS" "$REFUSED" "$EMPTY_FILE" "$EMPTY_DIR" \
	tls=starttls "port=$POP3_PORT"
# ca_file and ca_path are still added to the system store
store_ok "CA in neither, ca_file" "$EMPTY_FILE" "$EMPTY_DIR" "ca_file=$CA_FILE"
store_ok "CA in neither, ca_path" "$EMPTY_FILE" "$EMPTY_DIR" "ca_path=$HASHED_DIR"

# --------------------------------------------------------- not opened

FIFO=$T/store/bundle.fifo
OPENED=$T/store/fifo-opened
WRITER=
mkfifo "$FIFO" || bail_out "mkfifo failed"

# writer_start: a writer that waits for a reader of the FIFO; once one
# opens it, it touches $OPENED and only then closes it: a reader sees an
# empty file, and cannot have finished reading before $OPENED exists
writer_start() {
	rm -f "$OPENED"
	(exec 3>"$FIFO" && : >"$OPENED") &
	WRITER=$!
	track_pid "$WRITER"
}

# fifo_opened: (after pullmail ended) succeed if it opened the FIFO; stop
# the writer
fifo_opened() {
	local r=1
	[ ! -e "$OPENED" ] || r=0
	kill -TERM "$WRITER" 2>/dev/null
	wait "$WRITER" 2>/dev/null
	return $r
}

# fifo_unopened: the opposite
fifo_unopened() {
	! fifo_opened
}

writer_start
store_ok "CA in the directory, the file a FIFO" "$FIFO" "$HASHED_DIR"
ok "CA in the directory: the file is not opened" fifo_unopened

writer_start
store_ok "ca_file, the file a FIFO" "$FIFO" "$EMPTY_DIR" "ca_file=$CA_FILE"
ok "ca_file: the file is not opened" fifo_unopened

SERVER_FPR=$(openssl x509 -noout -fingerprint -sha256 \
	-in "$DOVECOT_DIR/tls/server.pem" | sed 's/^.*=/sha256:/')
writer_start
store_ok "pinned, host 127.0.0.1, the file a FIFO" "$FIFO" "$EMPTY_DIR" \
	"host=$POP3_HOST" "fingerprint=$SERVER_FPR"
ok "pinned: the file is not opened" fifo_unopened

# and the check works: with the CA nowhere, the file is read
writer_start
store_refused "CA in neither, the file a FIFO" "$REFUSED" "$FIFO" "$EMPTY_DIR"
ok "CA in neither: the file is opened" fifo_opened

# ---------------------------------------------- with an intermediate CA

# As real servers do: fakepop (STLS) sends its certificate and the
# intermediate CA that signed it; the root is in the store. OpenSSL first
# looks for the intermediate in the store (trusted first), which fails in
# the directory: that must not read the file.
CH=$T/chain
mkdir -p "$CH" || bail_out "mkdir failed"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' \
	>"$CH/ca.ext"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$CH/leaf.ext"
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$CH/root.key" -out "$CH/root.pem" -days 2 \
		-subj "/CN=pullmail test root" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$CH/int.key" -out "$CH/int.csr" -subj "/CN=pullmail test intermediate" &&
	openssl x509 -req -in "$CH/int.csr" -CA "$CH/root.pem" -CAkey "$CH/root.key" \
		-CAcreateserial -days 2 -extfile "$CH/ca.ext" -out "$CH/int.pem" &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$CH/leaf.key" -out "$CH/leaf.csr" -subj "/CN=127.0.0.1" &&
	openssl x509 -req -in "$CH/leaf.csr" -CA "$CH/int.pem" -CAkey "$CH/int.key" \
		-CAcreateserial -days 2 -extfile "$CH/leaf.ext" -out "$CH/leaf.pem"
} >/dev/null 2>&1 || bail_out "openssl could not make the certificate chain"
cat "$CH/leaf.pem" "$CH/int.pem" >"$CH/chain.pem" || bail_out "cat failed"
{ mkdir -p "$CH/hashed" && cp "$CH/root.pem" "$CH/hashed/" &&
	openssl rehash "$CH/hashed" >/dev/null 2>&1; } || bail_out "openssl rehash failed"
cat "$OTHER_CA_FILE" "$CH/root.pem" >"$CH/bundle.pem" || bail_out "cat failed"

FAKE_MAIL=$CH/mail
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 5 --seed 4242 >/dev/null ||
	bail_out "genmail.py failed"
{ mkdir -p "$CH/srv" && cp "$FAKE_MAIL"/* "$CH/srv"/; } || bail_out "cannot set up $CH/srv"
"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$CH/srv" --port-file "$CH/port" \
	--tls-cert "$CH/chain.pem" --tls-key "$CH/leaf.key" 2>"$CH/fakepop.err" &
FAKE_PID=$!
track_pid "$FAKE_PID"
wait_fakepop "$FAKE_PID" "$CH/port" "$CH/fakepop.err"

# chain_run LABEL FILE DIR: a run against fakepop with that store; sets
# md0 (the Maildir's count before)
chain_run() {
	write_config starttls "$(cat "$CH/port")" 127.0.0.1 user=u password=p \
		-ca_file timeout=10 "maildir=$CH/Maildir" max_messages=1
	md0=$(maildir_count "$CH/Maildir")
	run_store "$2" "$3"
}

writer_start
chain_run "intermediate, root in the directory" "$FIFO" "$CH/hashed"
is "$PM_RC" 0 "intermediate, root in the directory: exit status 0" || show_pm
is "$(maildir_count "$CH/Maildir")" $((md0 + 1)) \
	"intermediate, root in the directory: one message delivered"
ok "intermediate, root in the directory: the file is not opened" fifo_unopened
chain_run "intermediate, root in the file" "$CH/bundle.pem" "$EMPTY_DIR"
is "$PM_RC" 0 "intermediate, root in the file: exit status 0" || show_pm
is "$(maildir_count "$CH/Maildir")" $((md0 + 1)) \
	"intermediate, root in the file: one message delivered"
chain_run "intermediate, root in neither" "$OTHER_BUNDLE" "$EMPTY_DIR"
is "$PM_RC" 77 "intermediate, root in neither: exit status 77" || show_pm
is "$PM_ERR" "pullmail: $ACCOUNT: 127.0.0.1: server certificate not accepted: unable to get local issuer certificate" \
	"intermediate, root in neither: the error"
is "$(maildir_count "$CH/Maildir")" "$md0" "intermediate, root in neither: nothing delivered"

# ------------------------------------------- a weak certificate

# A leaf signed with SHA-1 by the root: refused by the security level
# whether the root is found in the directory or only in the file (the
# second verification, after the file is read, keeps the level's checks)
W=$T/weak
mkdir -p "$W/srv" || bail_out "mkdir failed"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$W/leaf.key" -out "$W/leaf.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1 &&
	openssl x509 -req -sha1 -in "$W/leaf.csr" -CA "$CH/root.pem" -CAkey "$CH/root.key" \
		-CAcreateserial -days 2 -extfile "$CH/leaf.ext" -out "$W/leaf.pem" >/dev/null 2>&1 ||
	bail_out "openssl could not make the SHA-1 certificate"
cp "$FAKE_MAIL"/* "$W/srv"/ || bail_out "cannot set up $W/srv"
"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$W/srv" --port-file "$W/port" \
	--tls-cert "$W/leaf.pem" --tls-key "$W/leaf.key" --tls-weak 2>"$W/fakepop.err" &
WEAK_PID=$!
track_pid "$WEAK_PID"
wait_fakepop "$WEAK_PID" "$W/port" "$W/fakepop.err" "fakepop (weak)"
for where in directory file; do
	label="SHA-1 signed certificate, root in the $where"
	write_config starttls "$(cat "$W/port")" 127.0.0.1 user=u password=p \
		-ca_file timeout=10 "maildir=$W/Maildir" max_messages=1
	if [ "$where" = directory ]; then
		run_store "$OTHER_BUNDLE" "$CH/hashed"
	else
		run_store "$CH/bundle.pem" "$EMPTY_DIR"
	fi
	is "$PM_RC" 77 "$label: exit status 77" || show_pm
	contains "$PM_ERR" "server certificate not accepted: CA signature digest algorithm too weak" \
		"$label: the error says why"
	is "$(maildir_count "$W/Maildir")" 0 "$label: nothing delivered"
done

# the default store, as a distribution sets it up (strace if it works)
DEFAULT_FILE=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')/cert.pem
if command -v strace >/dev/null 2>&1 &&
	strace -f -e trace=openat -o /dev/null true >/dev/null 2>&1; then
	write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" max_messages=1
	srv0=$(server_count)
	md0=$(maildir_count)
	# LeakSanitizer (in an ASan build) cannot work under ptrace
	(cd "$T" && exec env -u XDG_CONFIG_HOME -u SSL_CERT_FILE -u SSL_CERT_DIR \
		HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 25 strace -f -e trace=open,openat -o "$T/strace.log" "$PULLMAIL" \
		</dev/null >"$T/pm.out" 2>"$T/pm.err")
	PM_RC=$?
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	fetched_one "strace, ca_file, the default store"
	ok "strace: ca_file was read" grep -qF "\"$CA_FILE\"" "$T/strace.log"
	if grep -E "\"($DEFAULT_FILE|[^\"]*/ca-certificates\.crt)\"" "$T/strace.log" \
		>"$T/strace.bundle"; then
		ok "strace: the default bundle file $DEFAULT_FILE is not opened" false
		diag "$(cat "$T/strace.bundle")"
	else
		ok "strace: the default bundle file $DEFAULT_FILE is not opened" true
	fi
else
	skip "strace, ca_file, the default store" "strace is not available or cannot trace here"
fi

done_testing
