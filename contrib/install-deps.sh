#!/bin/sh
# Install what pullmail needs to build, run its demo and its test suite on
# Debian 12 (as root, or through sudo).
set -eu
PKGS="build-essential autoconf automake pkg-config libssl-dev libbsd-dev
libiniparser-dev dovecot-pop3d python3 openssl procmail maildrop faketime
clang libclang-rt-14-dev strace"
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
echo "install-deps.sh: dependencies installed"
