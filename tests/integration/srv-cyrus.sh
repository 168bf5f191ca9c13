#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# srv-cyrus.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/cyrus.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# shellcheck disable=SC2034 # read by srvlib.sh
SRV=cyrus
# shellcheck source=tests/integration/srvlib.sh
. "$(dirname "$0")/srvlib.sh"
