#!/usr/bin/env bash
# `make cluster-test`: the server on a MariaDB Galera cluster, loopback only,
# bounded in time (about 6 minutes here). tests/cluster/ starts three Galera
# nodes as local processes (scripts/galera.sh), two worker pools ("hosts",
# TCP FastCGI, both preferring node 1: one writer node) behind one nginx, a
# pool preferring node 2 for the races across nodes, an ES256 pool on node 3
# (the e2e suite's second door) and two mailers on nodes 1 and 2; then runs
#   1. the e2e suite through that nginx (one pass, over HTTP, the TLS door too),
#   2. read-your-writes across nodes,
#   3. the races across nodes (refresh, throttle, sign-up, TOTP, outbox),
#   4. the faults: node 1 SIGKILLed under mixed load and restarted (IST), a
#      pool SIGKILLed, with the invariants printed,
#   5. the figures of README "Running on several machines".
#
#   scripts/cluster-test.sh [PYTEST_ARGS...]
#
# BUILD_DIR [build] (or AUTHD_BIN) names the server; CLUSTER_KEEP=1 keeps the
# temp dir (logs, data) afterwards; CLUSTER_E2E_ARGS passes arguments to the
# e2e suite's pytest (e.g. "-k login").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-build}
for bin in authd fcgi_ceiling causal_reads; do
  [[ -x $root/$BUILD_DIR/$bin ]] || { echo "cluster-test: no $BUILD_DIR/$bin (make build)" >&2; exit 1; }
done
command -v galera_new_cluster >/dev/null && [[ -e /usr/lib/galera/libgalera_smm.so ]] ||
  { echo "cluster-test: galera-4 is not installed (scripts/install-deps.sh)" >&2; exit 1; }
# The docs nginx serves (Swagger UI from node_modules).
"$root/scripts/npm-deps.sh" >/dev/null
# The stack's own databases only: nothing of the caller's MYSQL_* may leak in.
unset MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASSWORD MYSQL_DB MYSQL_MIGRATE_USER \
  MYSQL_MIGRATE_PASSWORD MYSQL_TCP_PORT MYSQL_PWD
cd "$root/tests/cluster"
started=$(date +%s)
status=0
/usr/bin/python3 -m pytest -q "$@" || status=$?
echo "cluster-test: $(($(date +%s) - started)) s, exit $status" >&2
exit "$status"
