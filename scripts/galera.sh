#!/usr/bin/env bash
# A private MariaDB Galera cluster of local processes: each node its own
# datadir, SQL port, replication ports and socket on 127.0.0.1, started and
# stopped by us, never the machine's service. For `make cluster-test` and for
# trying the server against a cluster by hand.
#
#   scripts/galera.sh start DIR [NODES]   init and start NODES [3] nodes (the first
#                                         bootstraps the cluster), create the `authd`
#                                         database and its two accounts, write DIR/env
#                                         (MYSQL_HOST lists every node, the first
#                                         preferred) and DIR/nodeK/port
#   scripts/galera.sh kill DIR K          SIGKILL node K (a crash: no clean leave)
#   scripts/galera.sh stop-node DIR K     stop node K cleanly (SIGTERM)
#   scripts/galera.sh start-node DIR K    start node K again: it rejoins (IST when
#                                         the others still hold what it missed)
#   scripts/galera.sh wait-synced DIR K [SECONDS]   until node K says Synced [60]
#   scripts/galera.sh sql DIR K SQL       run SQL as root on node K (tab-separated out)
#   scripts/galera.sh stop DIR            stop every node (the last one last)
#   scripts/galera.sh wipe DIR            stop and delete DIR
#
# Same two accounts as scripts/mariadb.sh: `authd_migrate` may change the
# schema, `authd` has data rights only. Ports: free ones picked at the first
# start and kept in DIR/nodeK/ports (SQL, Galera group, IST, SST).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/db-accounts.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/db-accounts.sh"

usage() { echo "usage: galera.sh start DIR [NODES] | kill|stop-node|start-node|wait-synced|sql DIR K ... | stop|wipe DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || usage
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
provider=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
# As root, the nodes run as `mysql`: rsync's SST daemon, started by root,
# would drop to `nobody` and could not write the joiner's datadir.
run_user=$(id -un)
if [[ $(id -u) == 0 ]] && id mysql >/dev/null 2>&1; then
  run_user=mysql
  chmod o+x "$dir"
  if ! runuser -u mysql -- test -x "$dir"; then
    echo "galera.sh: the nodes run as 'mysql', which cannot reach $dir (a parent directory is closed to it)" >&2
    exit 1
  fi
fi

# Four free ports in a row (SQL, group, IST = group + 1, SST), below the
# kernel's ephemeral range: a port the kernel may hand to an outgoing
# connection at any moment (Galera's own links among them) is no place for a
# listener that starts later, like the IST receiver of a rejoining node.
free_ports() {
  /usr/bin/python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    base = random.randrange(10000, low - 4)
    try:
        for p in range(base, base + 4):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            s.close()
    except OSError:
        continue
    print(base, base + 1, base + 3)
    break
PY
}

node_dir() { echo "$dir/node$1"; }
pid_of() { cat "$(node_dir "$1")/mysqld.pid" 2>/dev/null || true; }
running() { local p; p=$(pid_of "$1"); [[ -n $p ]] && kill -0 "$p" 2>/dev/null; }
nodes() { cat "$dir/nodes"; }
# SQL port, Galera group port (IST listens on it + 1), SST port
ports() { cat "$(node_dir "$1")/ports"; }
sql_port() { read -r p _ < <(ports "$1"); echo "$p"; }

root_sql() {  # K SQL
  mariadb --no-defaults --socket="$(node_dir "$1")/mysqld.sock" -uroot -N -B -e "$2"
}

cluster_address() {
  local k addr=""
  for k in $(seq 1 "$(nodes)"); do
    read -r _ g _ < <(ports "$k")
    addr+="${addr:+,}127.0.0.1:$g"
  done
  echo "gcomm://$addr"
}

start_node() {  # K [bootstrap]
  local k=$1 bootstrap=${2:-} nd sqlp gport sstp
  nd=$(node_dir "$k")
  if running "$k"; then return 0; fi
  read -r sqlp gport sstp < <(ports "$k")
  if [[ ! -d $nd/data/mysql ]]; then
    mariadb-install-db --no-defaults --datadir="$nd/data" --auth-root-authentication-method=socket \
      --skip-test-db --user="$run_user" >"$nd/install.log" 2>&1 ||
      { cat "$nd/install.log" >&2; exit 1; }
  fi
  [[ $run_user == "$(id -un)" ]] || chown -R "$run_user" "$nd"
  local extra=()
  [[ -n $bootstrap ]] && extra+=(--wsrep-new-cluster)
  # Small buffers and short failure detection: a test cluster on one
  # machine. gcache keeps enough writes for a restarted node to catch up by
  # IST (no full copy). The SST port is ours (4444 would collide).
  mariadbd --no-defaults --datadir="$nd/data" --socket="$nd/mysqld.sock" --pid-file="$nd/mysqld.pid" \
    --port="$sqlp" --bind-address=127.0.0.1 --user="$run_user" --log-error="$nd/mysqld.log" \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M --max-connections=300 \
    --skip-name-resolve --character-set-server=utf8mb4 --default-time-zone=+00:00 \
    --max-allowed-packet=4M --binlog-format=ROW --innodb-autoinc-lock-mode=2 \
    --innodb-flush-log-at-trx-commit=2 \
    --wsrep-on=ON --wsrep-provider="$provider" --wsrep-cluster-name=authd-test \
    --wsrep-cluster-address="$(cluster_address)" --wsrep-node-name="node$k" \
    --wsrep-node-address="127.0.0.1:$gport" --wsrep-sst-method=rsync \
    --wsrep-sst-receive-address="127.0.0.1:$sstp" \
    --wsrep-provider-options="base_host=127.0.0.1;base_port=$gport;ist.recv_addr=127.0.0.1:$((gport + 1));gcache.size=128M;${GALERA_EXTRA_OPTIONS:-}" \
    "${extra[@]}" >/dev/null 2>&1 &
}

wait_synced() {  # K SECONDS
  local k=$1 secs=${2:-60} state
  for _ in $(seq 1 $((secs * 10))); do
    state=$(root_sql "$k" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT'" 2>/dev/null || true)
    [[ $state == Synced ]] && return 0
    sleep 0.1
  done
  echo "galera.sh: node $k is not Synced after ${secs} s (state '${state:-down}'); see $(node_dir "$k")/mysqld.log" >&2
  tail -n 20 "$(node_dir "$k")/mysqld.log" >&2 || true
  return 1
}

stop_node() {  # K SIGNAL
  local k=$1 sig=$2 p
  p=$(pid_of "$k")
  [[ -n $p ]] || return 0
  kill "-$sig" "$p" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  rm -f "$(node_dir "$k")/mysqld.pid"
}

start_cluster() {
  local n=${1:-3} k
  if [[ -f $dir/nodes ]]; then
    n=$(nodes)
  else
    echo "$n" >"$dir/nodes"
  fi
  for k in $(seq 1 "$n"); do
    mkdir -p "$(node_dir "$k")"
    [[ -f $(node_dir "$k")/ports ]] || free_ports >"$(node_dir "$k")/ports"
  done
  # The first node bootstraps a new cluster; the others join it one by one
  # (each by a full copy the first time, rsync).
  if [[ -f $dir/bootstrapped ]]; then
    # A cluster stopped whole: the node that stopped last holds everything.
    sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$(node_dir 1)/data/grastate.dat" 2>/dev/null || true
  fi
  start_node 1 bootstrap
  wait_synced 1 60
  touch "$dir/bootstrapped"
  for k in $(seq 2 "$n"); do
    start_node "$k"
    wait_synced "$k" 120
  done

  write_db_env "$dir/env.base"
  # shellcheck disable=SC1091
  . "$dir/env.base"
  # Accounts replicate (DDL runs on every node in total order).
  db_accounts_sql | mariadb --no-defaults --socket="$(node_dir 1)/mysqld.sock" -uroot
  local hosts=""
  for k in $(seq 1 "$n"); do hosts+="${hosts:+,}127.0.0.1:$(sql_port "$k")"; done
  (umask 077; { cat "$dir/env.base"; echo "MYSQL_HOST=$hosts"; } >"$dir/env")
  echo "galera.sh: $n nodes Synced: $hosts (env in $dir/env)" >&2
}

case "$cmd" in
  start) start_cluster "${3:-3}" ;;
  kill) stop_node "${3:?node number}" KILL ;;
  stop-node) stop_node "${3:?node number}" TERM ;;
  start-node) start_node "${3:?node number}" ;;
  wait-synced) wait_synced "${3:?node number}" "${4:-60}" ;;
  sql) root_sql "${3:?node number}" "${4:?SQL}" ;;
  stop)
    if [[ -f $dir/nodes ]]; then
      # The first node last: it is the one that bootstraps the next start.
      for k in $(seq "$(nodes)" -1 1); do stop_node "$k" TERM; done
    fi
    ;;
  wipe)
    if [[ -f $dir/nodes ]]; then
      for k in $(seq "$(nodes)" -1 1); do stop_node "$k" KILL; done
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
