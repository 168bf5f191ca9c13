#!/bin/bash
# srv-courier.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/courier.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRV=courier
. "$(dirname "$0")/srvlib.sh"
