#!/usr/bin/env bash
# The fault tests (tests/faults/): each starts nothing shared, breaks the real
# stack on purpose (workers killed, database hung/crashed/stopped, overload,
# slow clients, reload and stop under load, password races) and checks its
# invariant. Loopback only; about two minutes.
#
#   scripts/fault-tests.sh [PYTEST_ARGS...]     (`make fault-test`, a step of `make test`)
#
# BUILD_DIR [build] (or AUTHD_BIN) names the server; FAULTS_KEEP=1 keeps the
# stack's temp dir (logs) afterwards.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-build}
[[ -x ${AUTHD_BIN:-$root/$BUILD_DIR/authd} ]] || { echo "fault-tests: no authd binary (make build)" >&2; exit 1; }
# The stack's own database only: nothing of the caller's MYSQL_* may leak in.
unset MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASSWORD MYSQL_DB MYSQL_MIGRATE_USER \
  MYSQL_MIGRATE_PASSWORD MYSQL_TCP_PORT MYSQL_PWD
# The pool's defaults are what is tested; FAULTS_FCGI_BACKLOG overrides one (to see a test fail).
export FCGI_BACKLOG=${FAULTS_FCGI_BACKLOG:-}
cd "$root/tests/faults"
exec /usr/bin/python3 -m pytest -q "$@"
