#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The pullmail authors
# srv-courier.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/courier.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# shellcheck disable=SC2034 # read by srvlib.sh
SRV=courier
# shellcheck source=tests/integration/srvlib.sh
. "$(dirname "$0")/srvlib.sh"
