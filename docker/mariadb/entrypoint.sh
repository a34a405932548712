#!/bin/bash
# Entrypoint of the MariaDB stand-in: the parts of the official mysql image's
# entrypoint this project relies on. First start (empty /var/lib/mysql):
# initialise, make TLS certificates, set the root password, create
# MYSQL_DATABASE (and MYSQL_USER if given), run /docker-entrypoint-initdb.d/*
# against a server that listens on its socket only, stop it. Every start:
# exec mariadbd on 0.0.0.0:3306 with TLS, in the foreground, as `mysql`.
set -eo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

log() { echo "$(date -u +%FT%TZ) [Entrypoint]: $*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# What the server always runs with. --no-defaults: Debian's /etc/mysql files
# (bind-address=127.0.0.1 among them) do not apply; the error log is stderr.
server_args=(--no-defaults --user=mysql --datadir="$DATADIR" --socket="$SOCKET"
  --pid-file=/run/mysqld/mysqld.pid --character-set-server=utf8mb4
  --collation-server=utf8mb4_bin --skip-name-resolve --default-time-zone=+00:00
  --innodb-buffer-pool-size="${MARIADB_INNODB_BUFFER_POOL_SIZE:-128M}"
  --ssl-ca="$DATADIR/ca.pem" --ssl-cert="$DATADIR/server-cert.pem"
  --ssl-key="$DATADIR/server-key.pem")

# As in the official image: SQL on the local socket as root, in
# MYSQL_DATABASE when it is set. The root password is read from a client
# option file, never put on a command line.
docker_process_sql() {
  local db_arg=()
  [ -n "${MYSQL_DATABASE:-}" ] && [ "${_db_ready:-}" = 1 ] && db_arg=(--database="$MYSQL_DATABASE")
  mariadb --defaults-file=/run/mysqld/root.cnf "${db_arg[@]}" "$@"
}

# Quote a value as an SQL string literal.
docker_sql_escape_string_literal() {
  local s=${1//\\/\\\\}
  printf '%s' "${s//\'/\'\'}"
}

docker_process_init_files() {
  local f
  for f in "$@"; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then log "running $f"; "$f"
        else
          log "sourcing $f"
          # shellcheck source=/dev/null
          . "$f"
        fi ;;
      *.sql) log "running $f"; docker_process_sql <"$f" ;;
      *) log "ignoring $f" ;;
    esac
  done
}

make_certs() {
  # Like MySQL 8.4's auto_generate_certs: a private CA and a server
  # certificate in the datadir. Clients get an encrypted connection; they can
  # verify it only with this ca.pem.
  local d=$DATADIR
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=authd MariaDB stand-in CA" \
    -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=${HOSTNAME:-db}" \
    -keyout "$d/server-key.pem" -out "$d/server-req.pem" 2>/dev/null
  openssl x509 -req -in "$d/server-req.pem" -days 3650 -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
    -set_serial 01 -out "$d/server-cert.pem" 2>/dev/null
  rm -f "$d/server-req.pem"
  chown mysql:mysql "$d"/*.pem
  chmod 600 "$d"/*-key.pem
  chmod 644 "$d/ca.pem" "$d/server-cert.pem"
}

init_database() {
  [ -n "${MYSQL_ROOT_PASSWORD:-}" ] || die "the database is uninitialised and MYSQL_ROOT_PASSWORD is not set"
  log "initialising the database in $DATADIR"
  mariadb-install-db --no-defaults --user=mysql --datadir="$DATADIR" \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null
  make_certs

  log "starting a temporary server (socket only)"
  mariadbd "${server_args[@]}" --skip-networking &
  local pid=$!
  (umask 077; printf '[client]\nuser=root\nsocket=%s\n' "$SOCKET" >/run/mysqld/root.cnf)
  local _
  for _ in $(seq 1 60); do
    docker_process_sql -e 'SELECT 1' >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "the temporary server exited"
    sleep 0.5
  done
  docker_process_sql -e 'SELECT 1' >/dev/null || die "the temporary server did not come up"

  local rootpw
  rootpw=$(docker_sql_escape_string_literal "$MYSQL_ROOT_PASSWORD")
  docker_process_sql <<SQL
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
ALTER USER 'root'@'localhost' IDENTIFIED BY '$rootpw';
DROP DATABASE IF EXISTS test;
FLUSH PRIVILEGES;
SQL
  (umask 077; printf '[client]\nuser=root\nsocket=%s\npassword="%s"\n' "$SOCKET" \
    "$(printf '%s' "$MYSQL_ROOT_PASSWORD" | sed 's/\\/\\\\/g; s/"/\\"/g')" >/run/mysqld/root.cnf)

  if [ -n "${MYSQL_DATABASE:-}" ]; then
    log "creating database $MYSQL_DATABASE"
    docker_process_sql -e "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`"
  fi
  _db_ready=1
  if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
    log "creating user $MYSQL_USER"
    local grant=""
    [ -n "${MYSQL_DATABASE:-}" ] && grant="GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"
    docker_process_sql --database=mysql <<SQL
CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$(docker_sql_escape_string_literal "$MYSQL_PASSWORD")';
$grant
SQL
  fi

  shopt -s nullglob
  docker_process_init_files /docker-entrypoint-initdb.d/*
  shopt -u nullglob

  log "stopping the temporary server"
  kill "$pid"
  wait "$pid" || die "the temporary server did not stop cleanly"
  rm -f /run/mysqld/root.cnf
  log "initialisation done"
}

# Sourced by the Galera node image's entrypoint (docker/galera) for the
# functions above: the part below runs only when this file is the entrypoint.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

if [ "${1:-}" = mariadbd ] || [ "${1:-}" = mysqld ]; then
  shift
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld "$DATADIR"
  [ -d "$DATADIR/mysql" ] || init_database
  log "starting mariadbd on port 3306"
  exec mariadbd "${server_args[@]}" --bind-address=0.0.0.0 --port=3306 "$@"
fi
exec "$@"
