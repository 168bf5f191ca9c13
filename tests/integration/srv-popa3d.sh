#!/bin/bash
# srv-popa3d.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/popa3d.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRV=popa3d
. "$(dirname "$0")/srvlib.sh"
