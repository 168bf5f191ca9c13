#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# attacks.sh - break it yourself: tests/lib/fakepop.py attacks pullmail in
# every mode (a Maildir, an mbox and procmail, each with delete and keep),
# and after each attack the invariant is checked:
#   - no DELE of a message not delivered whole: every "S: marked N UID"
#     follows an "S: sent M UID" for that UID, and fakepop wrote no "V:"
#     line (a DELE of a message never sent whole);
#   - nothing lost: every original is on the server or delivered byte for
#     byte, nothing partial is delivered, nothing is left in tmp/;
#   - a clean run then delivers everything, exactly once (the duplicates
#     the design allows are named where they happen).
# The attacks: drops at seeded random byte offsets of the session and
# inside the LIST, UIDL and RETR replies, right after a DELE reply; a reply
# for the wrong message; LIST sizes that lie both ways; messages with NUL
# bytes, bare CRs, no final newline, a 10 MB line, and a terminator split
# across TCP segments; a server that renumbers between sessions; -ERR on
# DELE; a 1 byte per second trickle; a corrupted UIDL cache (a torn last
# line, garbage in the middle, ~50 MB of valid records, zeros).
#
# ATTACK_SEED (default 1939) seeds the offsets; ATTACK_ROUNDS (default 3)
# is the number of random offsets per kind of drop and mode.
#
# Known limits, checked as TODO (XFAIL; an XPASS fails the suite, so a fix
# is noticed): a reply for the wrong message of about the size LIST
# announced cannot be told from the right one (wrong-msg); a UIDL cache
# record damaged into another valid record cannot be told from a real one
# (bit-flip).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need procmail:procmail

SEED=${ATTACK_SEED:-1939}
ROUNDS=${ATTACK_ROUNDS:-3}
NMSG=6
FAKE_MAIL=$T/mail
"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$FAKE_MAIL" --count $NMSG \
	--seed 1939 || bail_out "genmail.py failed"
EXPECT=$FAKE_MAIL       # what each file is delivered as (by name)
UIDL=$STATE_DIR/$ACCOUNT.uidl
OUTCOMES=$T/outcomes
MODES="maildir mbox procmail"
POLICIES="delete keep"
: >"$OUTCOMES"

py() {
	"$PYTHON3" -S "$@"
}

# config MODE POLICY [KEY=VALUE...]: lib.sh's mode_config, with a short
# timeout (the drops and stalls here must not wait a minute)
config() {
	local mode=$1 policy=$2
	shift 2
	mode_config "$mode" "$policy" timeout=3 "$@"
}

# verify.py: one process for the whole test (a Python start costs more
# than a pullmail run), reading requests "ORIG EXPECT SRV MODE BOX LOG
# ERRFILE" (tab-separated) and answering each with one line of shell
# assignments, the state after a run (details into ERRFILE):
#   LOST   originals neither on the server nor delivered byte for byte
#   EARLY  "S: marked" lines without an earlier "S: sent" of that UID
#   VIOL   fakepop's "V:" lines
#   BAD    delivered messages that are no original (partial, foreign)
#   TMP    files left in the Maildir's tmp/
#   DLV    messages delivered; DUPS copies beyond one per original
#   MISS   originals not delivered; LEFT originals on the server
#   GONE   "S: deleted" lines; SENT "S: sent" lines
cat >"$T/verify.py" <<'PY'
import collections, os, re, sys
sys.path.insert(0, os.environ["TESTLIB"])
import mailcheck

def read(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None

def verify(orig, expect, srv, mode, box, log, errf):
    names = sorted(os.listdir(orig))
    want = {n: read(os.path.join(expect, n)) for n in names}
    on_srv = {n for n in names
              if read(os.path.join(srv, n)) == read(os.path.join(orig, n))}
    try:
        msgs = mailcheck.read_mbox(box) if mode == "mbox" else \
            mailcheck.read_maildir(box)
    except FileNotFoundError:
        msgs = []
    got = collections.Counter(mailcheck.strip_received(d) for _, d in msgs)
    known = set(want.values())
    bad = [k for k, d in msgs if mailcheck.strip_received(d) not in known]
    lost = [n for n in names if n not in on_srv and not got[want[n]]]
    miss = [n for n in names if not got[want[n]]]
    dups = [n for n in names if got[want[n]] > 1]
    tmp = []
    if mode != "mbox" and os.path.isdir(os.path.join(box, "tmp")):
        tmp = os.listdir(os.path.join(box, "tmp"))
    sent, early, viol, gone, nsent = set(), [], [], 0, 0
    for line in open(log, encoding="ascii"):
        line = line.rstrip("\n")
        if line.startswith("V: "):
            viol.append(line)
        m = re.match(r"S: sent \d+ (.*)", line)
        if m:
            sent.add(m.group(1))
            nsent += 1
        m = re.match(r"S: marked (\d+) (.*)", line)
        if m and m.group(2) not in sent:
            early.append(line)
        if line.startswith("S: deleted "):
            gone += 1
    with open(errf, "w") as f:
        for what, l in (("lost", lost), ("marked before sent", early),
                        ("violation", viol), ("not an original", bad),
                        ("left in tmp", tmp), ("duplicated", dups),
                        ("not delivered", miss)):
            for x in l[:10]:
                print("%s: %s" % (what, x), file=f)
    return ("LOST=%d EARLY=%d VIOL=%d BAD=%d TMP=%d DLV=%d DUPS=%d MISS=%d "
            "LEFT=%d GONE=%d SENT=%d" % (
                len(lost), len(early), len(viol), len(bad), len(tmp),
                len(msgs), sum(got[want[n]] - 1 for n in dups), len(miss),
                len(on_srv), gone, nsent))

for req in sys.stdin:
    try:
        out = verify(*req.rstrip("\n").split("\t"))
    except Exception as e:
        out = "VERIFY_FAILED=%s" % repr(repr(e))
    print(out, flush=True)
PY
coproc VERIFY { TESTLIB=$TESTLIB exec "$PYTHON3" -S "$T/verify.py"; }
track_pid "$VERIFY_PID"

# state MODE: the state of this case (verify.py's variables), details in
# VERIFY_ERR
state() {
	local box=$FAKE_MD out
	[ "$1" = mbox ] && box=$FD/mbox
	VERIFY_FAILED=
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$FAKE_MAIL" "$EXPECT" "$FAKE_SRV" \
		"$1" "$box" "$FAKE_LOG" "$T/verify.err" >&"${VERIFY[1]}"
	read -r out <&"${VERIFY[0]}" || bail_out "verify.py died"
	eval "$out"
	[ -z "$VERIFY_FAILED" ] || bail_out "verify.py: $VERIFY_FAILED"
	VERIFY_ERR=$(cat "$T/verify.err")
}

# invariant LABEL: nothing deleted that was not delivered whole, nothing
# lost, nothing partial; one TAP line
invariant() {
	if [ "$LOST$EARLY$VIOL$BAD$TMP" = 00000 ]; then
		_tap_result 1 "$1: nothing lost, no DELE before delivery, nothing partial"
	else
		_tap_result 0 "$1: nothing lost, no DELE before delivery, nothing partial"
		diag "LOST=$LOST EARLY=$EARLY VIOL=$VIOL BAD=$BAD TMP=$TMP" "$VERIFY_ERR"
		show_pm
	fi
}

# complete LABEL POLICY DUPS: after a clean run, everything delivered, DUPS
# of them twice, the server empty (delete) or holding all (keep)
complete() {
	local left=0
	[ "$2" = keep ] && left=$NMSG
	if [ "$MISS$BAD$DUPS/$LEFT" = "00$3/$left" ]; then
		_tap_result 1 "$1, clean run: everything delivered ($3 twice), $left left"
	else
		_tap_result 0 "$1, clean run: everything delivered ($3 twice), $left left"
		diag "MISS=$MISS BAD=$BAD DUPS=$DUPS LEFT=$LEFT" "$VERIFY_ERR"
		show_pm
	fi
}

# outcome ATTACK MODE POLICY TEXT: a row of the table printed at the end
outcome() {
	printf '%-34s %-8s %-6s %s\n' "$1" "$2" "$3" "$4" >>"$OUTCOMES"
}

# attack LABEL MODE POLICY RC DUPS [--keys K=V...] [--] FAULT...: fakepop
# with FAULT..., a run that must exit RC (a pattern such as 75 or 0|75),
# the invariant; a clean run (exit 0), everything delivered with DUPS
# duplicates; the outcome recorded
attack() {
	local label=$1 mode=$2 policy=$3 rc=$4 dups=$5 f row
	shift 5
	local -a keys=() faults=()
	while [ $# -gt 0 ]; do
		case $1 in
		--keys) keys+=("$2"); shift 2 ;;
		--) shift ;;
		*) faults+=(--fault "$1"); shift ;;
		esac
	done
	fake_start "${faults[@]}"
	config "$mode" "$policy" "${keys[@]}"
	run_pm
	# shellcheck disable=SC2254 # $rc is a pattern
	case $PM_RC in
	$rc) _tap_result 1 "$label, $mode, $policy: exit status $PM_RC" ;;
	*)
		_tap_result 0 "$label, $mode, $policy: exit status $PM_RC, expected $rc"
		show_pm
		;;
	esac
	ATTACK_ERR=$PM_ERR
	state "$mode"
	invariant "$label, $mode, $policy"
	row="rc $PM_RC: $DLV delivered, $LEFT left, $GONE deleted"
	run_pm
	is "$PM_RC" 0 "$label, $mode, $policy, clean run: exit status 0" || show_pm
	state "$mode"
	complete "$label, $mode, $policy" "$policy" "$dups"
	outcome "$label" "$mode" "$policy" \
		"$row; clean: rc $PM_RC, $DLV delivered, $DUPS dups, $LEFT left"
}

# offsets SALT N LIMIT: N seeded random numbers in [0, LIMIT)
offsets() {
	py -c 'import random, sys
seed, salt, n, limit = sys.argv[1:]
r = random.Random(seed + "/" + salt)
print(" ".join(str(r.randrange(int(limit))) for _ in range(int(n))))' \
		"$SEED" "$@"
}

name_of() { # NUM: the file name of message NUM (name order)
	ls "$FAKE_MAIL" | sed -n "$1p"
}

list_size() { # NUM: the size LIST gives message NUM (LF counted as CRLF)
	local f
	f=$FAKE_MAIL/$(name_of "$1")
	echo $(($(stat -c %s "$f") + $(wc -l <"$f")))
}

want() { # SECTION: whether ATTACK_ONLY (a space-separated list) runs it
	case " ${ATTACK_ONLY:-all} " in *" all "* | *" $1 "*) return 0 ;; esac
	return 1
}

# --------------------------------------------- drops at random offsets
# A drop anywhere: the server keeps every message it was not told to
# delete at a QUIT it answered; pullmail records what it delivered whole
# (a Maildir batch at the error, an mbox or MDA message at once), so the
# next run deletes those unread and fetches the rest: no duplicates. A
# drop in the QUIT reply, after the server deleted: pullmail cannot know,
# records the deletions as pending again, and the next run finds them gone.

if want drops; then
	for mode in $MODES; do
		for policy in $POLICIES; do
			# the session's length, from a clean run
			fake_start
			config "$mode" "$policy"
			run_pm
			[ "$PM_RC" = 0 ] ||
				bail_out "clean run in $mode/$policy failed: $PM_ERR"
			total=$(sed -n 's/^S: output \([0-9]*\) bytes$/\1/p' \
				"$FAKE_LOG" | head -1)
			# random; then right after the last reply before QUIT's
			# ("+OK bye", 9 bytes), and inside QUIT's
			for k in $(offsets "session/$mode/$policy" "$ROUNDS" "$total") \
				$((total - 9)) $((total - 1)); do
				attack "drop-at-byte=$k of $total" "$mode" "$policy" 75 0 \
					"drop-at-byte=$k"
			done
			for k in $(offsets "list/$mode/$policy" 1 100000); do
				attack "drop-in-list=$k" "$mode" "$policy" 75 0 "drop-in-list=$k"
			done
			for k in $(offsets "uidl/$mode/$policy" 1 100000); do
				attack "drop-in-uidl=$k" "$mode" "$policy" 75 0 "drop-in-uidl=$k"
			done
			for k in $(offsets "retr/$mode/$policy" "$ROUNDS" 100000); do
				num=$((k % NMSG + 1))
				attack "drop-in-retr=$num:$k" "$mode" "$policy" 75 0 \
					"drop-in-retr=$num:$k"
			done
			# no DELE in keep mode
			[ "$policy" = delete ] || continue
			for k in 1 3 $NMSG; do
				attack "drop-after-dele=$k" "$mode" "$policy" 75 0 \
					"drop-after-dele=$k"
			done
		done
	done
fi

# ------------------------------------------------ the wrong message
# RETR N answered with message M's data. Caught only by its size: M much
# shorter than N is "damaged" (76, N kept, tried again). M about N's size,
# or larger (up to half again plus 4 KB, which the size rule allows for
# servers that under-announce), cannot be told from N: N is recorded as
# delivered, with M's bytes, and (delete) deleted unread, M arrives twice.

WRONG="a reply for the wrong message within the size rule goes unnoticed"
if want wrong; then
	# the smallest and the largest message
	small=1 large=1
	for i in $(seq 2 $NMSG); do
		[ "$(list_size "$i")" -lt "$(list_size "$small")" ] && small=$i
		[ "$(list_size "$i")" -gt "$(list_size "$large")" ] && large=$i
	done
	for mode in $MODES; do
		for policy in $POLICIES; do
			# the largest answered with the smallest: short, caught
			attack "wrong-msg=$large:$small (shorter)" "$mode" "$policy" 76 0 \
				"wrong-msg=$large:$small"
			contains "$ATTACK_ERR" "message $large (UID $(name_of $large)) arrived damaged" \
				"wrong-msg=$large:$small, $mode, $policy: message $large said to be damaged"
			# the smallest answered with the largest: not caught
			label="wrong-msg=$small:$large (longer), $mode, $policy"
			fake_start --fault "wrong-msg=$small:$large"
			config "$mode" "$policy"
			run_pm
			is "$PM_RC" 0 "$label: exit status 0 (nothing seems wrong)" || show_pm
			state "$mode"
			row="rc $PM_RC: $DLV delivered, $LEFT left, $GONE deleted"
			if [ "$policy" = delete ]; then
				todo "$label: message $small not deleted unread" "$WRONG" \
					test "$LOST$VIOL" = 00
			else
				invariant "$label"
			fi
			run_pm
			state "$mode"
			todo "$label, clean run: message $small delivered, $large once" \
				"$WRONG" test "$MISS$DUPS" = 00
			outcome "wrong-msg=$small:$large (longer)" "$mode" "$policy" \
				"$row; clean: rc $PM_RC, $DLV delivered, $DUPS dups, $MISS never delivered, $LEFT left"
		done
	done
fi

# ------------------------------------------------------ LIST lies
# Lies within the size rule (SAFETY in pullmail(1)) are delivered: 40
# octets too many (short by up to 64 plus 1/64 is allowed), or a quarter of
# the size (under-announcing, as Exchange does, is allowed up to half again
# plus 4 KB). Beyond it either
# way: "damaged" (76), kept, tried again; the clean run (an honest LIST)
# delivers it. 2^63-2^25+1: twice it plus 64 MiB, the most read of a
# message, wrapped around to 2 in uint64_t, so the message was taken for
# one "far larger than the 8 EB announced (more than 115 B arrived)" and
# skipped on every later run (fixed: saturated).

if want lies; then
	num=3
	true_size=$(list_size $num)
	for mode in $MODES; do
		for policy in $POLICIES; do
			for lie in $((true_size + 40)) $((true_size / 4)); do
				attack "lie-size=$num:$lie (true $true_size)" "$mode" "$policy" 0 0 \
					"lie-size=$num:$lie"
			done
			for lie in 0 $((true_size * 4)) 9223372036821221377; do
				attack "lie-size=$num:$lie (true $true_size)" "$mode" "$policy" 76 0 \
					"lie-size=$num:$lie"
				contains "$ATTACK_ERR" "message $num (UID $(name_of $num)) arrived damaged" \
					"lie-size=$num:$lie, $mode, $policy: message $num said to be damaged"
			done
		done
	done
fi

# ----------------------------------------------- odd message contents
# NUL bytes, bare CRs (in a line, before the LF, alone, after a "."), a
# message without a final newline, a 10 MB line, a plain message whose
# terminator comes a byte per TCP segment, an empty message. All delivered byte for byte (the
# one without a final newline with one: POP3 has no way to say there is
# none, a line ends with CRLF); NUL bytes are passed through as they are,
# into a Maildir, an mbox and to procmail.

ODD=$T/odd
ODD_EXPECT=$T/odd-expect
py - "$ODD" "$ODD_EXPECT" <<'PY' || bail_out "cannot write the odd messages"
import os, sys
odd, exp = sys.argv[1:]
os.makedirs(odd)
os.makedirs(exp)
def hdr(n, subj):
    return (b"From: Attacker <a@example.org>\nTo: u@example.org\n"
            b"Subject: %s\nMessage-ID: <attack-%d@example.org>\n"
            b"Date: Mon, 1 Jan 2024 00:00:00 +0000\n\n" % (subj, n))
msgs = {
    "a-nul.eml": hdr(1, b"NUL bytes") +
        b"before\x00after\n\x00\x00\x00\nend\x00\n",
    "b-cr.eml": hdr(2, b"bare CR") +
        b"one\rtwo\nCRLF\r\n\r\n.\rdot CR\nlast CR\r\n",
    "c-nonl.eml": hdr(3, b"no final newline") +
        b"first line\nno newline at the end",
    "d-long.eml": hdr(4, b"a 10 MB line") +
        b"x" * (10 * 1024 * 1024) + b"\nend\n",
    "e-plain.eml": hdr(5, b"plain") + b"text\n.\n..\n.x\n",
    "f-empty.eml": b"",
}
for n, d in msgs.items():
    open(os.path.join(odd, n), "wb").write(d)
    # POP3 has no way to say the last line has no newline
    open(os.path.join(exp, n), "wb").write(d if d.endswith(b"\n") or
                                           not d else d + b"\n")
PY

if want odd; then
	saved=("$FAKE_MAIL" "$EXPECT" "$NMSG")
	FAKE_MAIL=$ODD EXPECT=$ODD_EXPECT NMSG=6
	for mode in $MODES; do
		for policy in $POLICIES; do
			attack "odd contents, split terminator" "$mode" "$policy" 0 0 \
				"split-dot=5"
			contains "$(cat "$FAKE_LOG")" "S: sent 5 e-plain.eml" \
				"odd contents, $mode, $policy: the split terminator was sent"
		done
	done
	# a split terminator right after a bare CR held back at a segment end
	attack "split terminator after a CR" maildir delete 0 0 "split-dot=2"
	FAKE_MAIL=${saved[0]} EXPECT=${saved[1]} NMSG=${saved[2]}
fi

# ------------------------------------------ renumbered between sessions
# The first session numbers the messages from the third file on (rotate=2),
# the next one in name order: the same UIDs, other numbers. Delete: the
# first session delivers all and is told to delete all, but its QUIT
# is never answered (nothing deleted); the next one deletes them by UID,
# unread. Keep: the first session ends inside a message; the next one
# fetches the rest, nothing twice.

if want renumber; then
	for mode in $MODES; do
		attack "rotate=2, no QUIT reply" "$mode" delete 75 0 rotate=2 drop-before-quit-reply
		attack "rotate=2, drop inside RETR 5" "$mode" keep 75 0 rotate=2 drop-in-retr=5:3000
		attack "rotate=2, drop inside RETR 5" "$mode" delete 75 0 rotate=2 drop-in-retr=5:3000
	done
fi

# ---------------------------------------------------------- DELE refused
# -ERR on DELE: that message stays on the server, the session ends with
# QUIT (75); the next run deletes it unread (it is recorded).

if want err-dele; then
	for mode in $MODES; do
		attack "err-dele=3" "$mode" delete 75 0 err-dele=3
	done
fi

# -------------------------------------------------------------- trickle
# The first 8 bytes of RETR 2's reply a second apart, with timeout = 3:
# the timeout is on each wait, not on the reply, so a slow server that
# keeps sending is waited for (8 s); the session completes. One mode: the
# reading is the same for all.

if want trickle; then
	fake_start --fault trickle=2:8
	config maildir delete
	start=$(now_ms)
	run_pm
	is "$PM_RC" 0 "trickle=2:8, timeout 3: exit status 0" || show_pm
	state maildir
	is "$DLV/$LEFT/$MISS" "$NMSG/0/0" "trickle=2:8, timeout 3: all delivered, none left"
	invariant "trickle=2:8"
	contains "$(cat "$FAKE_LOG")" "F: trickle=2:8" "trickle=2:8: the reply was trickled"
	diag "trickle: $(($(now_ms) - start)) ms"
	outcome "trickle=2:8 (timeout=3)" maildir delete \
		"rc $PM_RC: $DLV delivered, $LEFT left, $GONE deleted"
fi

# ------------------------------------------------- a corrupted cache
# A first run (keep, max_messages = 4) delivers and records messages 1-4;
# then the cache is damaged, and the next run is in delete or keep mode.
#   torn       the last line cut short (a crash in an append): dropped,
#              so message 4 comes again (the duplicate a crash may make)
#   garbage    16 random bytes (no newline) in the middle: refused, 74,
#              naming the line; the file left as it was
#   huge       ~55 MB: 1.5 million valid records of UIDs gone from the
#              server before the real ones: read, pruned, compacted
#   zeros      all zeros: refused, 74, "not a pullmail UIDL cache"
#   zero-tail  4 KB of zeros after the records (a crash that extended
#              the file): dropped as a torn last line
#   zero-tail-1M  1 MB of zeros after the records: refused, 74, the line
#              named ("too long")
#   empty      an empty file: taken for a new cache, so 1-4 come again
#   bit-flip   one bit of a UID ("msg-00004" -> "msg-00005") in a valid
#              record: nothing can tell (TODO)
# After a refusal the file is moved away (as the message says) and the
# next run fetches everything again: 1-4 arrive twice, as documented.

# corrupt SHAPE: damage $UIDL; prints the line to be named, if any
corrupt() {
	py - "$UIDL" "$1" <<'PY'
import random, sys
path, shape = sys.argv[1:]
data = open(path, "rb").read()
line = ""
if shape == "torn":
    data = data[:-5]
elif shape == "garbage":
    r = random.Random(1939)
    mid = len(data) // 2
    junk = bytes(r.choice([b for b in range(256) if b != 10])
                 for _ in range(16))
    line = data[:mid].count(b"\n") + 1
    data = data[:mid] + junk + data[mid + 16:]
elif shape == "huge":
    recs = b"".join(b"+ 1700000000 old-%07d@example.org\n" % i
                    for i in range(1500000))
    data = data[:16] + recs + data[16:]
elif shape == "zeros":
    data = bytes(len(data))
elif shape == "zero-tail":
    data += bytes(4096)
elif shape == "zero-tail-1M":
    line = data.count(b"\n") + 1
    data += bytes(1 << 20)
elif shape == "empty":
    data = b""
elif shape == "bit-flip":
    i = data.index(b"msg-00004.eml")
    data = data[:i + 8] + bytes([data[i + 8] ^ 1]) + data[i + 9:]
open(path, "wb").write(data)
print(line)
PY
}

NO_CRC="records have no checksum: a flipped bit that leaves a valid UID goes unnoticed"
if want cache; then
	for shape in torn garbage huge zeros zero-tail zero-tail-1M empty bit-flip; do
		for policy in delete keep; do
			label="cache $shape, $policy"
			fake_start
			config maildir keep max_messages=4
			run_pm
			[ "$PM_RC" = 0 ] || bail_out "$label: the first run failed: $PM_ERR"
			line=$(corrupt "$shape") || bail_out "$label: cannot damage the cache"
			before=$(sha256sum <"$UIDL")
			config maildir "$policy"
			run_pm
			state maildir
			row="rc $PM_RC: $DLV delivered (4 by the first run), $LEFT left, $GONE deleted"
			case $shape in
			garbage | zeros | zero-tail-1M)
				is "$PM_RC" 74 "$label: refused, exit status 74" || show_pm
				if [ -n "$line" ]; then
					contains "$PM_ERR" "$ACCOUNT.uidl: line $line: corrupt record" \
						"$label: the message names line $line"
				else
					contains "$PM_ERR" "$ACCOUNT.uidl: not a pullmail UIDL cache" \
						"$label: the message says it is no UIDL cache"
				fi
				is "$(line_count "$PM_ERR")" 1 "$label: one line"
				is "$(sha256sum <"$UIDL")" "$before" "$label: the file left as it was"
				is "$SENT/$GONE" "4/0" "$label: nothing fetched, nothing deleted"
				mv "$UIDL" "$UIDL.bad"
				dups=4
				;;
			bit-flip)
				is "$PM_RC" 0 "$label: exit status 0" || show_pm
				if [ "$policy" = delete ]; then
					todo "$label: message 5 not deleted unread" "$NO_CRC" \
						test "$LOST$VIOL" = 00
				else
					invariant "$label"
				fi
				dups=1
				;;
			*)
				is "$PM_RC" 0 "$label: exit status 0" || show_pm
				invariant "$label"
				dups=0
				case $shape in torn | empty) dups=$([ "$shape" = torn ] && echo 1 || echo 4) ;; esac
				;;
			esac
			run_pm
			is "$PM_RC" 0 "$label, clean run: exit status 0" || show_pm
			state maildir
			if [ "$shape" = bit-flip ]; then
				todo "$label, clean run: message 5 delivered" "$NO_CRC" \
					test "$MISS" = 0
			else
				complete "$label" "$policy" "$dups"
			fi
			[ "$shape" = huge ] && diag "$label: the cache is now $(stat -c %s "$UIDL") bytes"
			outcome "cache $shape" maildir "$policy" \
				"$row; clean: rc $PM_RC, $DLV delivered, $DUPS dups, $MISS never delivered, $LEFT left"
		done
	done
fi

diag "outcomes (attack, mode, policy: the attacked run; the clean run):"
diag "$(cat "$OUTCOMES")"
done_testing
