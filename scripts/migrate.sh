#!/usr/bin/env bash
# `make migrate`: applies pending migrations with `authd migrate`.
# With MYSQL_HOST set: against that server (MYSQL_* and MYSQL_MIGRATE_*).
# Without: against the private database of `make run` (var/mysql), started
# for the occasion if it is not running, and stopped again afterwards.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build}
authd=${AUTHD_BIN:-$root/$BUILD_DIR/authd}
[[ -x $authd ]] || { echo "migrate.sh: no authd at $authd (make build)" >&2; exit 1; }

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
"$authd" migrate
[[ -z $started ]] || echo "migrate.sh: stopping the private database again" >&2
