#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# Install what pullmail needs to build, run its demo and its test suite on
# Debian 12 (as root, or through sudo).
set -eu
PKGS="build-essential autoconf automake pkg-config libssl-dev libbsd-dev
libiniparser-dev libcurl4-openssl-dev libjson-c-dev dovecot-pop3d dovecot-lmtpd python3 openssl procmail maildrop faketime
clang libclang-rt-14-dev strace tmux
mpop fetchmail getmail6"
# tests/integration/oauth2.sh: the authorization server (tests/lib/oauthserver.py)
PKGS="$PKGS python3-authlib"
# tests/integration/install.sh (systemd-analyze, zsh, bash-completion, man)
# and the Debian package that .ci/run builds, checks and installs
PKGS="$PKGS systemd zsh bash-completion man-db debhelper dh-autoreconf dpkg-dev lintian"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "install-deps.sh: run as root, or install sudo" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Installing a server package starts its system service (Dovecot, Cyrus on
# ports 110, 143...) unless policy-rc.d says no: the tests run their own
# private instances and want none of those. Our policy-rc.d is only there
# while we install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null &&
		$SUDO chmod 755 "$policy" &&
		trap '$SUDO rm -f "$policy"' EXIT
fi
# Another apt running (unattended-upgrades on a fresh machine): wait for
# its lock, up to 10 minutes, instead of failing at once.
APT="apt-get -o DPkg::Lock::Timeout=600"
$SUDO $APT update -qq
# shellcheck disable=SC2086
$SUDO $APT install -y -qq --no-install-recommends $PKGS >/dev/null
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
	$SUDO $APT install -y -qq --no-install-recommends $srvpkgs >/dev/null
fi
for a in "$here"/tests/lib/servers/*.sh; do
	[ -f "$a" ] || continue
	$SUDO env PM_SRVROOT="$PM_SRVROOT" bash "$a" unpack "$PM_SRVROOT" ||
		{ echo "install-deps.sh: $a unpack failed" >&2; exit 1; }
done
# Postfix for smtp.sh: it conflicts with dma (mail-transport-agent), so it
# is unpacked into $PM_SRVROOT/postfix, never installed.
$SUDO env PM_SRVROOT="$PM_SRVROOT" bash "$here/tests/lib/postfix.sh" unpack "$PM_SRVROOT" ||
	{ echo "install-deps.sh: tests/lib/postfix.sh unpack failed" >&2; exit 1; }
echo "install-deps.sh: dependencies installed"
