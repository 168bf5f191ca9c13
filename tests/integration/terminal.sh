#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# terminal.sh - the progress line on a real terminal (tmux): cut to the
# terminal's width, so that it never wraps and leaves no trail, in a 40- and
# an 80-column terminal, and wiped when the run ends (the summary a
# terminal gets then is a line of its own).
#
# The moment is made to happen: fakepop pauses in the middle of message 1
# until pullmail has been fetching for over a second (the progress line
# waits that long), then again in the middle of message 2: the line is on
# the screen while the server is silent.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need tmux:tmux

SOCK=pullmail-test-$$
tmux_() { tmux -L "$SOCK" -f /dev/null "$@"; }
_tmux_cleanup() { tmux_ kill-server 2>/dev/null; }
trap '_rc=$?; _tmux_cleanup; (exit $_rc); _cleanup' EXIT

MAIL=$T/mail
mkdir -p "$MAIL"
# two of 300 KB first: the line is redrawn every 64 KB that arrive
for i in 1 2; do
	"$PYTHON3" -S -c '
import sys
i = int(sys.argv[1])
body = "".join("line %05d of a long message, to make it big enough\n" % n
               for n in range(6000))
sys.stdout.write("From: a@example.org\nTo: b@example.org\n"
                 "Subject: big %d\nMessage-ID: <big-%d@example.org>\n\n%s"
                 % (i, i, body))' "$i" >"$MAIL/msg-0000$i.eml" ||
		bail_out "cannot write a message"
done
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$MAIL" --count 1 --mix small --first 3 ||
	bail_out "genmail.py failed"
FAKE_MAIL=$MAIL
ACCOUNT=a-rather-long-account-name-here

# pane: the visible lines of the terminal, trailing blank lines dropped
pane() {
	tmux_ capture-pane -p -t pm | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}
pane_has() { pane | grep -qF -- "$1"; }
paused_count() { grep -c '^S: paused' "$FAKE_LOG" 2>/dev/null || true; }
paused_at_least() { [ "$(paused_count)" -ge "$1" ]; }

for cols in 40 80; do
	fake_start --fault pause-mid-msg=0 --fault pause-mid-msg=1
	mode_config maildir delete
	tmux_ new-session -d -s pm -x "$cols" -y 6 \
		"cd '$T' && env -u XDG_CONFIG_HOME HOME='$PM_HOME' XDG_STATE_HOME='$PM_STATE' '$PULLMAIL'; echo EXIT=\$?; sleep 600" ||
		bail_out "tmux did not start"
	ok "$cols columns: paused in message 1" wait_for 30 paused_at_least 1
	# the line shows only after a second of fetching: let one pass
	sleep 1.2
	kill -USR1 "$FAKE_PID"
	ok "$cols columns: paused in message 2" wait_for 30 paused_at_least 2
	ok "$cols columns: progress line shown" wait_for 30 pane_has "$ACCOUNT"
	shown=$(pane)
	is "$(line_count "$shown")" 1 "$cols columns: the progress line takes one line (no wrap)" ||
		diag "$shown"
	ok "$cols columns: and is narrower than the terminal" \
		test "$(printf '%s' "$shown" | wc -L)" -lt "$cols"
	if [ "$cols" = 80 ]; then
		ok "80 columns: the whole line fits" eval '[[ "$shown" == *"/s" ]]'
	else
		ok "40 columns: the line is cut" eval '[[ "$shown" != *"/s" ]]'
	fi
	kill -USR1 "$FAKE_PID"
	ok "$cols columns: pullmail ends" wait_for 60 pane_has "EXIT="
	after=$(pane)
	lacks "$after" "/3 messages," "$cols columns: the line wiped at the end, no trail"
	contains "$after" "EXIT=0" "$cols columns: exit status 0"
	is "$(maildir_count "$FAKE_MD")" 3 "$cols columns: every message delivered"
	tmux_ kill-session -t pm 2>/dev/null
done

done_testing
