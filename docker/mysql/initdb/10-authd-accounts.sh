# shellcheck shell=bash
# Sourced (not executed: keep this file non-executable) by the database
# image's entrypoint on first start, with the server on its local socket and
# docker_process_sql defined: the official mysql:8.4 image and the MariaDB
# stand-in (docker/mariadb) both do so.
#
# Two accounts, as in production:
#   AUTHD_MIGRATE_USER  all rights on the authd database (DDL): `authd migrate`
#   AUTHD_DB_USER       SELECT, INSERT, UPDATE, DELETE only: `authd serve`
# Both must connect with TLS (MySQL 8.4's caching_sha2_password needs it for
# full authentication anyway).

authd_die() { echo "10-authd-accounts.sh: $*" >&2; return 1; }

# Run rather than sourced (the file shows as executable on some hosts, e.g.
# Docker Desktop bind mounts): no docker_process_sql from the entrypoint, so
# talk to the init server on its default socket as root ourselves.
if ! declare -F docker_process_sql >/dev/null; then
  docker_process_sql() {
    MYSQL_PWD=$MYSQL_ROOT_PASSWORD mysql --protocol=socket -uroot "$@"
  }
fi

authd_db=${MYSQL_DATABASE:-authd}
authd_app_user=${AUTHD_DB_USER:-authd}
authd_mig_user=${AUTHD_MIGRATE_USER:-authd_migrate}
: "${AUTHD_DB_PASSWORD:?AUTHD_DB_PASSWORD must be set for the db service}"
: "${AUTHD_MIGRATE_PASSWORD:?AUTHD_MIGRATE_PASSWORD must be set for the db service}"
for authd_name in "$authd_db" "$authd_app_user" "$authd_mig_user"; do
  [[ $authd_name =~ ^[A-Za-z0-9_]{1,32}$ ]] ||
    authd_die "names must be 1-32 of [A-Za-z0-9_]: '$authd_name'"
done
[ "$authd_app_user" != "$authd_mig_user" ] ||
  authd_die "AUTHD_DB_USER and AUTHD_MIGRATE_USER must differ"

# An SQL string literal: backslashes and quotes escaped.
authd_sql_str() {
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\'\'}"
}

echo "10-authd-accounts.sh: database $authd_db, accounts $authd_mig_user (DDL) and $authd_app_user (data only)"
docker_process_sql --database=mysql <<SQL
CREATE DATABASE IF NOT EXISTS \`$authd_db\`;
ALTER DATABASE \`$authd_db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$authd_mig_user'@'%'
  IDENTIFIED BY $(authd_sql_str "$AUTHD_MIGRATE_PASSWORD") REQUIRE SSL;
CREATE USER IF NOT EXISTS '$authd_app_user'@'%'
  IDENTIFIED BY $(authd_sql_str "$AUTHD_DB_PASSWORD") REQUIRE SSL;
GRANT ALL PRIVILEGES ON \`$authd_db\`.* TO '$authd_mig_user'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$authd_db\`.* TO '$authd_app_user'@'%';
FLUSH PRIVILEGES;
SQL
unset authd_db authd_app_user authd_mig_user authd_name
