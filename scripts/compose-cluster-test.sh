# shellcheck shell=bash
# The Galera part of `make compose-test`, sourced by scripts/compose-test.sh
# (which has set up the engine, the secrets in $work/env, the worker and
# nginx images, and the step/passed/fail/timed helpers): brings
# docker-compose.cluster.yml up (three nodes of docker/galera's image, two
# worker hosts, the mailer, one nginx) and checks
#   - the nodes form one cluster of three, and the workers write through galera1;
#   - a sign-up, a login and a token check through each worker host (their
#     logs show the requests; a token issued by one host checked by the other);
#   - galera1 stopped and started again under load (logins and token checks):
#     no failed request outside the documented window (CLUSTER_WINDOW_S after
#     the stop and after the start), the node back in the cluster and the
#     workers back on it within MYSQL_FAILBACK_S and a few seconds.
# Then tears the project down (volumes included) unless COMPOSE_TEST_KEEP.

# What README "Running on several machines" promises for a node stopped or
# started: requests may fail (503) for at most this long after either.
CLUSTER_WINDOW_S=10

cluster_project=authdclustertest
cluster_compose=()
cluster_started=""
cluster_ticker_pid=""

cluster_teardown() {  # RC (of the whole test)
  local rc=$1
  if [[ -n $cluster_ticker_pid ]]; then kill "$cluster_ticker_pid" 2>/dev/null; wait "$cluster_ticker_pid" 2>/dev/null; fi
  [[ -n $cluster_started ]] || return 0
  if ((rc != 0)); then
    echo "----- cluster: compose ps" >&2
    "${cluster_compose[@]}" ps -a >&2 2>&1
    for s in galera1 galera2 galera3 migrate worker-a worker-b nginx; do
      echo "----- cluster: last log lines of $s" >&2
      "${cluster_compose[@]}" logs --no-color --tail=20 "$s" >&2 2>&1
    done
  fi
  if [[ -n ${COMPOSE_TEST_KEEP:-} ]]; then
    echo "compose-test: cluster stack left up; tear down with:" >&2
    echo "  ${compose_env_hint:-}${cluster_compose[*]} down -v --remove-orphans" >&2
    return 0
  fi
  "${cluster_compose[@]}" down -v --remove-orphans --timeout 30 >"$work/cluster-down.log" 2>&1 ||
    { cat "$work/cluster-down.log" >&2; return 1; }
}

cluster_root_sql() {  # NODE SQL: as root inside the node's container
  "${cluster_compose[@]}" exec -T -e MYSQL_PWD="$MYSQL_ROOT_PASSWORD" "$1" \
    mariadb -uroot -N -B -e "$2" 2>/dev/null
}

cluster_status() {  # NODE VARIABLE
  cluster_root_sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | awk '{print $2}'
}

cluster_wait() {  # SECONDS WHAT CMD...: until CMD succeeds
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within $secs s"
    sleep 1
  done
}

cluster_size_is() { [[ $(cluster_status "$1" wsrep_cluster_size) == "$2" ]]; }
cluster_synced() { [[ $(cluster_status "$1" wsrep_local_state_comment) == Synced ]]; }
cluster_ready() {
  [[ $(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$cluster_url/health/ready") == 200 ]]
}
# The app account's connections on a node (the workers' and the mailer's).
cluster_app_connections() {
  cluster_root_sql "$1" "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${AUTHD_DB_USER:-authd}'"
}

seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cluster_stack_test() {
  # The published ports are the env file's: the single stack's, free again.
  cat >"$work/cluster.test.yml" <<EOF
services:
  worker-a:
    environment: {LOGLEVEL: DEBUG, ARGON2_MEMORY_KIB: "4096", AUTHD_TEST_WEAK_ARGON2: "1"}
  worker-b:
    environment: {LOGLEVEL: DEBUG, ARGON2_MEMORY_KIB: "4096", AUTHD_TEST_WEAK_ARGON2: "1"}
  galera1:
    environment: {MARIADB_INNODB_BUFFER_POOL_SIZE: 64M}
  galera2:
    environment: {MARIADB_INNODB_BUFFER_POOL_SIZE: 64M}
  galera3:
    environment: {MARIADB_INNODB_BUFFER_POOL_SIZE: 64M}
  nginx:
    environment: {IP_RATE_LIMIT: "0"}
EOF
  cluster_compose=("${compose_base[@]}" -p "$cluster_project" --env-file "$work/env"
    -f docker-compose.cluster.yml -f "$work/cluster.test.yml")
  teardown_hooks+=(cluster_teardown)
  cluster_url=http://127.0.0.1:$AUTHD_HTTP_PORT
  info "cluster compose: ${cluster_compose[*]}"
  "${cluster_compose[@]}" down -v --remove-orphans --timeout 5 >"$work/cluster-down-before.log" 2>&1 || true

  step "cluster: building the Galera node image (docker/galera)"
  build_galera() {
    "${cluster_compose[@]}" build galera1 >"$work/cluster-build.log" 2>&1 ||
      { tail -40 "$work/cluster-build.log" >&2; fail "Galera image build failed (see $work/cluster-build.log)"; }
  }
  timed "cluster: Galera image" build_galera
  passed "cluster: Galera node image built (Debian's mariadb-server and galera-4)"

  step "cluster: bringing docker-compose.cluster.yml up (3 nodes, 2 worker hosts)"
  if [[ $engine == podman ]]; then
    (
      trap 'exit 0' TERM
      while true; do
        for id in $(podman ps -q --filter "label=com.docker.compose.project=$cluster_project" 2>/dev/null); do
          podman healthcheck run "$id" >/dev/null 2>&1 || true
        done
        sleep 3
      done
    ) &
    cluster_ticker_pid=$!
  fi
  cluster_started=1
  cluster_up() {
    timeout 600 "${cluster_compose[@]}" up -d >"$work/cluster-up.log" 2>&1 ||
      { tail -30 "$work/cluster-up.log" >&2; fail "cluster compose up failed (see $work/cluster-up.log)"; }
  }
  timed "cluster: compose up" cluster_up
  cluster_wait 180 "three nodes in one cluster" cluster_size_is galera1 3
  local n
  for n in galera1 galera2 galera3; do cluster_wait 120 "$n Synced" cluster_synced "$n"; done
  passed "cluster: galera1, galera2, galera3 Synced, cluster size $(cluster_status galera2 wsrep_cluster_size)"
  cluster_wait 120 "ready through the cluster's nginx" cluster_ready
  passed "cluster: GET /health/ready through nginx: 200"

  # ------------------------------------------- each worker host, each use ----
  step "cluster: a sign-up, a login and a token check through each worker host"
  local tag="cl$$x$RANDOM" email password i token code
  password="violet-Harbor-92-$tag"
  local tokens=()
  # Sign-ups and logins share the hashing lane's round robin (each nginx
  # worker process its own): three of them per account (a sign-up, two
  # logins) so that neither kind keeps falling on the same host.
  for i in 1 2 3 4 5 6; do
    email="cluster-$tag-$i@example.com"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Request-ID: $tag-signup-$i" \
      -H 'Content-Type: application/json' -X POST "$cluster_url/auth/register" \
      -d "{\"email\":\"$email\",\"password\":\"$password\"}")
    [[ $code == 201 ]] || fail "cluster: sign-up $i answered $code"
    for n in a b; do
      token=$(curl -s -H "X-Request-ID: $tag-login-$i$n" -H 'Content-Type: application/json' \
        -X POST "$cluster_url/auth/login" -d "{\"email\":\"$email\",\"password\":\"$password\"}" |
        "$py" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
        fail "cluster: login $i$n gave no token"
    done
    tokens+=("$token")
  done
  # Each token checked several times: round robin puts checks of every token
  # on both hosts, whichever host issued it.
  for i in 1 2 3 4 5 6; do
    for n in 1 2 3; do
      code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Request-ID: $tag-verify-$i-$n" \
        -H "Authorization: Bearer ${tokens[$((i - 1))]}" "$cluster_url/auth/verify")
      [[ $code == 204 ]] || fail "cluster: token check $i/$n answered $code"
    done
  done
  local host kind count
  for host in worker-a worker-b; do
    for kind in signup login verify; do
      count=$("${cluster_compose[@]}" logs --no-color "$host" 2>&1 | grep -c "\"request_id\": *\"$tag-$kind-" || true)
      ((count > 0)) || fail "cluster: $host served no $kind request"
      info "$host: $count $kind request(s)"
    done
  done
  passed "cluster: sign-ups, logins and token checks served by both worker-a and worker-b (tokens good on either)"
  local on1
  on1=$(cluster_app_connections galera1)
  ((on1 > 0)) || fail "cluster: no worker connection on galera1"
  passed "cluster: the workers write through galera1 ($on1 app connections; galera2: $(cluster_app_connections galera2), galera3: $(cluster_app_connections galera3))"

  # ------------------------------------------------ a node stopped and back ----
  step "cluster: galera1 stopped and started again under load"
  cat >"$work/cluster-load.py" <<'PY'
import json, sys, threading, time, urllib.request, urllib.error
base, email, password, out, stop_file = sys.argv[1:6]
results = []
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body else None)
    if body:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    t = time.time()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    except OSError as e:
        status, data = 0, str(e).encode()
    results.append((t, time.time(), path, status))
    return status, data
def client():
    token = None
    while not __import__("os").path.exists(stop_file):
        status, data = call("POST", "/auth/login", {"email": email, "password": password})
        # A failed login leaves no token to check: the one of an earlier
        # login may have been ended since by the session cap (the three
        # clients share one account), and its 401 would be right.
        token = json.loads(data)["access_token"] if status == 200 else None
        if token:
            for _ in range(5):
                call("GET", "/auth/verify", token=token)
        time.sleep(0.02)
threads = [threading.Thread(target=client) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
json.dump(results, open(out, "w"))
PY
  rm -f "$work/cluster-load.stop"
  "$py" "$work/cluster-load.py" "$cluster_url" "cluster-$tag-1@example.com" "$password" \
    "$work/cluster-load.json" "$work/cluster-load.stop" &
  local load_pid=$! t_stop t_start t_synced t_back=""
  sleep 5
  t_stop=$(date +%s.%N)
  "${cluster_compose[@]}" stop -t 30 galera1 >>"$work/cluster-up.log" 2>&1 || fail "cluster: could not stop galera1"
  info "galera1 stopped; cluster size now $(cluster_status galera2 wsrep_cluster_size)"
  sleep 12
  t_start=$(date +%s.%N)
  "${cluster_compose[@]}" start galera1 >>"$work/cluster-up.log" 2>&1 || fail "cluster: could not start galera1"
  cluster_wait 180 "galera1 Synced again" cluster_synced galera1
  t_synced=$(date +%s.%N)
  local i_back
  for i_back in $(seq 1 40); do
    if (($(cluster_app_connections galera1) >= 4)); then t_back=$(date +%s.%N); break; fi
    sleep 0.5
  done
  sleep 5
  touch "$work/cluster-load.stop"
  wait "$load_pid" || fail "cluster: the load generator failed"
  local verdict
  verdict=$("$py" - "$work/cluster-load.json" "$t_stop" "$t_start" "$CLUSTER_WINDOW_S" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
t_stop, t_start, window = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
failed = [r for r in results if r[3] not in (200, 204)]
outside = [r for r in failed if not (t_stop <= r[0] <= t_stop + window or t_start <= r[0] <= t_start + window)]
codes = sorted({r[3] for r in failed})
print(f"{len(results)} requests, {len(failed)} failed (statuses {codes}), "
      f"{len(outside)} outside the window")
sys.exit(1 if outside or not results else 0)
PY
  ) || fail "cluster: $verdict"
  info "$verdict"
  passed "cluster: galera1 stopped and started under load: $verdict (window ${CLUSTER_WINDOW_S} s after each); Synced $(seconds_between "$t_start" "$t_synced") s after its start"
  [[ -n $t_back ]] || fail "cluster: the workers did not come back to galera1 within 20 s of it being Synced"
  passed "cluster: the workers back on galera1 $(seconds_between "$t_synced" "$t_back") s after it was Synced (MYSQL_FAILBACK_S=${MYSQL_FAILBACK_S:-5})"
  cluster_teardown 0 || fail "cluster: teardown failed"
  cluster_started=""
  teardown_hooks=()
  passed "cluster: torn down (volumes included)"
}
