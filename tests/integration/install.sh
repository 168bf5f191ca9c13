#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# "make install" into a DESTDIR: every file lands in the configured
# directory; the systemd user units run the installed binary and pass
# "systemd-analyze verify" (in user mode, without a running systemd); the
# bash and zsh completions, loaded from where they were installed, offer
# every option of src/pullmail.c and the account names of the
# configuration in use; the example config is one pullmail reads; and
# "make uninstall" removes it all.
. "$(dirname "$0")/lib.sh"

need systemd-analyze:systemd zsh:zsh man:man-db
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[ -r "$BASH_COMPLETION" ] ||
	skip_all "$BASH_COMPLETION not found (apt-get install bash-completion)"
[ -n "${PM_TOP_BUILDDIR:-}" ] && [ -n "${PM_bindir:-}" ] ||
	bail_out "PM_TOP_BUILDDIR and the PM_*dir variables come from make check"
SRCDIR=$(cd "$TESTLIB/../.." && pwd)
DEST=$T/dest

# make_tree TARGET...: make in the build tree, as a make of its own (not
# part of the make check running this)
make_tree() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		${PM_MAKE:-make} -s -C "$PM_TOP_BUILDDIR" "$@" >"$T/make.out" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || diag "$(cat "$T/make.out")"
	return $rc
}

# ---------------------------------------------------------- install

ok "make install DESTDIR=... succeeds" make_tree install DESTDIR="$DEST"

BIN=$DEST$PM_bindir/pullmail
UNITS=$DEST$PM_systemduserunitdir
BASHC=$DEST$PM_bashcompletiondir/pullmail
ZSHC=$DEST$PM_zshcompletiondir/_pullmail
EXAMPLE=$DEST$PM_exampledir/pullmail.conf.example
ok "the binary is installed in bindir" test -x "$BIN"
ok "pullmail(1) is installed" test -f "$DEST$PM_man1dir/pullmail.1"
ok "pullmail.conf(5) is installed" test -f "$DEST$PM_man5dir/pullmail.conf.5"
for u in pullmail.service pullmail-oneshot.service pullmail.timer; do
	ok "$u is installed in systemduserunitdir" test -f "$UNITS/$u"
done
ok "the bash completion is installed as .../completions/pullmail" test -f "$BASHC"
ok "the zsh completion is installed as _pullmail" test -f "$ZSHC"
ok "the example config is installed in docdir/examples" test -f "$EXAMPLE"
ok "README is installed in docdir" test -f "$DEST$PM_docdir/README"
contains "$("$BIN" --version 2>&1)" "pullmail" "the installed binary runs"

# ---------------------------------------------------- systemd units

svc=$(cat "$UNITS/pullmail.service")
one=$(cat "$UNITS/pullmail-oneshot.service")
timer=$(cat "$UNITS/pullmail.timer")
contains "$svc" "ExecStart=$PM_bindir/pullmail --daemon 300 --syslog" \
	"pullmail.service runs the configured bindir's pullmail"
contains "$one" "ExecStart=$PM_bindir/pullmail --quiet --wait" \
	"pullmail-oneshot.service runs the configured bindir's pullmail"
lacks "$svc$one" "@bindir@" "no @bindir@ is left in the units"
lacks "$(printf '%s\n' "$svc" "$one" "$timer" | grep -v '^#')" "network-online" \
	"no network-online.target in the user units (the user manager has none)"
ok "the timer has Persistent=true and OnCalendar= (Persistent= needs it)" \
	eval 'grep -q "^OnCalendar=." "$UNITS/pullmail.timer" && grep -qx "Persistent=true" "$UNITS/pullmail.timer"'
tunit=$(sed -n 's/^Unit=//p' "$UNITS/pullmail.timer")
ok "the timer's Unit= ($tunit) is installed beside it" test -f "$UNITS/$tunit"

# systemd-analyze verify in user mode, on a copy of the installed units
# with the DESTDIR put before the ExecStart path (so it finds the binary
# it checks is executable), in a unit path of their own before systemd's
# (for default.target, basic.target...), with the installed manual pages
# for Documentation=; no systemd needs to be running.
mkdir -p "$T/units" "$T/run" "$T/vhome" && chmod 700 "$T/run"
for u in pullmail.service pullmail-oneshot.service pullmail.timer; do
	sed "s|^ExecStart=$PM_bindir/|ExecStart=$DEST$PM_bindir/|" "$UNITS/$u" >"$T/units/$u"
done
verify() { # UNIT-FILE...: VERIFY_OUT, status of systemd-analyze verify
	VERIFY_OUT=$(env HOME="$T/vhome" XDG_RUNTIME_DIR="$T/run" \
		SYSTEMD_UNIT_PATH="$T/units:" MANPATH="$DEST${PM_man1dir%/man1}" \
		systemd-analyze --user verify "$@" 2>&1)
}
verify "$T/units/pullmail.service" "$T/units/pullmail-oneshot.service" "$T/units/pullmail.timer"
is "$?:$VERIFY_OUT" "0:" "systemd-analyze --user verify passes the units, without a word"
# the same check sees a broken unit: it is really looking
mkdir -p "$T/broken"
sed 's|^ExecStart=[^ ]*|ExecStart=/nonexistent/pullmail|; s|^Type=simple|Type=simplest|' \
	"$T/units/pullmail.service" >"$T/broken/pullmail.service"
verify "$T/broken/pullmail.service"
rc=$?
ok "systemd-analyze verify fails a unit whose binary is missing" test "$rc" -ne 0
contains "$VERIFY_OUT" "simplest" "and reports a bad setting"

# The README's instructions on a fresh home (no ~/.config/systemd/user
# yet), no systemd running: "systemctl --user enable" of a unit in the
# user unit path (SYSTEMD_UNIT_PATH standing for /usr/lib/systemd/user),
# and "systemctl --user link" of one outside it, then enable.
sctl() { # HOME SYSTEMCTL-ARG...: systemctl --user, its output in SCTL_OUT
	local h=$1
	shift
	SCTL_OUT=$(env -i PATH="$PATH" HOME="$h" ${UNIT_PATH:+SYSTEMD_UNIT_PATH="$UNIT_PATH"} \
		systemctl --user "$@" 2>&1)
}
UNIT_PATH="$UNITS:" sctl "$T/fresh1" enable pullmail.timer
is "$?" 0 "systemctl --user enable pullmail.timer works on a fresh home" || diag "$SCTL_OUT"
is "$(readlink "$T/fresh1/.config/systemd/user/timers.target.wants/pullmail.timer")" \
	"$UNITS/pullmail.timer" "and links the installed timer into timers.target.wants"
UNIT_PATH="$UNITS:" sctl "$T/fresh1" is-enabled pullmail.timer
is "$SCTL_OUT" enabled "systemctl --user is-enabled pullmail.timer: enabled"
UNIT_PATH='' sctl "$T/fresh2" link "$UNITS/pullmail.service"
is "$?" 0 "systemctl --user link PATH/pullmail.service works on a fresh home" || diag "$SCTL_OUT"
UNIT_PATH='' sctl "$T/fresh2" enable pullmail.service
is "$?" 0 "then systemctl --user enable pullmail.service" || diag "$SCTL_OUT"
ok "which puts it into default.target.wants" \
	test -L "$T/fresh2/.config/systemd/user/default.target.wants/pullmail.service"
# the defaults for the prefixes /usr/local and /usr are searched
paths=$(env -i PATH="$PATH" HOME="$T/vhome" systemd-analyze --user unit-paths 2>&1)
fp=$(env -i PATH="$PATH" HOME="$T/vhome" zsh -fc 'print -l $fpath')
for p in /usr/local /usr; do
	contains "$paths" "$p/lib/systemd/user" "the user manager searches $p/lib/systemd/user"
done
contains "$fp" "/usr/local/share/zsh/site-functions" "zsh searches /usr/local/share/zsh/site-functions"
contains "$fp" "/usr/share/zsh/vendor-completions" "zsh searches /usr/share/zsh/vendor-completions (Debian)"

# --------------------------------------------------- example config

run_pm -C "$EXAMPLE" --dump-config
is "$PM_RC" 0 "pullmail reads the example config" || show_pm
contains "$PM_OUT" "[work]" "the example config has an account"

# ------------------------------------------------------- completion

# The options pullmail has: its long option table and getopt string.
LONGOPTS=$(sed -n '/longopts\[\] = {/,/{ NULL/p' "$SRCDIR/src/pullmail.c" |
	sed -n 's/^[[:space:]]*{ "\([a-z0-9-]*\)".*/--\1/p' | sort)
SHORTOPTS=$(grep -o 'getopt_long(argc, argv, "[^"]*"' "$SRCDIR/src/pullmail.c" |
	sed 's/.*"\(.*\)"/\1/; s/://g' | fold -w1 | sed 's/^/-/' | sort)
ok "the option table of src/pullmail.c is read (${LONGOPTS//$'\n'/ })" \
	test "$(line_count "$LONGOPTS")" -ge 15
ok "its getopt string is read (${SHORTOPTS//$'\n'/ })" \
	test "$(line_count "$SHORTOPTS")" -ge 8

# A configuration: pullmail's own reading of it says which accounts it has.
CFG=$T/other.conf
cat >"$CFG" <<EOF
[defaults]
maildir = $T/Maildir

[Alpha]
host = a.example.net
user = a

  [ beta.two ]
host = b.example.net
user = b

[gamma-3]
host = c.example.net
user = c
EOF
run_pm -C "$CFG" --dump-config
WANT=$(printf '%s\n' "$PM_OUT" | sed -n 's/^\[\(.*\)\]$/\1/p' | grep -vx defaults | sort)
is "$(echo $WANT)" "alpha beta.two gamma-3" "pullmail reads the accounts alpha, beta.two, gamma-3"
# the default configuration of $PM_HOME, and one in $XDG_CONFIG_HOME
printf '[defaults]\nmaildir = %s/Maildir\n\n[homeacct]\nhost = h\nuser = h\n' "$T" >"$CONFIG"
mkdir -p "$T/xdg/pullmail"
printf '[xdgacct]\nhost = x\nuser = x\nmaildir = %s/Maildir\n' "$T" >"$T/xdg/pullmail/config"

# bash_complete WORD...: what bash offers for the last WORD of the line
# "WORD...", with the completion loaded by bash-completion's own loader from
# where it was installed: COMPREPLY, sorted, one a line, in COMP
bash_complete() {
	COMP=$(cd "$T" && env -i PATH="$PATH" HOME="$PM_HOME" ${XDG_CONFIG_HOME:+XDG_CONFIG_HOME="$XDG_CONFIG_HOME"} \
		BASH_COMPLETION_USER_DIR="$(dirname "$(dirname "$BASHC")")" \
		bash --norc --noprofile -c '
		. "$0" || exit 3
		__load_completion pullmail || exit 4
		f=$(complete -p pullmail) || exit 5
		f=${f#*-F } f=${f%% *}
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		"$f" pullmail "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' "$BASH_COMPLETION" "$@" | sed '/^$/d' | sort)
}

# zsh_complete LINE: what zsh's completion system (compinit, with the
# installed _pullmail in fpath) offers when TAB is typed at the end of LINE
# in an interactive zsh (on a pseudo-terminal: zsh/zpty): each match as
# compadd receives it, sorted, one a line, in COMP
zsh_complete() {
	COMP=$(cd "$T" && env -i PATH="$PATH" HOME="$PM_HOME" ${XDG_CONFIG_HOME:+XDG_CONFIG_HOME="$XDG_CONFIG_HOME"} \
		TERM=dumb timeout -k 2 60 zsh -f "$T/zdrive.zsh" "$(dirname "$ZSHC")" "$1")
}
cat >"$T/zdrive.zsh" <<'EOF'
zmodload zsh/zpty || exit 2
dir=$1 line=$2
zpty z zsh -f -i
zpty -w z "PS1='%% ' PROMPT_EOL_MARK=''"
zpty -w z "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' menu no"
# each match as the completion system adds it (compadd -O/-A/-D only ask),
# then a line when completion is over
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __m; builtin compadd -A __m "$@"; local r=$?
  local m; for m in $__m; do print -r -- "MATCH:$m"; done
  builtin compadd "$@"
  return r
}'
zpty -w z '_pm_done() { print -r -- "COMPLETION-DONE"; }; comppostfuncs=(_pm_done)'
zpty -w z 'print -r -- READY-$((6*7))'
zpty -r z out '*READY-42*' || exit 3
zpty -n -w z "$line"$'\t'
zpty -r z out '*COMPLETION-DONE*' || exit 4
print -r -- "$out" | tr -d '\r' | sed -n 's/^.*MATCH://p' | sort -u
zpty -d z
EOF

# only_options TEXT: the words of TEXT that start with "-", sorted
only_options() {
	printf '%s\n' "$1" | grep -- '^-' | sort
}

for sh in bash zsh; do
	c=${sh}_complete
	unset XDG_CONFIG_HOME
	if [ $sh = bash ]; then $c pullmail --; else $c "pullmail --"; fi
	is "$(only_options "$COMP")" "$LONGOPTS" "$sh: \"pullmail --\" offers every long option of src/pullmail.c, and no other"
	if [ $sh = bash ]; then $c pullmail -; else $c "pullmail -"; fi
	got=$(only_options "$COMP" | grep -v -- '^--')
	is "$got" "$SHORTOPTS" "$sh: \"pullmail -\" offers every short option too"
	if [ $sh = bash ]; then $c pullmail -C "$CFG" ""; else $c "pullmail -C $CFG "; fi
	is "$(echo $COMP)" "$(echo $WANT)" "$sh: accounts of -C FILE as the first argument, but [defaults]"
	if [ $sh = bash ]; then $c pullmail -l -C "$CFG" b; else $c "pullmail -l -C $CFG b"; fi
	is "$(echo $COMP)" "beta.two" "$sh: an account after options, by its first letter"
	if [ $sh = bash ]; then $c pullmail --accept 1234 -C "$CFG" g; else $c "pullmail --accept 1234 -C $CFG g"; fi
	is "$(echo $COMP)" "gamma-3" "$sh: the account after --accept UID"
	if [ $sh = bash ]; then $c pullmail -C "$CFG" --accept ""; else $c "pullmail -C $CFG --accept "; fi
	is "$(echo $COMP)" "" "$sh: no account offered for --accept's UID"
	if [ $sh = bash ]; then $c pullmail --serverinfo --config="$CFG" alpha ""; else $c "pullmail --serverinfo --config=$CFG alpha "; fi
	is "$(echo $COMP)" "beta.two gamma-3" "$sh: --config=FILE; an account already named is not offered again"
	if [ $sh = bash ]; then $c pullmail --authorize --flow ""; else $c "pullmail --authorize --flow="; fi
	is "$(echo $COMP)" "browser device paste" "$sh: --flow offers its three flows"
	if [ $sh = bash ]; then $c pullmail --check ""; else $c "pullmail --check "; fi
	is "$(echo $COMP)" "homeacct" "$sh: without -C, the accounts of ~/.config/pullmail/config"
	export XDG_CONFIG_HOME=$T/xdg
	if [ $sh = bash ]; then $c pullmail ""; else $c "pullmail "; fi
	is "$(echo $COMP)" "xdgacct" "$sh: \$XDG_CONFIG_HOME/pullmail/config when it is set"
	unset XDG_CONFIG_HOME
	if [ $sh = bash ]; then $c pullmail -C "$T/other.c"; else $c "pullmail -C $T/other.c"; fi
	contains "$COMP" "other.conf" "$sh: -C completes a file name"
done

# -------------------------------------------------------- uninstall

ok "make uninstall DESTDIR=... succeeds" make_tree uninstall DESTDIR="$DEST"
left=$(find "$DEST" ! -type d)
is "$left" "" "make uninstall leaves no file behind"

done_testing
