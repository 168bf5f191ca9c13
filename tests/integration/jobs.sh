#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# jobs.sh - -j/--jobs and "jobs" in [defaults]: several accounts fetched at
# once, each against its own tests/lib/fakepop.py; every account's mail
# whole, the exit status as in a sequential run, whole log lines, signals
# passed on to the children (a second SIGTERM leaves none behind), and
# passwords asked on the terminal one account at a time, before the fork.
. "$(dirname "$0")/lib.sh"
need pgrep:procps

NACC=3
NMSG=12
ACCTS=(a b c)

# start_fakes FAULT_A FAULT_B FAULT_C: fresh mailboxes and servers ("-" for
# no fault), Maildirs emptied, state removed; the config has one account
# per server, with EXTRA_DEFAULTS and EXTRA_KEYS added
EXTRA_DEFAULTS=()
EXTRA_KEYS=()
FAKE_PIDS=()
stop_fakes() {
	local pid
	for pid in "${FAKE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	FAKE_PIDS=()
}
start_fakes() {
	local i acct f pid
	stop_fakes
	rm -rf "$PM_STATE" && mkdir -p "$PM_STATE"
	{
		printf '[defaults]\n'
		printf '%s\n' "${EXTRA_DEFAULTS[@]}"
		printf '\n'
	} >"$CONFIG"
	for i in 0 1 2; do
		acct=${ACCTS[$i]}
		f=${1:--}
		shift
		rm -rf "$T/srv.$acct" "$T/md.$acct" "$T/log.$acct" "$T/port.$acct"
		mkdir -p "$T/srv.$acct"
		cp "$T/orig.$acct"/* "$T/srv.$acct"/
		local -a fa=()
		[ "$f" = - ] || fa=(--fault "$f")
		"$PYTHON3" -S "$TESTLIB/fakepop.py" --maildir "$T/srv.$acct" \
			--port-file "$T/port.$acct" --log "$T/log.$acct" "${fa[@]}" \
			2>"$T/fakepop.$acct.err" &
		pid=$!
		FAKE_PIDS+=("$pid")
		track_pid "$pid"
		wait_fakepop "$pid" "$T/port.$acct" "$T/fakepop.$acct.err" "fakepop $acct"
		_config_section "$acct" none "$(cat "$T/port.$acct")" 127.0.0.1 \
			user=u password=p allow_plaintext=yes auth=user \
			maildir="$T/md.$acct" timeout=20 "${EXTRA_KEYS[@]}" >>"$CONFIG"
	done
	chmod 0600 "$CONFIG"
}

# every account's Maildir holds its messages exactly once
all_delivered() {
	local acct out rc=0
	for acct in "${ACCTS[@]}"; do
		out=$("$PYTHON3" "$TESTLIB/mailcheck.py" --expected "$T/orig.$acct" \
			--maildir "$T/md.$acct" --strip-received 2>&1) || {
			diag "$acct: $out"
			rc=1
		}
	done
	return $rc
}

for acct in "${ACCTS[@]}"; do
	"$PYTHON3" "$TESTLIB/genmail.py" --out "$T/orig.$acct" --count "$NMSG" \
		--seed "$((777 + ${#acct} + $(printf '%d' "'$acct")))" >/dev/null ||
		bail_out "genmail.py failed"
done

# ------------------------------------------------------------ fetch

EXTRA_DEFAULTS=("jobs = $NACC")
start_fakes - - -
run_pm -v
is "$PM_RC" 0 "jobs = 3: exit status 0" || show_pm
ok "jobs = 3: every account's mail delivered, exactly once" all_delivered
for acct in "${ACCTS[@]}"; do
	is "$(count_files "$T/srv.$acct")" 0 "jobs = 3: server $acct emptied"
	ok "jobs = 3: $acct's session ends with QUIT" grep -qx "C: QUIT" "$T/log.$acct"
done
# -v: one line per message fetched, whole, each naming its account
bad=$(printf '%s\n' "$PM_ERR" | grep -cvE '^pullmail: (a|b|c): ' || true)
is "$bad" 0 "jobs = 3: every line of -v output whole and naming its account" ||
	diag "$PM_ERR"
for acct in "${ACCTS[@]}"; do
	is "$(printf '%s\n' "$PM_ERR" | grep -c "^pullmail: $acct: message ")" "$NMSG" \
		"jobs = 3: -v names each of $acct's $NMSG messages" || diag "$PM_ERR"
done

EXTRA_DEFAULTS=()
start_fakes - - -
run_pm -j 2
is "$PM_RC" 0 "-j 2: exit status 0" || show_pm
is "$PM_OUT$PM_ERR" "" "-j 2: silent when not on a terminal"
ok "-j 2: every account's mail delivered, exactly once" all_delivered

# ------------------------------------------------------- exit status

# as in a sequential run: that of the first account, in file order, that
# failed; the others are fetched all the same
start_fakes - auth-err -
run_pm -j 3
is "$PM_RC" 77 "b refused: exit status 77" || show_pm
contains "$PM_ERR" "pullmail: b: 127.0.0.1: login refused (USER): [AUTH]" \
	"b refused: the error names the account and the cause"
is "$(line_count "$PM_ERR")" 1 "b refused: one error line" || show_pm
is "$(maildir_count "$T/md.a")$(maildir_count "$T/md.c")" "$NMSG$NMSG" \
	"b refused: a and c fetched all the same"

start_fakes - login-delay auth-err
run_pm -j 3
is "$PM_RC" 75 "b delayed, c refused: the status of b, the first to fail (75)" ||
	show_pm
run_pm
is "$PM_RC" 0 "then a sequential run: exit status 0" || show_pm
ok "then a sequential run: every account's mail delivered, exactly once" all_delivered

# ------------------------------------------------------------- config

start_fakes - - -
EXTRA_DEFAULTS=("jobs = 0")
start_fakes - - -
run_pm
is "$PM_RC" 78 "jobs = 0: configuration error" || show_pm
contains "$PM_ERR" "[defaults] jobs" "jobs = 0: the error names [defaults] jobs"
EXTRA_DEFAULTS=()
EXTRA_KEYS=("jobs=2")
start_fakes - - -
run_pm
is "$PM_RC" 78 "jobs in an account section: configuration error" || show_pm
contains "$PM_ERR" "jobs" "jobs in an account section: the error names the key"
EXTRA_KEYS=()
EXTRA_DEFAULTS=("jobs = 5")
start_fakes - - -
run_pm --dump-config
is "$PM_RC" 0 "--dump-config: exit status 0" || show_pm
contains "$PM_OUT" "jobs = 5" "--dump-config shows jobs"
run_pm -j 65
is "$PM_RC" 64 "-j 65: usage error" || show_pm

# ------------------------------------------------------------ signals

# An MDA that holds each account's second message at a gate: it says so
# ($T/mda/held.ACCOUNT) and waits (at most 1200 x 50 ms) until $T/gate
# exists.  With all three held, three children are busy on cue; the gate
# opens once the signal has been taken, and from then on each message
# takes 0.3 s (a child that went on would not get far).
mkdir -p "$T/mda"
cat >"$T/gate-mda" <<MDA
#!/bin/sh
if [ -n "\$(find "$T/mda" -name "\$1.*" -type f)" ] && [ ! -e "$T/gate" ]; then
	: >"$T/mda/held.\$1"
	i=0
	while [ ! -e "$T/gate" ] && [ \$i -lt 1200 ]; do
		sleep 0.05
		i=\$((i + 1))
	done
fi
[ -e "$T/gate" ] && sleep 0.3
f=\$(mktemp "$T/mda/\$1.XXXXXX") && cat >"\$f"
MDA
chmod +x "$T/gate-mda"
EXTRA_DEFAULTS=()
# mda replaces maildir: a config section has only one delivery key
sed_mda() {
	sed -i "s|^maildir = $T/md\.\(.\)\$|mda = $T/gate-mda \1|" "$CONFIG"
}
mda_count() {
	find "$T/mda" -type f -name "$1.*" | wc -l | tr -d ' '
}
# gate_reset: the gate closed, no message delivered
gate_reset() {
	rm -rf "$T/mda" "$T/gate" && mkdir -p "$T/mda"
}
all_held() {
	[ -e "$T/mda/held.a" ] && [ -e "$T/mda/held.b" ] && [ -e "$T/mda/held.c" ]
}
# no_mda_left: no gate-mda running any more
no_mda_left() {
	! pgrep -f "$T/gate-mda" >/dev/null
}

# pm_bg ARGS...: pullmail in the background; PM_PID
pm_bg() {
	(cd "$T" && exec env -u XDG_CONFIG_HOME HOME="$PM_HOME" \
		XDG_STATE_HOME="$PM_STATE" "$PULLMAIL" "$@" \
		</dev/null >"$T/pm.out" 2>"$T/pm.err") &
	PM_PID=$!
	track_pid "$PM_PID"
}
kids_of() {
	pgrep -P "$1" -x pullmail | wc -l | tr -d ' '
}
# sigterm_taken PID...: each PID in turn has taken its SIGTERM (or is gone)
sigterm_taken() {
	local p
	for p; do
		wait_signal_taken "$p" || return 1
	done
}
# held_start FAULT_A FAULT_B FAULT_C: pullmail -j 3 with the gate closed,
# back once every account's second message is held; KIDS: the children
held_start() {
	start_fakes "$@"
	sed_mda
	gate_reset
	pm_bg -j 3
	wait_for 30 all_held || diag "the MDAs were not all held: $(ls "$T/mda")"
	KIDS=$(pgrep -P "$PM_PID" -x pullmail | tr '\n' ' ')
}

# one SIGTERM to the parent: each child finishes the message in hand and
# ends its session cleanly; the rest stays on the server
held_start - - -
is "$(kids_of "$PM_PID")" 3 "SIGTERM: three accounts being fetched at once"
kill -TERM "$PM_PID"
# shellcheck disable=SC2086 # one pid per word
ok "SIGTERM: the parent, then each child took it" sigterm_taken "$PM_PID" $KIDS
: >"$T/gate"
wait "$PM_PID"
rc=$?
is "$rc" 0 "SIGTERM: exit status 0" || diag "$(cat "$T/pm.err")"
for acct in "${ACCTS[@]}"; do
	d=$(mda_count "$acct")
	s=$(count_files "$T/srv.$acct")
	ok "SIGTERM: $acct finished the message in hand, then stopped ($d delivered, $s left on the server)" \
		test "$d" -ge 2 -a "$d" -lt "$NMSG"
	is "$((d + s))" "$NMSG" "SIGTERM: nothing of $acct lost"
	ok "SIGTERM: $acct's session ends with QUIT" grep -qx "C: QUIT" "$T/log.$acct"
done

# the same without PIPELINING (one command at a time): the messages
# delivered before the SIGTERM are recorded and deleted before QUIT, not
# left on the server to be fetched twice
held_start no-pipelining no-pipelining no-pipelining
kill -TERM "$PM_PID"
# shellcheck disable=SC2086
sigterm_taken "$PM_PID" $KIDS || diag "the SIGTERM was not taken"
: >"$T/gate"
wait "$PM_PID"
rc=$?
is "$rc" 0 "SIGTERM, no pipelining: exit status 0" || diag "$(cat "$T/pm.err")"
for acct in "${ACCTS[@]}"; do
	d=$(mda_count "$acct")
	s=$(count_files "$T/srv.$acct")
	ok "SIGTERM, no pipelining: $acct stopped early ($d delivered)" [ "$d" -lt "$NMSG" ]
	is "$((d + s))" "$NMSG" \
		"SIGTERM, no pipelining: every message of $acct delivered was deleted (none left to fetch twice)"
	ok "SIGTERM, no pipelining: $acct's DELEs come before QUIT" \
		awk '/^C: DELE /{d=NR} /^C: QUIT$/{q=NR} END{exit !(d && q && d < q)}' "$T/log.$acct"
done

# a second SIGTERM, sent once the first is taken (two at once would be
# one): the parent and every child stop at once, without waiting for the
# message in hand, whose MDA is still held at the gate
held_start - - -
kill -TERM "$PM_PID"
# shellcheck disable=SC2086
sigterm_taken "$PM_PID" $KIDS || diag "the first SIGTERM was not taken"
kill -TERM "$PM_PID"
wait "$PM_PID"
rc=$?
is "$rc" 75 "second SIGTERM: exit status 75"
gone() {
	local k
	for k in $KIDS; do
		kill -0 "$k" 2>/dev/null && return 1
	done
	return 0
}
ok "second SIGTERM: no child left behind, none waiting for its MDA" wait_for 30 gone
: >"$T/gate"
wait_for 30 no_mda_left || diag "a gate-mda is still running"
for acct in "${ACCTS[@]}"; do
	d=$(mda_count "$acct")
	s=$(count_files "$T/srv.$acct")
	ok "second SIGTERM: nothing of $acct lost ($d delivered, $s on the server)" \
		[ $((d + s)) -ge "$NMSG" ]
done

# ------------------------------------------------------------- prompts

# No password in the config and a terminal: each password is asked in turn,
# before that account's fetch starts, never two prompts at once.
start_fakes - - -
sed -i '/^password = /d' "$CONFIG"
"$PYTHON3" - "$PULLMAIL" "$PM_HOME" "$PM_STATE" >"$T/pty.out" 2>&1 <<'EOF'
import os, pty, select, sys, time
pm, home, state = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    env = dict(os.environ, HOME=home, XDG_STATE_HOME=state)
    env.pop("XDG_CONFIG_HOME", None)
    os.execve(pm, [pm, "-j", "3"], env)
buf = b""
prompts = 0
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if not r:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
    while b"Password for " in buf:
        head, _, buf = buf.partition(b"Password for ")
        prompts += 1
        # the prompt must be the only thing waiting: answer after a pause
        time.sleep(0.2)
        r, _, _ = select.select([fd], [], [], 0)
        if r:
            more = os.read(fd, 4096)
            if b"Password for " in more:
                print("two prompts at once")
            buf += more
        os.write(fd, b"p\n")
_, st = os.waitpid(pid, 0)
print("prompts", prompts)
print("status", os.waitstatus_to_exitcode(st))
EOF
is "$(grep -c '^prompts 3$' "$T/pty.out")" 1 "prompts: one per account" ||
	diag "$(cat "$T/pty.out")"
lacks "$(cat "$T/pty.out")" "two prompts at once" "prompts: never two at once"
contains "$(cat "$T/pty.out")" "status 0" "prompts: exit status 0"
ok "prompts: every account's mail delivered, exactly once" all_delivered

stop_fakes
done_testing
