# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# import-lib.sh - helpers for the "pullmail import" tests (import-*.sh),
# sourced after lib.sh and start_server.
#
#   add_user NAME                 a second Dovecot user, password $POP3_PASS;
#                                 sets USER_MD to its server Maildir
#   seed_user MAILDIR EXP N       N new messages into a user's server
#                                 Maildir and into the directory EXP
#   once_check EXP MAILDIR...     every message of EXP (by Message-ID) is in
#                                 exactly one of the MAILDIRs, exactly once,
#                                 and nothing else is there
#   new_maildir DIR               an empty Maildir

# shellcheck disable=SC2034

add_user() {
	local name=$1 owner home
	owner=$(cat "$DOVECOT_DIR/mailuser")
	# the real directory: $DOVECOT_DIR/home may be a link out of $T, which
	# Dovecot's mail processes cannot search
	home=$(cd "$DOVECOT_DIR/home" && pwd -P)/$name
	mkdir -p "$home/Maildir/new" "$home/Maildir/cur" "$home/Maildir/tmp" ||
		bail_out "add_user: mkdir failed"
	chmod 0700 "$home" "$home/Maildir" "$home/Maildir/new" \
		"$home/Maildir/cur" "$home/Maildir/tmp"
	[ "$(id -u)" != 0 ] || chown -R "$owner" "$home"
	printf '%s:{PLAIN}%s:%s::%s::\n' "$name" "$POP3_PASS" "$owner" \
		"$home" >>"$DOVECOT_DIR/passwd" || bail_out "add_user: passwd"
	USER_MD=$home/Maildir
}

_user_seeds=0
seed_user() {
	local md=$1 exp=$2 n=$3 stage f owner i=0
	_user_seeds=$((_user_seeds + 1))
	stage=$T/ugen.$_user_seeds
	mkdir -p "$exp"
	"$PYTHON3" -S "$TESTLIB/genmail.py" --out "$stage" --count "$n" \
		--seed $((20251100 + _user_seeds)) \
		--first $((_user_seeds * 1000)) >/dev/null ||
		bail_out "genmail.py failed"
	owner=$(cat "$DOVECOT_DIR/mailuser")
	for f in "$stage"/*; do
		i=$((i + 1))
		cp "$f" "$exp/" || bail_out "seed_user: cp"
		# Dovecot numbers new files in the order of their names.
		cp "$f" "$md/tmp/$_user_seeds.$((100000 + i)).seed" &&
			mv "$md/tmp/$_user_seeds.$((100000 + i)).seed" \
				"$md/new/$((1700000000 + _user_seeds)).M$((100000 + i))P1.seed" ||
			bail_out "seed_user: cannot seed $md"
	done
	[ "$(id -u)" != 0 ] || chown -R "$owner" "$md"
	rm -rf "$stage"
}

new_maildir() {
	mkdir -p "$1/new" "$1/cur" "$1/tmp" || bail_out "mkdir $1"
}

once_check() {
	local exp=$1
	shift
	ONCE_OUT=$("$PYTHON3" -S - "$exp" "$@" <<'EOF' 2>&1
import collections, os, re, sys
exp, mds = sys.argv[1], sys.argv[2:]
mid = re.compile(rb"^message-id:[ \t]*(\S+)", re.I | re.M)
def ident(path):
    with open(path, "rb") as f:
        data = f.read()
    head = data.split(b"\n\n", 1)[0]
    m = mid.search(head)
    return m.group(1).decode() if m else "(none) " + path
want = collections.Counter(ident(os.path.join(exp, n)) for n in os.listdir(exp))
got = collections.Counter()
for md in mds:
    for sub in ("new", "cur"):
        d = os.path.join(md, sub)
        for n in os.listdir(d):
            got[ident(os.path.join(d, n))] += 1
missing = sorted(set(want) - set(got))
extra = sorted(set(got) - set(want))
dups = sorted(k for k in got if got[k] > 1)
print("expected=%d delivered=%d missing=%d duplicates=%d unexpected=%d" %
      (sum(want.values()), sum(got.values()), len(missing), len(dups), len(extra)))
for k in missing[:5]: print("missing: " + k)
for k in dups[:5]: print("twice: " + k)
for k in extra[:5]: print("unexpected: " + k)
sys.exit(0 if not missing and not dups and not extra else 1)
EOF
)
	local rc=$?
	[ $rc -eq 0 ] || diag "$ONCE_OUT"
	return $rc
}
