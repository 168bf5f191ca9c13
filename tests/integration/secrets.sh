#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# secrets.sh - the password and the OAuth token never show: for a
# distinctive password (the private Dovecot's, changed for this test) and a
# distinctive token (fakepop), run pullmail at every verbosity (-q, default,
# -v, -vv) in every mode that prints (a fetch with each mechanism, -c, -l,
# --dump-config, a refused login, a failed certificate verification, a
# protocol error, daemon mode, a password typed at a terminal, a server that
# quotes the password or token in its refusal) and look for
# the secrets - as they are, and in base64 as SASL carries them - in stdout,
# stderr and every file pullmail wrote (state directory, Maildirs, HOME).
# Also: the command lines and environments of a running pullmail, of its
# password_command's parent and of its MDA never contain them.
#
# Environment: see lib.sh (PULLMAIL, TESTLIB, PYTHON3, KEEP_TMP=1).

. "$(dirname "$0")/lib.sh"
need pgrep:procps

py() {
	"$PYTHON3" -S "$@"
}


IN=$T/in        # what holds the secrets on purpose (never scanned)
MD=$T/md        # every Maildir pullmail delivers to (scanned)
mkdir -p "$IN" "$MD" "$T/proc" || bail_out "mkdir failed"

start_server
seed 100

# ------------------------------------------------------------ secrets

PASS=Quokka-Pw-7f3e91Zx
TOKEN=ya29.a0Wombat-$(head -c 300 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' | cut -c1-180)

# Dovecot's password becomes $PASS (passwd-file is re-read when it changes;
# write through the symlink it may be)
pwfile=$(readlink -f "$SERVER/passwd")
{ sed "s/{PLAIN}[^:]*:/{PLAIN}$PASS:/" "$pwfile" >"$IN/passwd" &&
	cat "$IN/passwd" >"$pwfile"; } || bail_out "cannot change Dovecot's password"
POP3_PASS=$PASS
# Dovecot's env exports POP3_PASS: pullmail must not inherit it from us
export -n POP3_PASS

printf '%s\n' "$PASS" >"$IN/pass.txt"
printf '%s\n' "$TOKEN" >"$IN/token.txt"
# password_command scripts: record their parent's (pullmail's) command line
# and environment, then print the secret
for s in pass token; do
	cat >"$IN/$s.sh" <<EOF
#!/bin/sh
n=\$(date +%s%N)
tr '\\0' '\\n' </proc/\$PPID/cmdline >"$T/proc/pwcmd-parent-cmdline.$s.\$n" 2>/dev/null
tr '\\0' '\\n' </proc/\$PPID/environ >"$T/proc/pwcmd-parent-environ.$s.\$n" 2>/dev/null
exec cat "$IN/$s.txt"
EOF
	chmod 0700 "$IN/$s.sh"
done

# The needles: each secret, a prefix and a suffix of it (a truncated leak),
# the SASL messages in base64 (PLAIN \0user\0pass, XOAUTH2), and the secret
# base64-encoded at each of the 3 alignments it can have inside a longer
# base64 text (LOGIN's base64 of the password, OAUTHBEARER, anything else).
py - "$PASS" "$POP3_USER" "$TOKEN" >"$IN/needles" <<'EOF' || bail_out "needles"
import base64, sys
pw, user, tok = (a.encode() for a in sys.argv[1:4])
b64 = lambda b: base64.b64encode(b).decode()
out = []
for s in (pw, tok):
    out += [s.decode(), s[:10].decode(), s[-10:].decode()]
    for a in range(3):
        enc = b64(b"\0" * a + s)
        out.append(enc[4 if a else 0:len(enc) - 4])
out.append(b64(b"\0" + user + b"\0" + pw))
out.append(b64(b"\0u\0" + pw))
out.append(b64(b"user=u\x01auth=Bearer " + tok + b"\x01\x01"))
print("\n".join(sorted(set(out), key=len)))
EOF

# leaks FILE-OR-DIR...: print "where: what" for each needle found (at most 8)
leaks() {
	LC_ALL=C grep -rFaoH -f "$IN/needles" -- "$@" 2>/dev/null | cut -c1-160 | head -8
}

# scan_set: what pullmail may have written: its stdout and stderr, the state
# directory, the Maildirs, HOME (but the config file we wrote), and any
# other file in $T itself (pullmail runs there)
scan_set() {
	local f
	printf '%s\n' "$PM_STATE" "$MD"
	find "$PM_HOME" -type f ! -path "$CONFIG"
	for f in "$T"/*; do
		[ -f "$f" ] && printf '%s\n' "$f"
	done
}

# no_leak LABEL [FILE...]: no needle in the scan set (and FILEs)
no_leak() {
	local label=$1 hits
	shift
	local -a files
	mapfile -t files < <(scan_set)
	hits=$(leaks "${files[@]}" "$@")
	if [ -z "$hits" ]; then
		_tap_result 1 "$label: no secret in stdout, stderr or files written"
	else
		_tap_result 0 "$label: no secret in stdout, stderr or files written"
		diag "found:" "$hits"
		return 1
	fi
}

# the detector itself finds what it looks for
printf 'password = "%s"\n' "$PASS" >"$IN/probe1"
printf 'AUTH PLAIN %s\n' "$(printf '\0%s\0%s' "$POP3_USER" "$PASS" | base64 -w0)" >"$IN/probe2"
printf '+ %s\n' "$(printf '%s' "$PASS" | base64 -w0)" >"$IN/probe3"
printf 'AUTH XOAUTH2 %s\n' "$(printf 'user=u\001auth=Bearer %s\001\001' "$TOKEN" | base64 -w0)" >"$IN/probe4"
printf 'AUTH OAUTHBEARER %s\n' "$(printf 'n,a=u,\001host=127.0.0.1\001port=4711\001auth=Bearer %s\001\001' "$TOKEN" | base64 -w0)" >"$IN/probe5"
printf 'Bearer %s...\n' "${TOKEN:0:30}" >"$IN/probe6"
for p in 1 2 3 4 5 6; do
	ok "detector finds the secret in probe $p" test -n "$(leaks "$IN/probe$p")"
done
mapfile -t initial < <(scan_set)
ok "detector finds nothing in the initial scan set" test -z "$(leaks "${initial[@]}")"
# pullmail inherits this script's environment: it must not carry a secret
ok "the environment pullmail inherits holds no secret" \
	test -z "$(env | grep -F -f "$IN/needles")"

# ------------------------------------------------------------ running

VERBS=(-q default -v -vv)

# vargs V: the arguments for verbosity V
vargs() {
	[ "$1" = default ] || printf '%s\n' "$1"
}

# case_run LABEL RC V [PULLMAIL-ARG...]: run at verbosity V, expect RC, scan
case_run() {
	local label=$1 rc=$2 v=$3
	shift 3
	local -a va
	mapfile -t va < <(vargs "$v")
	run_pm "${va[@]}" "$@"
	is "$PM_RC" "$rc" "$label [$v]: exit status $rc" || show_pm
	no_leak "$label [$v]"
}

# the Dovecot account with the password: write_config with defaults
dconf() {
	write_config implicit "$POP3S_PORT" "$POP3_TLS_HOST" max_messages=1 \
		"maildir=$MD/dovecot" "$@"
}

# ------------------------------------------------------ fakepop helpers

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$IN/fake-key.pem" -out "$IN/fake-cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	bail_out "openssl could not make a certificate"
# fakepop (lib.sh's fake_start) under $IN, its mailbox empty until refill
FAKE_DIR=$IN
REFILL_MAIL=$T/fakemail
REFILL=0
py "$TESTLIB/genmail.py" --out "$REFILL_MAIL" --count 2 --seed 777 >/dev/null ||
	bail_out "genmail.py failed"

# refill: new messages (new UIDs) on fakepop, so that each run fetches
refill() {
	local f
	REFILL=$((REFILL + 1))
	for f in "$REFILL_MAIL"/*; do
		cp "$f" "$FAKE_SRV/r$REFILL-${f##*/}" || bail_out "refill"
	done
}

# tconf MECH [KEY=VALUE...]: the fakepop account with the token
tconf() {
	local mech=$1
	shift
	write_config none "$FAKE_PORT" 127.0.0.1 user=u -password \
		"password_command=$IN/token.sh" "auth=$mech" allow_plaintext=yes \
		timeout=5 "maildir=$MD/fake" "$@"
}

# mail_beyond N: more than N files under $MD (mail was delivered)
mail_beyond() {
	[ "$(find "$MD" -type f | wc -l)" -gt "$1" ]
}

# daemon_run LABEL V: pullmail -d 1 at verbosity V until it has delivered
# mail (wait_for 30), then SIGTERM; expect exit 0, mail delivered, and scan
daemon_run() {
	local label=$1 v=$2 pid n0
	local -a va
	mapfile -t va < <(vargs "$v")
	n0=$(find "$MD" -type f | wc -l)
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$PULLMAIL" "${va[@]}" -d 1 </dev/null >"$T/pm.out" 2>"$T/pm.err") &
	pid=$!
	track_pid "$pid"
	wait_for 30 mail_beyond "$n0"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	PM_RC=$?
	untrack_pid "$pid"
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	is "$PM_RC" 0 "$label [$v]: exit status 0 after SIGTERM" || show_pm
	ok "$label [$v]: it logged in and delivered mail" mail_beyond "$n0"
	no_leak "$label [$v]"
}

# ============================================== the password (Dovecot)

for v in "${VERBS[@]}"; do
	for m in user plain login cram-md5 scram-sha-1 scram-sha-256 auto; do
		dconf "auth=$m"
		case_run "password, fetch, auth = $m" 0 "$v"
	done
	dconf auth=plain "password_command=$IN/pass.sh" -password
	case_run "password from password_command, fetch, auth = plain" 0 "$v"

	dconf auth=plain
	case_run "password, -c" 0 "$v" -c
	case_run "password, -l" 0 "$v" -l
	case_run "password, --dump-config" 0 "$v" --dump-config
	if [ "$v" = default ]; then
		lacks "$PM_OUT" "$PASS" "password, --dump-config: the password is not shown"
		contains "$PM_OUT" "password = ***" "password, --dump-config: password = ***"
	fi

	# refused logins: the password sent, the user unknown
	for m in user plain login; do
		dconf "auth=$m" user=nosuchuser
		case_run "password, refused login, auth = $m" 77 "$v"
	done

	# the certificate does not verify: nothing sent, but an error printed
	dconf auth=plain "ca_file=$OTHER_CA_FILE"
	case_run "password, certificate verification fails" 77 "$v"

	# a protocol error after the login (fakepop answers LIST with HELLO)
	fake_start --password "$PASS" --fault garbage-reply@all
	refill
	write_config none "$FAKE_PORT" 127.0.0.1 user=u auth=user allow_plaintext=yes \
		timeout=5 "maildir=$MD/fake"
	case_run "password, protocol error from fakepop" 76 "$v"

	# daemon mode, a few polls
	dconf auth=plain
	daemon_run "password, daemon mode" "$v"
done
fake_stop

# The -vv trace did show the exchanges it hides (the test saw the real thing)
dconf auth=plain
run_pm -vv
contains "$PM_ERR" "> AUTH PLAIN ***" "password, -vv: the trace shows AUTH PLAIN *** (hidden)"
dconf auth=user
run_pm -vv
contains "$PM_ERR" "> PASS ***" "password, -vv: the trace shows PASS *** (hidden)"

# A syntax error on the password line of the config: the error must not quote
# the line (iniparser's message does)
dconf auth=plain
sed -i "s/^password = .*/password \"$PASS\"/" "$CONFIG"
case_run "password, config syntax error on the password line" 78 default
dconf auth=plain
sed -i "s/^password = .*/password: $PASS/" "$CONFIG"
case_run "password, config syntax error (password: ...)" 78 default

# ... nor when the daemon re-reads the config on SIGHUP (sent once its first
# round is over, Dovecot's log says; then SIGTERM once it has reported)
dconf auth=plain
rounds=$(dlog_count "Disconnected: Logged out")
(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
	"$PULLMAIL" -d 60 </dev/null >"$T/pm.out" 2>"$T/pm.err") &
pid=$!
track_pid "$pid"
dlog_grew "Disconnected: Logged out" "$rounds"
sed -i "s/^password = .*/password \"$PASS\"/" "$CONFIG"
kill -HUP "$pid"
wait_for 30 grep -q "keeping the previous configuration" "$T/pm.err"
kill -TERM "$pid"
wait "$pid"
PM_RC=$?
untrack_pid "$pid"
PM_ERR=$(cat "$T/pm.err")
is "$PM_RC" 0 "password, daemon, SIGHUP with a broken config: exit status 0" || show_pm
contains "$PM_ERR" "keeping the previous configuration" \
	"password, daemon, SIGHUP with a broken config: the error was reported"
no_leak "password, daemon, SIGHUP with a broken config"

# A password typed at a terminal: not echoed, not repeated
for v in default -vv; do
	dconf auth=plain -password
	mapfile -t va < <(vargs "$v")
	(cd "$T" && env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		timeout -k 2 25 "$PYTHON3" -S - "$PASS" "$PULLMAIL" "${va[@]}" \
		>"$T/pm.out" 2>"$T/pm.err" <<'EOF'
import os, pty, select, sys, time
secret, argv = sys.argv[1].encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
buf, sent, end = b"", False, time.monotonic() + 20
while time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if not r:
        continue
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    buf += data
    if not sent and b"Password for " in buf:
        time.sleep(0.1)
        os.write(fd, secret + b"\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(buf)
sys.stderr.write("prompted\n" if sent else "no prompt\n")
sys.exit(os.waitstatus_to_exitcode(status))
EOF
	)
	PM_RC=$?
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	is "$PM_RC" 0 "password typed at a terminal [$v]: exit status 0" || show_pm
	contains "$PM_ERR" "prompted" "password typed at a terminal [$v]: pullmail asked for it"
	contains "$PM_OUT" "Password for $POP3_USER@$POP3_TLS_HOST: " \
		"password typed at a terminal [$v]: the prompt"
	no_leak "password typed at a terminal [$v] (the terminal's output)"
done

# ================================================= the token (fakepop)

SASL=(--sasl "XOAUTH2 OAUTHBEARER" --token "$TOKEN")
for v in "${VERBS[@]}"; do
	# both forms, both mechanisms
	fake_start "${SASL[@]}"
	for m in xoauth2 oauthbearer; do
		refill
		tconf "$m"
		case_run "token, fetch, $m (initial response)" 0 "$v"
	done
	refill
	tconf xoauth2
	case_run "token, -c" 0 "$v" -c
	case_run "token, -l" 0 "$v" -l
	case_run "token, --dump-config" 0 "$v" --dump-config
	fake_start "${SASL[@]}" --fault oauth-no-ir@all
	for m in xoauth2 oauthbearer; do
		refill
		tconf "$m"
		case_run "token, fetch, $m (after \"+ \")" 0 "$v"
	done

	# refused: the JSON error challenge, a wrong token
	fake_start "${SASL[@]}" --fault oauth-error@all
	for m in xoauth2 oauthbearer; do
		tconf "$m"
		case_run "token, refused with an error challenge, $m" 77 "$v"
	done
	fake_start --sasl "XOAUTH2 OAUTHBEARER" --token "not-$TOKEN"
	for m in xoauth2 oauthbearer; do
		tconf "$m"
		case_run "token, wrong token, $m" 77 "$v"
	done

	# the certificate does not verify (STLS with a CA that did not sign it)
	fake_start "${SASL[@]}" --tls-cert "$IN/fake-cert.pem" --tls-key "$IN/fake-key.pem"
	tconf xoauth2 tls=starttls "ca_file=$OTHER_CA_FILE" allow_plaintext=no
	case_run "token, certificate verification fails" 77 "$v"

	# a protocol error after the login
	fake_start "${SASL[@]}" --fault garbage-reply@all
	refill
	tconf oauthbearer
	case_run "token, protocol error from fakepop" 76 "$v"

	# daemon mode
	fake_start "${SASL[@]}"
	refill
	tconf xoauth2
	daemon_run "token, daemon mode" "$v"

	# a continuation "+" without the space: pullmail accepts it as one, so
	# the token line after it is as secret as after "+ "
	fake_start "${SASL[@]}" --fault oauth-no-ir@all --fault oauth-bare-plus@all
	for m in xoauth2 oauthbearer; do
		refill
		tconf "$m"
		case_run "token, fetch, $m after a bare \"+\"" 0 "$v"
	done
done
fake_stop

# ====================================== a server that echoes the secret

# fakepop's echo-secret refuses the login quoting what it was given: the
# argument of PASS, the PLAIN credentials (base64 and decoded), the token
# and its base64. The server's text is shown, at every verbosity (-q
# included: it is an error), but with "***" for the secret. ODD, a
# password with a backslash and an 8-bit character, looks different once
# escaped: it must be redacted before, so its escaped form is a needle too.
ODD='Odd\Pw-é-#9x'
printf '%s\n' "$ODD" >"$IN/odd.txt"
printf '#!/bin/sh\nexec cat "%s"\n' "$IN/odd.txt" >"$IN/odd.sh"
chmod 0700 "$IN/odd.sh"
py - "$ODD" >>"$IN/needles" <<'EOF' || bail_out "needles"
import base64, os, sys
s = os.fsencode(sys.argv[1])
b64 = lambda b: base64.b64encode(b)
def vis(b):     # as log_vis (strnvisx VIS_CSTYLE | VIS_OCTAL) shows it
    return "".join("\\\\" if c == 0x5c else chr(c) if 0x20 <= c < 0x7f
                   else "\\%03o" % c for c in b).encode()
out = [s, s[:10], s[-10:], vis(s), b64(b"\0u\0" + s)]
for a in range(3):
    enc = b64(b"\0" * a + s)
    out.append(enc[4 if a else 0:len(enc) - 4])
sys.stdout.buffer.write(b"\n".join(out) + b"\n")
EOF
printf 'refused: %s\n' 'Odd\\Pw-\303\251-#9x' >"$IN/probe7"
ok "detector finds the odd password escaped" test -n "$(leaks "$IN/probe7")"

for v in "${VERBS[@]}"; do
	fake_start --sasl "PLAIN XOAUTH2 OAUTHBEARER" --token "$TOKEN" \
		--fault echo-secret@all
	for m in user plain; do
		for pw in pass odd; do
			write_config none "$FAKE_PORT" 127.0.0.1 user=u -password \
				"password_command=$IN/$pw.sh" "auth=$m" \
				allow_plaintext=yes timeout=5 "maildir=$MD/fake"
			case_run "$pw password echoed by the server, auth = $m" 77 "$v"
			contains "$PM_ERR" "login refused (${m^^}): [AUTH] " \
				"$pw password echoed, auth = $m [$v]: the server's text is shown"
			contains "$PM_ERR" "***" \
				"$pw password echoed, auth = $m [$v]: with *** for the secret"
		done
	done
	for m in xoauth2 oauthbearer; do
		tconf "$m"
		case_run "token echoed by the server, $m" 77 "$v"
		contains "$PM_ERR" "[AUTH] token *** refused (***)" \
			"token echoed, $m [$v]: the server's text with *** for the token"
	done
done
fake_stop

# ============================= command lines, environments, the MDA

# proc_watch PID OUT: sample the command line and environment of PID and
# of its children every 20 ms until PID ends; OUT.n counts the samples
proc_watch() {
	local pid=$1 out=$2 n=0 c
	while kill -0 "$pid" 2>/dev/null; do
		for c in "$pid" $(pgrep -P "$pid"); do
			{ tr '\0' '\n' <"/proc/$c/cmdline" >>"$out.cmdline"; } 2>/dev/null
			{ tr '\0' '\n' <"/proc/$c/environ" >>"$out.environ"; } 2>/dev/null
		done
		n=$((n + 1))
		echo "$n" >"$out.n"
		sleep 0.02
	done
}

# the MDA records its arguments, environment, parent's command line and
# open files, then delivers to $MD/mda/N.eml
cat >"$IN/mda.sh" <<EOF
#!/bin/sh
n=\$(date +%s%N)
printf '%s\\n' "\$@" >"$T/proc/mda-args.\$n"
env >"$T/proc/mda-env.\$n"
tr '\\0' '\\n' </proc/\$PPID/cmdline >"$T/proc/mda-parent-cmdline.\$n"
tr '\\0' '\\n' </proc/\$PPID/environ >"$T/proc/mda-parent-environ.\$n"
ls -l /proc/\$\$/fd/ >"$T/proc/mda-fds.\$n" 2>&1
mkdir -p "$MD/mda"
exec cat >"$MD/mda/\$n.eml"
EOF
chmod 0700 "$IN/mda.sh"

# have_file GLOB: a file matches GLOB
have_file() {
	compgen -G "$1" >/dev/null
}

# proc_seen SECRET-NAME: password_command and the MDA have run, and the
# watcher has sampled at least 3 times
proc_seen() {
	have_file "$T/proc/pwcmd-parent-cmdline.$1.*" && have_file "$T/proc/mda-args.*" &&
		[ "$(cat "$T/proc/watch.n" 2>/dev/null || echo 0)" -ge 3 ]
}

# proc_case LABEL SECRET-NAME: pullmail -vv -d 1, watched until it has run
# password_command and the MDA (wait_for 30), then SIGTERM
proc_case() {
	local label=$1 s=$2 pid
	rm -f "$T/proc/"*
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" XDG_STATE_HOME="$PM_STATE" \
		"$PULLMAIL" -vv -d 1 </dev/null >"$T/pm.out" 2>"$T/pm.err") &
	pid=$!
	track_pid "$pid"
	proc_watch "$pid" "$T/proc/watch" &
	local wpid=$!
	wait_for 30 proc_seen "$s"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	PM_RC=$?
	untrack_pid "$pid"
	wait "$wpid"
	PM_OUT=$(cat "$T/pm.out")
	PM_ERR=$(cat "$T/pm.err")
	is "$PM_RC" 0 "$label: exit status 0 after SIGTERM" || show_pm
	ok "$label: the command lines were sampled ($(cat "$T/proc/watch.n") times)" \
		test "$(cat "$T/proc/watch.n")" -ge 3
	ok "$label: pullmail's command line was read" grep -qx -- -d "$T/proc/watch.cmdline"
	is "$(leaks "$T/proc/watch.cmdline")" "" "$label: no secret in the command lines of pullmail and its children"
	is "$(leaks "$T/proc/watch.environ")" "" "$label: no secret in the environments of pullmail and its children"
	ok "$label: password_command ran" have_file "$T/proc/pwcmd-parent-cmdline.$s.*"
	is "$(leaks "$T"/proc/pwcmd-parent-*)" "" "$label: no secret in the command line or environment of password_command's parent"
	ok "$label: the MDA ran" have_file "$T/proc/mda-args.*"
	is "$(leaks "$T"/proc/mda-*)" "" "$label: no secret in the MDA's arguments, environment or its parent's"
	is "$(cat "$T"/proc/mda-fds.* | grep -cF -- "$CONFIG")" 0 "$label: the MDA has no descriptor of the config file"
	no_leak "$label"
}

dconf auth=plain "password_command=$IN/pass.sh" -password -maildir \
	"mda=$IN/mda.sh %u %a %F"
proc_case "password_command, running pullmail (Dovecot, PLAIN)" pass

fake_start "${SASL[@]}" --fault oauth-no-ir@all
refill
refill
refill
tconf xoauth2 -maildir "mda=$IN/mda.sh %u %a %F"
proc_case "token password_command, running pullmail (fakepop, XOAUTH2)" token
fake_stop

done_testing
