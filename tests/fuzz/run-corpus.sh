#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# Build the libFuzzer harnesses and run each once over its corpus, as a
# regression test speaking TAP. Usage: run-corpus.sh [BUILDDIR]
#
# BUILDDIR (default ./fuzz-build) receives the objects and the fuzz-*
# binaries. Environment: CC (default clang), TOP_BUILDDIR (where config.h
# is; default the current directory if it has one, else the source tree),
# FUZZ_CFLAGS (extra compiler flags, e.g. -fno-sanitize=nonnull-attribute
# to keep a long run going past a known report), FUZZ_BUILD_ONLY=1 to build
# and print nothing else (used by "make fuzz").
#
# Without clang or its fuzzer runtime this is skipped ("1..0 # SKIP ...",
# exit status 77, which "make check" shows as SKIP; .ci/run, where both are
# installed, fails on any skip).

set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
build=${1:-./fuzz-build}
harnesses="fuzz-reply fuzz-body fuzz-config fuzz-mbox fuzz-uidl fuzz-fetchmailrc fuzz-import fuzz-oauth2"

bail() {
	echo "Bail out! $*"
	exit 1
}

skip_all() {
	[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && bail "$*"
	echo "1..0 # SKIP $*"
	exit 77
}

# The compiler: clang, with libFuzzer.
if [ -z "${CC:-}" ]; then
	for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
		if command -v "$c" >/dev/null 2>&1; then
			CC=$c
			break
		fi
	done
fi
[ -n "${CC:-}" ] && command -v "$CC" >/dev/null 2>&1 ||
	skip_all "clang not found (set CC): the fuzz harnesses need libFuzzer"

if [ -n "${TOP_BUILDDIR:-}" ]; then
	cfgdir=$TOP_BUILDDIR
elif [ -f ./config.h ]; then
	cfgdir=$PWD
else
	cfgdir=$srcdir
fi
[ -f "$cfgdir/config.h" ] ||
	bail "no config.h in $cfgdir: run configure first (or set TOP_BUILDDIR)"

command -v pkg-config >/dev/null 2>&1 || bail "pkg-config not found"
bsd_cflags=$(pkg-config --cflags libbsd-overlay) ||
	bail "pkg-config: libbsd-overlay not found"
bsd_libs=$(pkg-config --libs libbsd-overlay libbsd-ctor) ||
	bail "pkg-config: libbsd-ctor not found"

mkdir -p "$build/obj" || bail "cannot create $build"
build=$(cd "$build" && pwd)

SAN="address,undefined"
CFLAGS_F="-g -O1 -fno-omit-frame-pointer"
XFLAGS="-fno-sanitize-recover=all ${FUZZ_CFLAGS:-}"
net_cflags=$(pkg-config --cflags libcurl json-c) ||
	bail "pkg-config: libcurl or json-c not found"
net_libs=$(pkg-config --libs libcurl json-c) ||
	bail "pkg-config: libcurl or json-c not found"
CPPFLAGS_F="-I$cfgdir -I$srcdir/src -DOPENSSL_API_COMPAT=30000 \
-DLIBBSD_OPENBSD_VIS $bsd_cflags $net_cflags"
LIBS_F="$net_libs -lssl -lcrypto $bsd_libs -liniparser"

# Is the fuzzer runtime there? A tiny harness must link.
probe=$build/probe.c
printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
    '{ (void)d; (void)n; return 0; }' >"$probe"
if ! "$CC" -fsanitize=fuzzer,$SAN -o "$build/probe" "$probe" \
    >"$build/probe.log" 2>&1; then
	sed 's/^/# /' "$build/probe.log"
	skip_all "$CC cannot link with -fsanitize=fuzzer: install the fuzzer" \
	    "runtime (Debian: apt-get install libclang-rt-14-dev)"
fi
rm -f "$build/probe" "$build/probe.c" "$build/probe.log"

# The project's modules (all but main), instrumented, rebuilt when stale.
objs=
stale=
for c in "$srcdir"/src/*.c; do
	b=$(basename "$c" .c)
	[ "$b" = pullmail ] && continue
	o=$build/obj/$b.o
	objs="$objs $o"
	if [ ! -f "$o" ] || [ "$c" -nt "$o" ] ||
	    [ "$srcdir/src/pullmail.h" -nt "$o" ] ||
	    [ "$cfgdir/config.h" -nt "$o" ] ||
	    [ "$(cat "$build/obj/flags" 2>/dev/null)" != "$CC $CFLAGS_F $XFLAGS" ]; then
		stale="$stale $c"
	fi
done
if [ -n "$stale" ]; then
	export CC CFLAGS_F CPPFLAGS_F SAN XFLAGS build
	# shellcheck disable=SC2016
	printf '%s\n' $stale | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} \
	    sh -c '$CC $CPPFLAGS_F $CFLAGS_F -fsanitize=fuzzer-no-link,$SAN $XFLAGS \
	    -c "{}" -o "$build/obj/$(basename "{}" .c).o"' \
	    >"$build/compile.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		sed 's/^/# /' "$build/compile.log"
		bail "compiling src/*.c for fuzzing failed"
	fi
fi
echo "$CC $CFLAGS_F $XFLAGS" >"$build/obj/flags"
rm -f "$build/libfuzzpm.a"
# shellcheck disable=SC2086
ar rcs "$build/libfuzzpm.a" $objs || bail "ar failed"

for h in $harnesses; do
	# shellcheck disable=SC2086
	if ! "$CC" $CPPFLAGS_F $CFLAGS_F -fsanitize=fuzzer,$SAN $XFLAGS \
	    -o "$build/$h" "$here/$h.c" "$build/libfuzzpm.a" $LIBS_F \
	    >"$build/$h.log" 2>&1; then
		sed 's/^/# /' "$build/$h.log"
		bail "building $h failed"
	fi
done

[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# Run each harness once over every file of its corpus and every reproducer
# in crashes/ named after it.
n=0
fail=0
for h in $harnesses; do
	n=$((n + 1))
	dir=$here/corpus/$h
	files=()
	if [ -d "$dir" ]; then
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$dir" -type f -print0 | sort -z)
	fi
	# the reproducers of past findings, fixed since, stay fixed
	ncrash=0
	while IFS= read -r -d '' f; do
		files+=("$f")
		ncrash=$((ncrash + 1))
	done < <(find "$here/crashes" -type f -name "$h-*" -print0 2>/dev/null |
	    sort -z)
	if [ ${#files[@]} -eq 0 ]; then
		echo "not ok $n - $h corpus (empty: $dir)"
		fail=1
		continue
	fi
	log=$build/$h.run.log
	if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	    "$build/$h" "${files[@]}" >"$log" 2>&1; then
		echo "ok $n - $h corpus (${#files[@]} inputs, $ncrash past crashes)"
	else
		echo "not ok $n - $h corpus (${#files[@]} inputs, $ncrash past crashes)"
		{ grep 'Running:' "$log" | tail -n 1
		  grep -E 'ERROR|assertion|runtime error|SUMMARY|#[0-9]+ 0x' \
		      "$log" | head -n 30; } | sed 's/^/# /'
		fail=1
	fi
done
echo "1..$n"
exit $fail
