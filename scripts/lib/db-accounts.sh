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
