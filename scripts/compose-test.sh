#!/usr/bin/env bash
# The container stack test (`make compose-test`): builds the worker, nginx
# (and, under podman, the MariaDB stand-in) images, brings docker-compose.yml
# up with 3 worker replicas, runs the end-to-end suite through the compose
# nginx, shows that every replica served requests, scales to 4 while running
# and shows the new replica getting traffic without restarting nginx, then
# tears everything down (volumes included). Then the cluster file,
# docker-compose.cluster.yml (scripts/compose-cluster-test.sh): three Galera
# nodes of our own image, two worker hosts, one nginx; a sign-up, a login and
# a token check through each worker host, and a node stopped and started
# again under load with no failed request outside the documented window.
#
#   scripts/compose-test.sh
#
# Engine: a real Docker engine when `docker info` works (database: the
# official mysql:8.4 image); otherwise podman, set up here (root needed):
# Debian's podman, runc, docker-compose and debootstrap are installed when
# missing, podman runs with this project's docker/podman/containers.conf
# (CONTAINERS_CONF; /etc/containers is never edited) and serves the Docker API
# on a socket under the work directory for docker-compose 1.29, the
# debian:bookworm-slim base image is made with debootstrap when podman's store
# does not have it yet (kept for later runs), and the database is the MariaDB
# stand-in (docker-compose.podman.yml). Neither engine usable: the test FAILS.
#
# Knobs: COMPOSE_TEST_DIR [build/compose-test], COMPOSE_TEST_DB [mysql with
# Docker, mariadb with podman], COMPOSE_TEST_KEEP=1 (leave the stack up;
# tear it down later with the command it prints), E2E_ARGS (extra pytest args),
# COMPOSE_TEST_PARTS [single,cluster] (which stacks: the single-database one,
# the Galera one, or both).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=${COMPOSE_TEST_DIR:-$root/build/compose-test}
mkdir -p "$work"
work=$(cd "$work" && pwd)
project=authdcomposetest
py=/usr/bin/python3
plugin=/usr/lib/x86_64-linux-gnu/libmariadb3/plugin/caching_sha2_password.so
base_image=docker.io/library/debian:bookworm-slim
replicas=3

t_start=$SECONDS
step() { printf '\n==> [%4ds] %s\n' $((SECONDS - t_start)) "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
fail() { printf '\ncompose-test: FAIL: %s\n' "$*" >&2; exit 1; }

# What the summary prints; a check appends here only once it has passed.
summary=()
passed() { summary+=("PASS  $*"); info "ok: $*"; }
timings=()
timed() {  # LABEL CMD...: runs CMD, records its duration, returns its status
  local label=$1 t0=$SECONDS rc=0
  shift
  "$@" || rc=$?
  timings+=("$(printf '%-28s %4ds' "$label" $((SECONDS - t0)))")
  return "$rc"
}

podman_pid=""
ticker_pid=""
teardown_hooks=()  # more stacks' own teardown (scripts/compose-cluster-test.sh)
parts=${COMPOSE_TEST_PARTS:-single,cluster}
follower_pids=()
stack_started=""
engine=""
compose=()

cleanup() {
  local rc=$?
  trap '' INT TERM
  set +e
  if [[ -n $ticker_pid ]]; then kill "$ticker_pid" 2>/dev/null; wait "$ticker_pid" 2>/dev/null; fi
  for p in "${follower_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for hook in "${teardown_hooks[@]}"; do "$hook" "$rc" || rc=1; done
  if [[ -n $stack_started ]]; then
    if ((rc != 0)); then
      echo "----- compose ps" >&2
      "${compose[@]}" ps -a >&2 2>&1
      for s in db migrate worker nginx; do
        echo "----- last log lines of $s" >&2
        "${compose[@]}" logs --no-color --tail=25 "$s" >&2 2>&1
      done
    fi
    if [[ -n ${COMPOSE_TEST_KEEP:-} ]]; then
      echo "compose-test: stack left up (COMPOSE_TEST_KEEP); tear down with:" >&2
      echo "  ${compose_env_hint:-}${compose[*]} down -v --remove-orphans" >&2
    else
      step "tearing down (down -v)"
      "${compose[@]}" down -v --remove-orphans --timeout 20 >"$work/down.log" 2>&1 ||
        { cat "$work/down.log" >&2; rc=1; }
    fi
  fi
  if [[ -n $podman_pid && -z ${COMPOSE_TEST_KEEP:-} ]]; then
    kill "$podman_pid" 2>/dev/null
    wait "$podman_pid" 2>/dev/null
    rm -f "$work/podman.sock"
  fi
  if ((rc == 0)); then
    printf '\ncompose-test: PASSED in %ds\n' $((SECONDS - t_start)) >&2
  else
    printf '\ncompose-test: FAILED (exit %d) after %ds; files in %s\n' "$rc" $((SECONDS - t_start)) "$work" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- engine ----
setup_podman() {
  [[ $(id -u) == 0 ]] || fail "no Docker engine answers (docker info) and podman needs root here"
  local need=() p
  for p in podman runc docker-compose debootstrap; do
    command -v "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    step "installing ${need[*]} (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >"$work/apt.log" 2>&1 ||
      { apt-get update -q >>"$work/apt.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>"$work/apt.log" 2>&1; } ||
      { tail -20 "$work/apt.log" >&2; fail "could not install ${need[*]}"; }
  fi
  export CONTAINERS_CONF=$root/docker/podman/containers.conf
  podman info >"$work/podman-info.log" 2>&1 ||
    { tail -20 "$work/podman-info.log" >&2; fail "podman does not work (see $work/podman-info.log)"; }

  local sock=$work/podman.sock
  if ((${#sock} > 100)); then
    sock=$(mktemp -d /tmp/authd-podman.XXXXXX)/podman.sock
  fi
  rm -f "$sock"
  step "starting the podman API service on $sock"
  podman system service --time=0 "unix://$sock" >"$work/podman-service.log" 2>&1 &
  podman_pid=$!
  local i
  for i in $(seq 1 50); do
    [[ -S $sock ]] && curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break
    kill -0 "$podman_pid" 2>/dev/null || fail "podman system service exited (see $work/podman-service.log)"
    sleep 0.2
  done
  curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 ||
    fail "the podman API service does not answer on $sock"
  export DOCKER_HOST=unix://$sock
  compose_env_hint="CONTAINERS_CONF=$CONTAINERS_CONF DOCKER_HOST=$DOCKER_HOST "
  compose=(docker-compose)
  engine=podman
  passed "engine: podman $(podman version --format '{{.Client.Version}}') (runc, cgroupfs) via its Docker API, $(docker-compose version --short)"

  if podman image exists "$base_image"; then
    info "base image $base_image: already in podman's store (re-used)"
  else
    step "making $base_image with debootstrap (cached for later runs)"
    timed "base image (debootstrap)" "$root/docker/podman/make-base-image.sh" "$work/base" "$base_image"
  fi
  podman image exists "$base_image" || fail "no $base_image in podman's store"
}

if docker info >/dev/null 2>&1; then
  engine=docker
  if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
  command -v "${compose[0]}" >/dev/null || fail "a Docker engine answers but there is no docker compose"
  passed "engine: Docker $(docker version --format '{{.Server.Version}}'), $("${compose[@]}" version --short 2>/dev/null || echo compose)"
else
  step "no Docker engine answers (docker info): setting up podman"
  setup_podman
fi

db_kind=${COMPOSE_TEST_DB:-$([[ $engine == docker ]] && echo mysql || echo mariadb)}
files=(-f docker-compose.yml)
case $db_kind in
  mysql) ;;
  mariadb) files+=(-f docker-compose.podman.yml) ;;
  *) fail "COMPOSE_TEST_DB must be mysql or mariadb, got '$db_kind'" ;;
esac

# ------------------------------------------------------- secrets and env ----
step "generating throwaway secrets and ports in $work/env"
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }
http_port=$(free_port)
https_port=$(free_port)
db_port=$(free_port)
# nginx's certificate: a throwaway local CA and its localhost pair. The
# directory and the key are made readable to the nginx image's user (uid
# 33): they are this run's only.
"$root/scripts/local-tls.sh" "$work/tls" 2>/dev/null
chmod 755 "$work/tls"
chmod 644 "$work/tls/key.pem"
(
  umask 077
  cat >"$work/env" <<EOF
MYSQL_ROOT_PASSWORD=$(secret)
AUTHD_DB_PASSWORD=$(secret)
AUTHD_MIGRATE_PASSWORD=$(secret)
AUTHD_SECRET_KEY=$(secret)$(secret)
AUTHD_MFA_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64 -w0)
AUTHD_HTTP_BIND=127.0.0.1
AUTHD_HTTP_PORT=$http_port
AUTHD_HTTPS_BIND=127.0.0.1
AUTHD_HTTPS_PORT=$https_port
AUTHD_TLS_DIR=$work/tls
AUTHD_WORKER_IMAGE=authd-worker:compose-test
AUTHD_NGINX_IMAGE=authd-nginx:compose-test
AUTHD_DB_IMAGE=authd-mariadb-standin:compose-test
AUTHD_GALERA_IMAGE=authd-galera:compose-test
API_WORKERS=2
EOF
)
set -a
# shellcheck source=/dev/null
. "$work/env"
set +a
base_url=http://127.0.0.1:$http_port

# Test-only settings, in an override of their own so the shipped files stay
# as users get them: the database published on loopback for the suite to
# inspect tables, cheap Argon2 and no per-address rate limit (as the local
# e2e stack runs), debug logs.
# The suite reaches nginx through the engine's NAT: its address is the
# compose network's gateway (10.89.x.1 under podman, 172.x.0.1 under
# Docker), which the admin routes must let in for the suite to see them
# (outside ADMIN_ALLOW they are a 404, as they should be).
admin_allow="127.0.0.1/32,::1/128,10.0.0.0/8,172.16.0.0/12"
cat >"$work/compose.test.yml" <<EOF
services:
  db:
    ports: ["127.0.0.1:$db_port:3306"]
  worker:
    environment:
      LOGLEVEL: DEBUG
      ARGON2_MEMORY_KIB: "${E2E_ARGON2_MEMORY_KIB:-4096}"
      AUTHD_TEST_WEAK_ARGON2: "1"  # below OWASP's floor, for speed: test runs only
      WEBAUTHN_RP_ID: localhost
      WEBAUTHN_ORIGINS: "http://localhost:$http_port,https://localhost:$https_port"
      ADMIN_ALLOW: "$admin_allow"
  nginx:
    environment:
      IP_RATE_LIMIT: "${E2E_IP_RATE_LIMIT:-0}"
      ADMIN_ALLOW: "$admin_allow"
EOF
files+=(-f "$work/compose.test.yml")
compose_base=("${compose[@]}")
compose+=(-p "$project" --env-file "$work/env" "${files[@]}")
info "compose: ${compose[*]}"

# A stack left over by an interrupted run goes first.
"${compose[@]}" down -v --remove-orphans --timeout 5 >"$work/down-before.log" 2>&1 || true

# ------------------------------------------------------------------ build ----
step "building the images (${db_kind} database)"
# The nginx image copies Swagger UI from node_modules/ (Dockerfile.nginx).
scripts/npm-deps.sh >"$work/npm-deps.log" 2>&1 ||
  { cat "$work/npm-deps.log" >&2; fail "scripts/npm-deps.sh failed (the Swagger UI files)"; }
build_images() {
  local services=(worker nginx)
  [[ $db_kind == mariadb ]] && services=(db "${services[@]}")
  "${compose[@]}" build "${services[@]}" >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log" >&2; fail "image build failed (see $work/build.log)"; }
}
timed "image builds" build_images
passed "images built: worker, nginx$([[ $db_kind == mariadb ]] && echo ', MariaDB stand-in')"

step "checking the worker runtime image"
img_check=$("${compose[@]}" run --rm --no-deps -T --entrypoint sh worker -c "
  set -e
  test -f $plugin && echo plugin=yes || echo plugin=no
  echo uid=\$(id -u)
  if command -v cc gcc c++ g++ cmake >/dev/null 2>&1; then echo compiler=yes; else echo compiler=no; fi
  if ldd /usr/local/bin/authd | grep -q 'not found'; then echo libs=missing; else echo libs=ok; fi
" 2>"$work/image-check.err") || { cat "$work/image-check.err" >&2; fail "could not run the worker image"; }
info "$(echo "$img_check" | tr '\n' ' ')"
grep -qx 'plugin=yes' <<<"$img_check" || fail "the worker image lacks $plugin (MySQL 8.4 logins would fail)"
passed "worker image holds $plugin"
grep -qx 'libs=ok' <<<"$img_check" || fail "the worker image misses a shared library of authd"
grep -qx 'compiler=no' <<<"$img_check" || fail "the worker runtime image carries a compiler or cmake"
uid=$(sed -n 's/^uid=//p' <<<"$img_check")
[[ -n $uid && $uid != 0 ]] || fail "the worker image runs as root (uid '$uid')"
passed "worker image: all libraries resolve, no compiler, runs as uid $uid"

# The single-database stack (docker-compose.yml), unless COMPOSE_TEST_PARTS
# leaves it out. (Not indented: the block is the rest of this file's first part.)
if [[ $parts == *single* ]]; then
# ------------------------------------------------------------------- up -----
# podman schedules container health checks with systemd timers; without
# systemd (as here) nothing runs them and `service_healthy` would wait
# forever. This loop is that scheduler: it runs each container's own check.
start_health_ticker() {
  [[ $engine == podman ]] || return 0
  (
    trap 'exit 0' TERM
    while true; do
      for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null); do
        podman healthcheck run "$id" >/dev/null 2>&1 || true
      done
      sleep 3
    done
  ) &
  ticker_pid=$!
}

container_ids() {  # SERVICE: ids of its running containers, sorted
  "${compose[@]}" ps -q "$1" 2>/dev/null | sort
}
engine_cli() { if [[ $engine == podman ]]; then podman "$@"; else docker "$@"; fi; }
name_of() { engine_cli inspect -f '{{.Name}}' "$1" | sed 's|^/||'; }

step "bringing the stack up with $replicas worker replicas"
start_health_ticker
stack_started=1
bring_up() {
  timeout 420 "${compose[@]}" up -d --scale worker="$replicas" >"$work/up.log" 2>&1 ||
    { tail -30 "$work/up.log" >&2; fail "compose up failed (see $work/up.log)"; }
}
timed "compose up (3 workers)" bring_up

# The migration ran to completion with exit 0 (compose waited for it).
mig_id=$("${compose[@]}" ps -a -q migrate 2>/dev/null | head -1)
[[ -n $mig_id ]] || fail "no migrate container"
mig_exit=$(engine_cli inspect -f '{{.State.ExitCode}}' "$mig_id")
[[ $mig_exit == 0 ]] || fail "migrate exited with $mig_exit"
info "migrate said: $("${compose[@]}" logs --no-color migrate 2>/dev/null | grep -v '^Attaching' | tail -3 | tr '\n' ' ')"
passed "migrate ran to completion (exit 0) against the $db_kind database"

# The accounts the init script made, checked from inside the db container
# over TCP (the same path the workers take): TLS required for both, data
# rights only for the server's, DDL for the migrator's; and the schema is
# there. Passwords go through MYSQL_PWD, never a command line.
step "checking the database accounts and the schema"
db_sql() {  # USER PASSWORD TLS(yes|no) SQL: runs SQL in the container's client
  # shellcheck disable=SC2016  # expanded by the container's shell
  "${compose[@]}" exec -T -e MYSQL_PWD="$2" db sh -c '
    if mysql --version | grep -q MariaDB; then on=--ssl; off=--skip-ssl
    else on=--ssl-mode=REQUIRED; off=--ssl-mode=DISABLED; fi
    if [ "$1" = yes ]; then tls=$on; else tls=$off; fi
    exec mysql --protocol=TCP -h127.0.0.1 -u"$0" "$tls" -N -B -e "$2" "$3"
  ' "$1" "$3" "$4" "${AUTHD_DB_NAME:-authd}" 2>&1
}
out=$(db_sql authd "$AUTHD_DB_PASSWORD" yes "SHOW SESSION STATUS LIKE 'Ssl_cipher'") ||
  fail "the server's account cannot log in over TLS: $out"
cipher=$(awk '$1 == "Ssl_cipher" {print $2}' <<<"$out")
[[ -n $cipher ]] || fail "the server's account session is not encrypted: $out"
passed "server account logs in over TLS ($cipher)"
if out=$(db_sql authd "$AUTHD_DB_PASSWORD" no "SELECT 1"); then
  fail "the server's account logged in without TLS"
fi
passed "server account without TLS: refused ($(head -1 <<<"$out" | cut -c1-60)...)"
if out=$(db_sql authd "$AUTHD_DB_PASSWORD" yes "CREATE TABLE compose_test_ddl (i INT)"); then
  fail "the server's account may create tables"
fi
grep -q '1142' <<<"$out" || fail "CREATE TABLE as the server's account failed, but not for lack of rights: $out"
passed "server account has no DDL rights (CREATE TABLE: error 1142)"
out=$(db_sql authd_migrate "$AUTHD_MIGRATE_PASSWORD" yes \
  "CREATE TABLE compose_test_ddl (i INT); DROP TABLE compose_test_ddl; SELECT 'ddl-ok'") ||
  fail "the migration account cannot create and drop a table: $out"
passed "migration account has DDL rights on the database"
out=$(db_sql authd "$AUTHD_DB_PASSWORD" yes "SELECT COUNT(*) FROM schema_migrations") ||
  fail "no schema_migrations table after migrate: $out"
if ! [[ $out =~ ^[0-9]+$ ]] || ((out < 1)); then
  fail "schema_migrations holds no applied migration: $out"
fi
tables=$(db_sql authd "$AUTHD_DB_PASSWORD" yes "SHOW TABLES" | tr '\n' ' ')
passed "schema applied: $out migration(s) recorded; tables: $tables"

# The suite reads the tables (no cleartext secret in them) with pymysql and no
# TLS, which the real accounts refuse: a test-only SELECT account for it.
e2e_reader_pw=$(secret)
"${compose[@]}" exec -T -e MYSQL_PWD="$MYSQL_ROOT_PASSWORD" db mysql -uroot -e "
  CREATE USER 'e2e_reader'@'%' IDENTIFIED BY '$e2e_reader_pw';
  GRANT SELECT, UPDATE, DELETE ON \`${AUTHD_DB_NAME:-authd}\`.* TO 'e2e_reader'@'%';" >"$work/e2e-reader.log" 2>&1 ||
  { cat "$work/e2e-reader.log" >&2; fail "could not create the suite's read-only account"; }

mapfile -t workers < <(container_ids worker)
((${#workers[@]} == replicas)) || fail "expected $replicas worker containers, found ${#workers[@]}"

run_tag_mail="m$$x$RANDOM"
step "waiting for /health/ready through nginx at $base_url"
wait_ready() {
  local code="" deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    code=$(curl -s --max-time 5 -o "$work/ready.json" -w '%{http_code}' "$base_url/health/ready" || true)
    [[ $code == 200 ]] && return 0
    sleep 1
  done
  fail "/health/ready did not answer 200 within 120 s (last: '$code' $(cat "$work/ready.json" 2>/dev/null))"
}
timed "ready through nginx" wait_ready
passed "GET /health/ready through the compose nginx: 200 $(cat "$work/ready.json")"

# The images' own HEALTHCHECKs (worker: a FastCGI GET /health with cgi-fcgi;
# nginx: its port accepts) must come out healthy.
health_of() { engine_cli inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
wait_healthy() {
  local i id st bad
  for i in $(seq 1 40); do
    bad=""
    for id in $(container_ids worker) $(container_ids nginx); do
      st=$(health_of "$id")
      [[ $st == healthy ]] || bad+="$(name_of "$id")=$st "
    done
    [[ -z $bad ]] && return 0
    sleep 2
  done
  fail "containers not healthy after 80 s: $bad"
}
step "waiting for the containers' own health checks"
timed "health checks" wait_healthy
passed "every worker and the nginx container report healthy (their image HEALTHCHECKs)"

# HTTPS at the compose nginx, verified against this run's CA, with HSTS.
tls_url=https://localhost:$https_port
curl -fsS --cacert "$work/tls/ca.pem" -D "$work/tls.h" -o /dev/null "$tls_url/health/ready" ||
  fail "GET $tls_url/health/ready with certificate verification failed"
grep -qi '^strict-transport-security: max-age=63072000' "$work/tls.h" ||
  fail "no Strict-Transport-Security on the HTTPS answer"
passed "HTTPS through the compose nginx ($tls_url): certificate verified, HSTS sent"

# The mailer service: a registration's verification message reaches the
# mail-data volume (MAIL_MODE=file, the compose default).
mail_to="mailer-$run_tag_mail@example.com"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base_url/auth/register" \
  -H 'Content-Type: application/json' \
  -d "{\"email\":\"$mail_to\",\"password\":\"violet-Harbor-92-$run_tag_mail\"}")
[[ $code == 201 ]] || fail "POST /auth/register for the mailer check answered $code"
wait_mail() {
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    "${compose[@]}" exec -T mailer sh -c "grep -l -- 'To: $mail_to' /var/lib/authd/mail/*.eml" \
      >/dev/null 2>&1 && return 0
    sleep 1
  done
  fail "the mailer wrote no message to $mail_to within 60 s"
}
timed "mailer delivery" wait_mail
passed "mailer service: the verification message to $mail_to is in the mail-data volume"

# DNS as nginx sees it: the service name resolves to every replica.
dns_count() {
  "${compose[@]}" exec -T nginx getent ahostsv4 worker 2>/dev/null | awk '{print $1}' | sort -u | wc -l
}
n=$(dns_count)
((n == replicas)) || fail "'worker' resolves to $n addresses inside the nginx container, expected $replicas"
passed "'worker' resolves to $n addresses inside the nginx container"

# ---------------------------------------------------------------- e2e -------
run_tag="ct$$x$RANDOM"
if [[ -d e2e ]] && compgen -G 'e2e/test_*.py' >/dev/null; then
  step "running the e2e suite through the compose nginx"
  # The suite reads the logs as files of JSON lines: raw lines (no compose
  # prefix), written as they come (docker-compose is Python: unbuffered).
  PYTHONUNBUFFERED=1 "${compose[@]}" logs --no-color --no-log-prefix -f worker >"$work/worker.log" 2>&1 &
  follower_pids+=($!)
  PYTHONUNBUFFERED=1 "${compose[@]}" logs --no-color --no-log-prefix -f nginx >"$work/nginx.log" 2>&1 &
  follower_pids+=($!)
  read -r -a e2e_args <<<"${E2E_ARGS:-}"
  # The variables the local e2e stack (scripts/e2e-stack.sh) gives; the
  # commands drive this compose project. Tests marked single_pool (the
  # metrics of one pool, scraped from loopback) do not apply to replicas
  # behind a NAT: deselected, not skipped.
  run_suite() {
    E2E_BASE_URL=$base_url \
      E2E_MYSQL_HOST=127.0.0.1 E2E_MYSQL_PORT=$db_port E2E_MYSQL_USER=e2e_reader \
      E2E_MYSQL_PASSWORD=$e2e_reader_pw E2E_MYSQL_DB=${AUTHD_DB_NAME:-authd} \
      E2E_MYSQL_MIGRATE_PASSWORD=$AUTHD_MIGRATE_PASSWORD \
      E2E_SECRET_KEY=$AUTHD_SECRET_KEY E2E_MFA_ENCRYPTION_KEY=$AUTHD_MFA_ENCRYPTION_KEY \
      E2E_LOG_FILES="$work/worker.log:$work/nginx.log" \
      E2E_DB_STOP_CMD="${compose_env_hint:-}${compose[*]} stop db" \
      E2E_DB_START_CMD="${compose_env_hint:-}${compose[*]} start db" \
      E2E_WORKER_STOP_CMD="${compose_env_hint:-}${compose[*]} stop worker" \
      E2E_HTTP_URL=$base_url E2E_HTTPS_URL=$tls_url E2E_CA_BUNDLE="$work/tls/ca.pem" \
      E2E_WEBAUTHN_RP_ID=localhost \
      E2E_WEBAUTHN_ORIGINS="http://localhost:$http_port,https://localhost:$https_port" \
      "$py" -m pytest e2e/ -q -m "not single_pool" "${e2e_args[@]}" 2>&1 | tee "$work/e2e.log"
  }
  timed "e2e suite" run_suite || fail "the e2e suite failed (see $work/e2e.log)"
  # Tests that need what only the local e2e stack provides (a second pool
  # with ES256, a rate-limited nginx, the auth_request example, distinct
  # loopback client addresses) skip here with their reason: they are run by
  # `make test`. The skips are listed, never counted as passes.
  if tail -1 "$work/e2e.log" | grep -q 'skipped'; then
    info "skipped here (run by make test's own stack):"
    grep -E '^SKIPPED' "$work/e2e.log" | sed 's/^/    /' >&2 || true
  fi
  passed "e2e suite: $(tail -1 "$work/e2e.log")"
  # The suite may stop the workers (its last tests); the checks below need them.
  "${compose[@]}" up -d --no-deps --no-recreate --scale worker="$replicas" worker >>"$work/up.log" 2>&1
  wait_ready
else
  # TODO(e2e): the suite is not in this branch yet; until it is merged, this
  # smoke of the health endpoints stands in for it.
  step "smoke test through nginx (e2e/ not in this branch yet)"
  body=$(curl -fsS -D "$work/health.h" -H "X-Request-ID: $run_tag-smoke" "$base_url/health") ||
    fail "GET /health through nginx failed"
  grep -qi "^x-request-id: $run_tag-smoke" "$work/health.h" || fail "/health did not echo X-Request-ID"
  passed "GET /health: $body (X-Request-ID echoed)"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base_url/no/such/route")
  [[ $code == 404 ]] || fail "an unknown route answered $code, not 404"
  passed "unknown route: 404 from nginx"
fi

# ------------------------------------------------- requests per replica -----
# Each request carries an X-Request-ID of this run; each replica's request log
# lines carry it, so a container's log says which requests it served.
served_by() {  # CONTAINER_ID TAG: how many of the tagged requests it logged
  engine_cli logs "$1" 2>&1 | grep -c "\"request_id\": *\"$2-" || true
}
send() {  # TAG COUNT
  local i
  for i in $(seq 1 "$2"); do
    curl -fsS -o /dev/null -H "X-Request-ID: $1-$i" "$base_url/health" || fail "GET /health ($1-$i) failed"
  done
}

step "spreading requests over the $replicas replicas"
send "$run_tag-spread-1" 30
sleep 1
distinct=0
for id in "${workers[@]}"; do
  c=$(served_by "$id" "$run_tag-spread")
  info "$(name_of "$id"): $c of 30 requests"
  ((c > 0)) && distinct=$((distinct + 1))
done
((distinct >= replicas)) || fail "only $distinct of $replicas replicas served requests"
passed "$distinct distinct replicas served the 30 requests"

# -------------------------------------------------------------- scale 4 -----
step "scaling to $((replicas + 1)) workers while running (nginx untouched)"
nginx_id=$(container_ids nginx | head -1)
nginx_started=$(engine_cli inspect -f '{{.State.StartedAt}}' "$nginx_id")
scale_up() {
  timeout 180 "${compose[@]}" up -d --no-deps --no-recreate --scale worker=$((replicas + 1)) worker \
    >>"$work/up.log" 2>&1 || { tail -20 "$work/up.log" >&2; fail "scaling up failed"; }
}
timed "scale to 4" scale_up
mapfile -t workers4 < <(container_ids worker)
((${#workers4[@]} == replicas + 1)) || fail "expected $((replicas + 1)) workers, found ${#workers4[@]}"
new_id=$(comm -13 <(printf '%s\n' "${workers[@]}") <(printf '%s\n' "${workers4[@]}") | head -1)
[[ -n $new_id ]] || fail "no new worker container after scaling"
info "new replica: $(name_of "$new_id")"

got=0
for round in $(seq 1 45); do
  send "$run_tag-scale-$round" 8
  if (($(served_by "$new_id" "$run_tag-scale") > 0)); then got=1; break; fi
  sleep 1
done
((got)) || fail "the new replica got no traffic within 45 s"
for id in "${workers4[@]}"; do
  info "$(name_of "$id"): $(served_by "$id" "$run_tag-scale") requests since the scale-up"
done
[[ $(container_ids nginx | head -1) == "$nginx_id" ]] || fail "the nginx container changed"
[[ $(engine_cli inspect -f '{{.State.StartedAt}}' "$nginx_id") == "$nginx_started" ]] ||
  fail "nginx was restarted during the scale-up"
passed "the 4th replica got traffic after ${round} round(s) of 8 requests; nginx not restarted (started $nginx_started)"
n=$(dns_count)
((n == replicas + 1)) || fail "'worker' resolves to $n addresses after scaling, expected $((replicas + 1))"
passed "'worker' now resolves to $n addresses inside the nginx container"

# The Galera cluster stack needs the ports: this one goes first.
step "tearing down the single-database stack"
"${compose[@]}" down -v --remove-orphans --timeout 20 >"$work/down.log" 2>&1 ||
  { cat "$work/down.log" >&2; fail "could not tear the single-database stack down"; }
stack_started=""
fi  # the single-database stack

# -------------------------------------------------------- Galera cluster ----
if [[ $parts == *cluster* ]]; then
  # shellcheck source=scripts/compose-cluster-test.sh
  . "$root/scripts/compose-cluster-test.sh"
  cluster_stack_test
fi

# ---------------------------------------------------------------- summary ---
step "summary"
{
  echo "engine: $engine   database: $db_kind   replicas: $replicas -> $((replicas + 1))"
  printf '%s\n' "${summary[@]}"
  echo "timings:"
  printf '  %s\n' "${timings[@]}"
} | tee "$work/summary.txt" >&2
