#!/bin/bash
# srv-solid.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/solid.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRV=solid
. "$(dirname "$0")/srvlib.sh"
