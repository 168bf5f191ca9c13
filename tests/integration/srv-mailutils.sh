#!/bin/bash
# srv-mailutils.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/mailutils.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRV=mailutils
. "$(dirname "$0")/srvlib.sh"
