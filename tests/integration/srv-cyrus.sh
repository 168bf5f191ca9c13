#!/bin/bash
# srv-cyrus.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/cyrus.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRV=cyrus
. "$(dirname "$0")/srvlib.sh"
