#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# cli.sh - what the command line and the documents promise alike:
#  - --help, the README and pullmail(1) list the same exit statuses;
#  - -V prints the version, OpenSSL's and the config file in use;
#  - --help says where to report bugs, and the README has that section;
#  - --dump-config's output, used as a config, does not log in with "***".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$SRC/doc/pullmail.1

# --------------------------------------------------- exit statuses

run_pm --help
is "$PM_RC" 0 "--help: exit status 0"
help_codes=$(printf '%s\n' "$PM_OUT" | sed -n '/^Exit status:/,/^See /p' |
	grep -oE '(^|[ ,:])[0-9]{1,2} ' | tr -dc '0-9\n ' | tr ' ' '\n' |
	grep -E '^[0-9]+$' | sort -n | uniq | tr '\n' ' ')
readme_codes=$(sed -n '/^Exit status$/,/^pullmail(1) gives/p' "$SRC/README" |
	grep -oE '^    [0-9]+ ' | tr -d ' ' | sort -n | uniq | tr '\n' ' ')
man_codes=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$MAN" |
	grep -E '^\.B [0-9]+$' | cut -d' ' -f2 | sort -n | uniq | tr '\n' ' ')
ok "exit statuses: pullmail(1) lists some" test -n "$man_codes"
is "$help_codes" "$man_codes" "exit statuses: --help lists those of pullmail(1)"
is "$readme_codes" "$man_codes" "exit statuses: the README lists those of pullmail(1)"
contains "$PM_OUT" "Report bugs: " "--help: says where to report bugs"
ok "README: has the section --help points to" grep -q '^Reporting bugs$' "$SRC/README"

# ----------------------------------------------------------- licence

ok "LICENSE: the ISC licence" grep -q "Permission to use, copy, modify, and distribute" "$SRC/LICENSE"
unlicensed=$(cd "$SRC" && find src tests contrib debian .ci configure.ac Makefile.am \
	-path tests/fuzz/corpus -prune -o -path tests/fuzz/crashes -prune -o -type f \
	\( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' -o -name '*.am' -o -name '*.ac' \
	-o -name rules -o -name run \) -print 2>/dev/null | while IFS= read -r f; do
		head -n 5 "$f" | grep -q 'SPDX-License-Identifier: ISC' || echo "$f"
	done)
is "$unlicensed" "" "every source file names its licence (SPDX) in its first lines"

# -------------------------------------------------------------- -V

run_pm -V
is "$PM_RC" 0 "-V: exit status 0"
contains "$PM_OUT" "pullmail " "-V: the version"
contains "$PM_OUT" "OpenSSL 3" "-V: the OpenSSL version"
contains "$PM_OUT" "config: $PM_HOME/.config/pullmail/config (does not exist)" \
	"-V: the default config file, and that it does not exist"
printf '[x]\nhost = h\nuser = u\nmaildir = /m\n' >"$T/other.conf"
run_pm -V -C "$T/other.conf"
contains "$PM_OUT" "config: $T/other.conf" "-V -C FILE: names FILE"
lacks "$PM_OUT" "does not exist" "-V -C FILE: which exists"

# ------------------------------------------- --dump-config, fed back

fake_start
mode_config maildir delete
run_pm --dump-config
is "$PM_RC" 0 "--dump-config: exit status 0" || show_pm
contains "$PM_OUT" "# password = *** (set, not shown)" "--dump-config: the password line is a comment"
lacks "$PM_OUT" '"p"' "--dump-config: the password itself is not shown"
(umask 077 && printf '%s\n' "$PM_OUT" >"$T/dumped.conf")
run_pm -C "$T/dumped.conf"
is "$PM_RC" 78 "dumped config fed back: no password, exit status 78 (not a login with ***)" ||
	show_pm
contains "$PM_ERR" "password" "dumped config fed back: the error is about the password"
is "$(grep -c '^C: PASS' "$FAKE_LOG")" 0 "dumped config fed back: no PASS reached the server"

# ------------------------------------ pullmail(1)'s example config

# the configuration of "Several accounts" in EXAMPLES, as a man reader
# shows it, loads
man_ex=$(sed -n '/^Several accounts in one configuration/,/^\.EE/p' "$MAN" |
	sed -n '/^\.EX/,/^\.EE/p' | sed '1d;$d' | sed 's/\\-/-/g; s/\\(ti/~/g')
ok "EXAMPLES: the several-accounts configuration is there" test -n "$man_ex"
(umask 077 && printf '%s\n' "$man_ex" >"$T/example.conf")
run_pm --dump-config -C "$T/example.conf"
is "$PM_RC" 0 "EXAMPLES: the several-accounts configuration loads" || show_pm
for a in work home lists gmail; do
	contains "$PM_OUT" "[$a]" "EXAMPLES: account $a in it"
done

done_testing
