#!/bin/bash
# Entrypoint of the Galera node image: the MariaDB stand-in's (sourced for its
# functions: server arguments, first-start initialisation, certificates) plus
# the wsrep settings, from the environment:
#   GALERA_CLUSTER_ADDRESS  required: gcomm://galera1,galera2,galera3
#   GALERA_NODE_NAME        [the container's host name]
#   GALERA_BOOTSTRAP        yes on exactly one node (the first): on its first
#                           start it initialises the database (accounts from
#                           MYSQL_ROOT_PASSWORD and /docker-entrypoint-initdb.d)
#                           and starts a new cluster; later it starts a new
#                           cluster again only when no other node answers and
#                           it was the last to stop (grastate.dat says
#                           safe_to_bootstrap: 1), else it joins like the others
#   GALERA_CLUSTER_NAME     [authd]
#   GALERA_GCACHE_SIZE      [256M]: the writes kept for a node that comes back
#                           to catch up by IST instead of a full copy
# The other nodes start with an empty database and get everything (accounts,
# data, certificates) from a donor by SST (rsync), then stay in step.
set -eo pipefail
# shellcheck source=/dev/null
. /usr/local/bin/docker-entrypoint.sh

: "${GALERA_CLUSTER_ADDRESS:?GALERA_CLUSTER_ADDRESS must be set (gcomm://host1,host2,...)}"
node_name=${GALERA_NODE_NAME:-$(hostname)}
wsrep_args=(--wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so
  --wsrep-cluster-name="${GALERA_CLUSTER_NAME:-authd}"
  --wsrep-cluster-address="$GALERA_CLUSTER_ADDRESS" --wsrep-node-name="$node_name"
  --wsrep-sst-method=rsync --binlog-format=ROW --innodb-autoinc-lock-mode=2
  --wsrep-provider-options="gcache.size=${GALERA_GCACHE_SIZE:-256M}")

# Whether another node of the cluster answers on the group port.
peer_answers() {
  local peers=${GALERA_CLUSTER_ADDRESS#gcomm://} host
  IFS=',' read -r -a peers <<<"$peers"
  for host in "${peers[@]}"; do
    host=${host%%:*}
    [ "$host" = "$node_name" ] || [ "$host" = "$(hostname)" ] && continue
    if timeout 2 bash -c "exec 3<>/dev/tcp/$host/4567" 2>/dev/null; then return 0; fi
  done
  return 1
}

if [ "${1:-}" = mariadbd ] || [ "${1:-}" = mysqld ]; then
  shift
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld "$DATADIR"
  bootstrap=()
  if [ ! -d "$DATADIR/mysql" ]; then
    if [ "${GALERA_BOOTSTRAP:-no}" = yes ]; then
      init_database  # without wsrep: the joiners copy the result
      bootstrap=(--wsrep-new-cluster)
    else
      # Just enough for the server to start; the donor's copy replaces it.
      log "new node: its data comes from a donor (SST)"
      mariadb-install-db --no-defaults --user=mysql --datadir="$DATADIR" \
        --auth-root-authentication-method=socket --skip-test-db >/dev/null
      make_certs
    fi
  elif [ "${GALERA_BOOTSTRAP:-no}" = yes ] && grep -q '^safe_to_bootstrap: 1' "$DATADIR/grastate.dat" 2>/dev/null &&
    ! peer_answers; then
    log "no other node answers and this one stopped last: starting the cluster again"
    bootstrap=(--wsrep-new-cluster)
  fi
  log "starting Galera node $node_name (${bootstrap[*]:-joining} $GALERA_CLUSTER_ADDRESS)"
  exec mariadbd "${server_args[@]}" --bind-address=0.0.0.0 --port=3306 "${wsrep_args[@]}" \
    "${bootstrap[@]}" "$@"
fi
exec "$@"
