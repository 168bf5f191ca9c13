#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# damaged.sh - a message that arrives damaged is never delivered, recorded
# or deleted (issue 16), for each shape, in delete, keep and keep_days
# modes, into a Maildir, an mbox and through an MDA (procmail):
#   short-retr      cut short but properly terminated
#   append-junk     bytes that are not its own appended
#   early-dot       a stray "." line ends it early, the rest arrives as
#                   "replies" (the session ends)
#   extra-after-retr  a reply no command asked for after a message: the
#                   next message would begin with it (the session ends)
# Then a clean run delivers everything exactly once. A message that keeps
# arriving damaged stays on the server with a notice each run (one copy
# kept) until --accept says to take it as it comes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need procmail:procmail

FAKE_MAIL=$T/mail
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count 6 --seed 16 ||
	bail_out "genmail.py failed"
DAMAGED=$STATE_DIR/$ACCOUNT.damaged

# check MODE [--allow-duplicates]: the mailbox against the originals
check() {
	local mode=$1 rc
	shift
	if [ "$mode" = mbox ]; then
		MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$FAKE_MAIL" \
			--mbox "$FD/mbox" --strip-received "$@" 2>&1)
	else
		MC_OUT=$("$PYTHON3" -S "$TESTLIB/mailcheck.py" --expected "$FAKE_MAIL" \
			--maildir "$FAKE_MD" --strip-received "$@" 2>&1)
	fi
	rc=$?
	[ $rc -eq 0 ] || diag "$MC_OUT"
	return $rc
}

# no_dele NUM: the transcript has no DELE of message NUM marked
no_dele() {
	! grep -q "^S: marked $1 " "$FAKE_LOG"
}

first=$(ls "$FAKE_MAIL" | sed -n 1p)
third=$(ls "$FAKE_MAIL" | sed -n 3p)
fourth=$(ls "$FAKE_MAIL" | sed -n 4p)

for mode in maildir mbox procmail; do
	for policy in delete keep keep_days; do
		for shape in short-retr append-junk early-dot extra-after-retr; do
			name="$shape, $mode, $policy"
			fake_start --fault "$shape=3"
			mode_config "$mode" "$policy"
			run_pm
			is "$PM_RC" 76 "$name: exit status 76" || show_pm
			case $shape in
			short-retr | append-junk)
				contains "$PM_ERR" "message 3 (UID $third) arrived damaged: LIST announced" \
					"$name: one line names the message"
				is "$(count_files "$DAMAGED")" 1 "$name: a copy is kept aside"
				;;
			early-dot)
				contains "$PM_ERR" "protocol error: expected +OK or -ERR" \
					"$name: the stream out of step is a protocol error"
				;;
			extra-after-retr)
				contains "$PM_ERR" "message 4 begins with a reply line" \
					"$name: the reply out of step is a protocol error"
				;;
			esac
			# the message in hand when the stream went out of step
			v=3 vname=$third
			[ "$shape" = extra-after-retr ] && v=4 vname=$fourth
			ok "$name: message $v not deleted" no_dele $v
			ok "$name: message $v still on the server" test -f "$FAKE_SRV/$vname"
			run_pm
			is "$PM_RC" 0 "$name, clean run: exit status 0" || show_pm
			ok "$name, clean run: every message delivered exactly once" check "$mode"
			if [ "$policy" = delete ]; then
				is "$(count_files "$FAKE_SRV")" 0 "$name, clean run: server empty"
			else
				is "$(count_files "$FAKE_SRV")" 6 "$name, clean run: all kept"
			fi
		done
	done
done

# Arriving damaged again and again: left on the server with a notice each
# run, one copy kept; --accept takes it as it comes.
fake_start --fault "short-retr=1@all"
mode_config maildir delete
for i in 1 2 3; do
	run_pm
	is "$PM_RC" 76 "always damaged, run $i: exit status 76" || show_pm
	is "$(grep -c 'arrived damaged' <<<"$PM_ERR")" 1 "always damaged, run $i: one notice"
	ok "always damaged, run $i: message 1 still on the server" test -f "$FAKE_SRV/$first"
done
contains "$PM_ERR" "the same as last time" "always damaged: later notices say it is the same damage"
is "$(count_files "$DAMAGED")" 1 "always damaged: one copy kept, not one a run"
is "$(maildir_count "$FAKE_MD")" 5 "always damaged: the 5 others delivered once"
contains "$PM_ERR" "pullmail --accept $first $ACCOUNT" "always damaged: the notice says how to accept it"
run_pm --accept nosuchuid "$ACCOUNT"
is "$PM_RC" 64 "--accept of a UID never damaged: exit status 64" || show_pm
run_pm --accept "$first"
is "$PM_RC" 64 "--accept without an account: usage error" || show_pm
run_pm --accept "$first" "$ACCOUNT"
is "$PM_RC" 0 "--accept: exit status 0" || show_pm
run_pm
is "$PM_RC" 0 "after --accept: exit status 0" || show_pm
is "$(maildir_count "$FAKE_MD")" 6 "after --accept: delivered as it came"
is "$(count_files "$FAKE_SRV")" 0 "after --accept: deleted from the server"

done_testing
