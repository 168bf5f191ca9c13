#!/bin/bash
# srv-dovecot.sh - the server suite's acceptance scenario (srvlib.sh) against
# the adapter tests/lib/servers/dovecot.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
SRV=dovecot
. "$(dirname "$0")/srvlib.sh"
