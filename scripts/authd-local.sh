#!/usr/bin/env bash
# Runs an `authd` subcommand with the environment of the local stack:
#   scripts/authd-local.sh migrate                    (`make migrate`)
#   scripts/authd-local.sh user disable ann@example.com  (`make user ARGS="disable ann@example.com"`)
#   scripts/authd-local.sh admin-key list             (`make admin-key ARGS="list"`)
# With MYSQL_HOST set: against that server (MYSQL_* and MYSQL_MIGRATE_*).
# Without: against the private database of `make run` (var/mysql), started
# for the occasion if it is not running, and stopped again afterwards.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build}
authd=${AUTHD_BIN:-$root/$BUILD_DIR/authd}
[[ -x $authd ]] || { echo "authd-local.sh: no authd at $authd (make build)" >&2; exit 1; }
[[ $# -gt 0 ]] || { echo "usage: scripts/authd-local.sh <authd subcommand> [args]" >&2; exit 2; }

started=""
if [[ -z ${MYSQL_HOST:-} ]]; then
  db="$root/var/mysql"
  if ! [[ -f $db/mysqld.pid ]] || ! kill -0 "$(cat "$db/mysqld.pid")" 2>/dev/null; then
    started=1
    trap 'scripts/mariadb.sh stop "$db"' EXIT
  fi
  scripts/mariadb.sh start "$db"
  set -a
  # shellcheck disable=SC1091
  . "$db/env.run"
  set +a
fi
status=0
"$authd" "$@" || status=$?
[[ -z $started ]] || echo "authd-local.sh: stopping the private database again" >&2
exit $status
