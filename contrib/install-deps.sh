#!/bin/sh
# Install what pullmail needs to build, run its demo and its test suite on
# Debian 12 (as root, or through sudo).
set -eu
PKGS="build-essential autoconf automake pkg-config libssl-dev libbsd-dev
libiniparser-dev dovecot-pop3d python3 openssl procmail maildrop faketime
clang libclang-rt-14-dev strace mpop fetchmail getmail6"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-deps.sh: run as root, or install sudo" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
# The POP3 servers the suite tests against besides Dovecot
# (tests/lib/servers/README): their support packages are installed, the
# ones that conflict with Dovecot unpacked into $PM_SRVROOT.
here=$(cd "$(dirname "$0")/.." && pwd)
PM_SRVROOT=${PM_SRVROOT:-/opt/pullmail-testsrv}
export PM_SRVROOT
srvpkgs=
for a in "$here"/tests/lib/servers/*.sh; do
	[ -f "$a" ] || continue
	srvpkgs="$srvpkgs $(bash "$a" packages)" ||
		{ echo "install-deps.sh: $a packages failed" >&2; exit 1; }
done
if [ -n "$(echo $srvpkgs)" ]; then
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $srvpkgs >/dev/null
fi
for a in "$here"/tests/lib/servers/*.sh; do
	[ -f "$a" ] || continue
	$SUDO env PM_SRVROOT="$PM_SRVROOT" bash "$a" unpack "$PM_SRVROOT" ||
		{ echo "install-deps.sh: $a unpack failed" >&2; exit 1; }
done
echo "install-deps.sh: dependencies installed"
