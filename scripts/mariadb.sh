#!/usr/bin/env bash
# A private MariaDB server for local runs and tests: its own datadir, its own
# port on 127.0.0.1, started and stopped by us, never the machine's service.
#
#   scripts/mariadb.sh start DIR [PORT]   init DIR if new, start, create the
#                                         `authd` database and its two accounts,
#                                         write DIR/env (sourceable MYSQL_* lines)
#   scripts/mariadb.sh stop DIR           stop the server started in DIR
#   scripts/mariadb.sh wipe DIR           stop and delete DIR
#
# Two accounts, as in production: `authd_migrate` may change the schema,
# `authd` (the server's) has data rights only (no DDL). Their passwords are
# generated once and kept in DIR/env (mode 600).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/db-accounts.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/db-accounts.sh"

cmd=${1:?usage: mariadb.sh start|stop|wipe DIR [PORT]}
dir=${2:?usage: mariadb.sh start|stop|wipe DIR [PORT]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"
sock="$dir/mysqld.sock"
pidf="$dir/mysqld.pid"
log="$dir/mysqld.log"

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

running() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }

stop() {
  if running; then
    local pid
    pid=$(cat "$pidf")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
}

start() {
  local port=${1:-}
  if running; then
    echo "mariadb.sh: already running in $dir" >&2
    return 0
  fi
  if [ -z "$port" ]; then
    if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(free_port); fi
  fi
  echo "$port" >"$dir/port"
  if [ ! -d "$data/mysql" ]; then
    echo "mariadb.sh: initialising a private database in $data" >&2
    mariadb-install-db --no-defaults --datadir="$data" --auth-root-authentication-method=socket \
      --skip-test-db --user="$(id -un)" >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
  fi
  # --no-defaults: nothing from /etc/mysql leaks in. Small buffers: this is a
  # private server for one application.
  mariadbd --no-defaults --datadir="$data" --socket="$sock" --pid-file="$pidf" \
    --port="$port" --bind-address=127.0.0.1 --user="$(id -un)" \
    --log-error="$log" --innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
    --max-connections=200 --skip-name-resolve --character-set-server=utf8mb4 \
    --default-time-zone=+00:00 --max-allowed-packet=4M >/dev/null 2>&1 &
  for _ in $(seq 1 300); do
    if mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 ||
    { echo "mariadb.sh: server did not start; see $log" >&2; tail -20 "$log" >&2; exit 1; }

  write_db_env "$dir/env"
  # shellcheck disable=SC1091
  . "$dir/env"
  db_accounts_sql | mariadb --no-defaults --socket="$sock" -uroot
  # The port may change between runs; keep it out of the stable env file.
  (umask 077; { cat "$dir/env"; echo "MYSQL_HOST=127.0.0.1"; echo "MYSQL_PORT=$port"; } >"$dir/env.run")
  echo "mariadb.sh: ready on 127.0.0.1:$port (env in $dir/env.run)" >&2
}

case "$cmd" in
  start) start "${3:-}" ;;
  stop) stop ;;
  wipe) stop; rm -rf "$dir" ;;
  *) echo "usage: mariadb.sh start|stop|wipe DIR [PORT]" >&2; exit 2 ;;
esac
