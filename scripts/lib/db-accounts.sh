# shellcheck shell=bash
# Sourced by scripts/mariadb.sh and scripts/galera.sh: the database's two
# accounts, as in production. `authd_migrate` may change the schema, `authd`
# (the server's) has data rights only. Their passwords are generated once
# (144 random bits each) and kept in FILE (mode 600), sourceable MYSQL_* lines.

# write_db_env FILE: writes FILE unless it exists (a restart keeps them).
write_db_env() {
  local file=$1 app_pw mig_pw
  [[ -f $file ]] && return 0
  app_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  mig_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  (umask 077; cat >"$file" <<ENV
MYSQL_DB=authd
MYSQL_USER=authd
MYSQL_PASSWORD=$app_pw
MYSQL_MIGRATE_USER=authd_migrate
MYSQL_MIGRATE_PASSWORD=$mig_pw
ENV
  )
}

# db_accounts_sql: the SQL that makes the database and the two accounts
# (from the sourced env file's MYSQL_* values), for the root client's
# standard input: on a command line (-e) the passwords would show in `ps`.
db_accounts_sql() {
  cat <<SQL
CREATE DATABASE IF NOT EXISTS \`$MYSQL_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$MYSQL_MIGRATE_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_MIGRATE_PASSWORD';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
GRANT ALL PRIVILEGES ON \`$MYSQL_DB\`.* TO '$MYSQL_MIGRATE_USER'@'127.0.0.1';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$MYSQL_DB\`.* TO '$MYSQL_USER'@'127.0.0.1';
SQL
}
