#!/usr/bin/env bash
# A throwaway stack for the end-to-end tests, then the tests, then teardown.
#
#   scripts/e2e-stack.sh [PYTEST_ARGS...]        (`make e2e`, step 6 of `make test`)
#
# Everything is private to one run and removed afterwards: a MariaDB in a
# temp dir on a free port, `authd serve` (API_WORKERS=2, LOGLEVEL=DEBUG,
# Argon2 memory lowered for speed) on a unix socket, `authd mailer` (kept
# running by scripts/respawn.sh) sending to a capturing SMTP server on
# loopback (scripts/smtp-capture.py: STARTTLS and AUTH), nginx on two free
# ports (HTTP, and HTTPS with a certificate from a fresh local CA), fresh
# secrets. The suite runs twice: over HTTP, then over HTTPS with
# certificate verification on (what is marked `once` runs in the first
# pass only). The tests get:
#   E2E_BASE_URL          http://127.0.0.1:PORT, then https://localhost:PORT
#   E2E_HTTP_URL, E2E_HTTPS_URL, E2E_CA_BUNDLE   both doors and the CA
#   E2E_MAIL_DIR          the captured messages (NNN.eml + NNN.json)
#   E2E_SMTP_STOP_CMD / E2E_SMTP_START_CMD       take the SMTP server away and back
#   E2E_MAILER_PID_FILE   the running mailer's pid (kill it; it comes back)
#   E2E_MYSQL_HOST/PORT/USER/PASSWORD/DB   the app account, to inspect tables
#   E2E_LOG_FILES         worker and nginx logs, ':'-separated
#   E2E_SECRET_KEY        to forge tokens (expired, wrong algorithm, ...)
#   E2E_DB_STOP_CMD / E2E_DB_START_CMD     to take the database away and back
#   E2E_WORKER_STOP_CMD   to stop the pool (the last tests: nginx's 503)
#   E2E_AUTHD_BIN         the binary, for `authd user …` (with E2E_MYSQL_*)
#   E2E_AUTH_REQUEST_URL  nginx's auth_request example (nginx/auth-request-example.conf.template)
#   E2E_RATE_LIMITED_URL  a second nginx in front of the same pool with
#                         IP_RATE_LIMIT=$E2E_IP_RATE_LIMIT_TEST (per-address 429s)
#                         and ADMIN_ALLOW=127.0.0.0/8, wider than the pool's
#                         (loopback 127.0.0.1 only), so the worker's own check
#                         of the address shows
#   E2E_ES256_URL         a second pool on the same database, behind its own nginx:
#                         JWT_ALG=ES256 (key E2E_ES256_KEY_FILE, previous key
#                         E2E_ES256_PREVIOUS_KEY_FILE, both private PEMs: tests
#                         sign with the previous one), the default Argon2 cost
#                         (throttled answers must be visibly cheaper than a hash),
#                         REFRESH_REUSE_GRACE=$E2E_ES256_REFRESH_REUSE_GRACE, and
#                         TRUSTED_PROXIES=$E2E_TRUSTED_PROXY/32 (tests connect from
#                         that loopback address to act as a proxy)
#   E2E_ARTIFACT_DIR      where tests leave files to look at ($BUILD_DIR/e2e:
#                         the screenshot of /docs)
#   E2E_WEBAUTHN_RP_ID, E2E_WEBAUTHN_ORIGINS   the relying party the pools run
#                         with (localhost; http://localhost:PORT first, then
#                         https://localhost:PORT): the passkey tests' origin
# Knobs: BUILD_DIR [build], AUTHD_BIN [$BUILD_DIR/authd],
#   E2E_ARGON2_MEMORY_KIB [4096], E2E_IP_RATE_LIMIT [0], E2E_KEEP=1 keeps
#   the temp dir (logs) after the run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build}
authd=${AUTHD_BIN:-$root/$BUILD_DIR/authd}
py=/usr/bin/python3

say() { printf 'e2e-stack: %s\n' "$*" >&2; }
[[ -x $authd ]] || { say "no authd binary at $authd (make build)"; exit 1; }

tmp=$(mktemp -d /tmp/authd-e2e.XXXXXX)
chmod 700 "$tmp"
mkdir -p "$tmp/run" "$tmp/log"
authd_pid=""
mailer_pid=""
nginx_pid=""
es256_pid=""
es256_nginx_pid=""
limited_nginx_pid=""

stop_pid() {  # PID SIGNAL
  local pid=$1 sig=$2
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  kill -KILL -- "-$pid" 2>/dev/null || true  # stragglers of its process group
}

show_logs() {
  local f
  for f in "$tmp/log/worker.log" "$tmp/log/mailer.log" "$tmp/log/smtp.log" \
    "$tmp/log/nginx-error.log" "$tmp/log/worker-es256.log" "$tmp/log/nginx-es256-error.log" \
    "$tmp/log/nginx-limited-error.log" "$tmp/mysql/mysqld.log"; do
    [[ -s $f ]] || continue
    echo "----- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
}

cleanup() {
  local rc=$?
  trap '' INT TERM
  # In a subshell: if stderr is a pipe nobody reads any more (`| head`), the
  # write kills the subshell, not the cleanup.
  ((rc == 0)) || (show_logs) || true
  stop_pid "$nginx_pid" QUIT
  stop_pid "$limited_nginx_pid" QUIT
  stop_pid "$es256_nginx_pid" QUIT
  stop_pid "$mailer_pid" TERM
  stop_pid "$authd_pid" TERM
  stop_pid "$es256_pid" TERM
  if [[ -s $tmp/run/smtp.pid ]]; then kill -TERM "$(cat "$tmp/run/smtp.pid")" 2>/dev/null || true; fi
  "$root/scripts/mariadb.sh" stop "$tmp/mysql" >/dev/null 2>&1 || true
  if [[ -n ${E2E_KEEP:-} ]]; then
    (say "kept $tmp") || true
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Output piped into something that stopped reading (`| head`): still clean up,
# or the stack's processes (own sessions) would outlive the run.
trap 'exit 141' PIPE

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- database -------------------------------------------------------------------
# The stack's own database only: nothing of the caller's MYSQL_* may leak in
# (the mariadb clients that scripts/mariadb.sh runs read MYSQL_HOST too).
unset MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASSWORD MYSQL_DB MYSQL_MIGRATE_USER \
  MYSQL_MIGRATE_PASSWORD MYSQL_TCP_PORT MYSQL_PWD
db_port=$(free_port)
"$root/scripts/mariadb.sh" start "$tmp/mysql" "$db_port" >"$tmp/log/mariadb-start.log" 2>&1 ||
  { cat "$tmp/log/mariadb-start.log" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$tmp/mysql/env.run"
set +a

# --- secrets, settings --------------------------------------------------------
SECRET_KEY=$(openssl rand -base64 48 | tr -d '\n')
MFA_ENCRYPTION_KEY=$(openssl rand -base64 32 | tr -d '\n')
export SECRET_KEY MFA_ENCRYPTION_KEY
export API_WORKERS=2 LOGLEVEL=DEBUG
export ARGON2_MEMORY_KIB=${E2E_ARGON2_MEMORY_KIB:-4096}
# Below OWASP's floor on purpose (speed): authd refuses that unless told it
# is a test run (and says so loudly in its log).
export AUTHD_TEST_WEAK_ARGON2=1
export FCGI_LISTEN="$tmp/run/authd.sock"
# Settings the tests assume are the contract's defaults: make sure none
# leaks in from the caller's environment.
unset DEFAULT_TOKEN_EXPIRY JWT_ISSUER JWT_AUDIENCE JWT_ALG PASSWORD_MIN_LENGTH \
  PASSWORD_MIN_STRENGTH LOGIN_REVEAL_UNKNOWN_EMAIL REQUIRE_VERIFIED_EMAIL REFRESH_IDLE_TTL \
  REFRESH_ABSOLUTE_TTL PASSWORD_PEPPER TRUSTED_PROXIES
unset METRICS_ALLOW  # the default (loopback): the metrics tests rely on it
unset JWT_PRIVATE_KEY_FILE JWT_PREVIOUS_PUBLIC_KEY_FILE REFRESH_REUSE_GRACE REAUTH_MAX_AGE \
  MAX_SESSIONS_PER_USER LOGIN_FREE_FAILURES LOGIN_DELAY_BASE LOGIN_DELAY_MAX LOGIN_EMAIL_FAILURES \
  ARGON2_ITERATIONS MAX_PASSKEYS_PER_USER WEBAUTHN_RP_NAME

# ES256 keys of the second pool: the current one and the one it replaced.
mkdir -p "$tmp/keys"
for k in es256 es256-previous; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/keys/$k.pem" 2>/dev/null
done
openssl pkey -in "$tmp/keys/es256-previous.pem" -pubout -out "$tmp/keys/es256-previous.pub.pem"
chmod 600 "$tmp/keys"/*.pem

# --- TLS, mail ------------------------------------------------------------------
"$root/scripts/local-tls.sh" "$tmp/tls" 2>/dev/null
http_port=$(free_port)
https_port=$(free_port)
while [[ $https_port == "$http_port" ]]; do https_port=$(free_port); done
smtp_port=$(free_port)
smtp_user="authd-e2e"
smtp_password=$(openssl rand -hex 16)
mkdir -p "$tmp/mail"
smtp_start=("$py" "$root/scripts/smtp-capture.py" --port "$smtp_port" --dir "$tmp/mail"
  --tls-cert "$tmp/tls/cert.pem" --tls-key "$tmp/tls/key.pem"
  --auth-user "$smtp_user" --auth-password "$smtp_password"
  --pidfile "$tmp/run/smtp.pid" --daemon --log "$tmp/log/smtp.log")
"${smtp_start[@]}" || { say "the capturing SMTP server did not start"; exit 1; }
export MAIL_MODE=smtp SMTP_URL="smtp://127.0.0.1:$smtp_port" SMTP_USER=$smtp_user \
  SMTP_PASSWORD=$smtp_password SMTP_CA_FILE="$tmp/tls/ca.pem" \
  MAIL_FROM="authd e2e <noreply@authd.test>" PUBLIC_BASE_URL="https://localhost:$https_port"
# The mailer looks for work every 200 ms (1 s by default), so the tests wait less.
export MAIL_POLL_MS=200
unset MAIL_CAP_PER_HOUR VERIFY_TOKEN_TTL RESET_TOKEN_TTL MAIL_DIR

"$authd" migrate >"$tmp/log/migrate.log" 2>&1 || { cat "$tmp/log/migrate.log" >&2; exit 1; }

# Passkeys: the RP id localhost and both doors by that name, as `make run`
# has them (browsers allow WebAuthn over plain HTTP on localhost only).
export WEBAUTHN_RP_ID=localhost
export WEBAUTHN_ORIGINS="http://localhost:$http_port,https://localhost:$https_port"

# Own process groups (setsid): teardown kills whatever they leave behind.
setsid "$authd" serve 2>"$tmp/log/worker.log" &
authd_pid=$!
setsid "$root/scripts/respawn.sh" "authd mailer" "$tmp/run/mailer.pid" "$authd" mailer \
  2>"$tmp/log/mailer.log" &
mailer_pid=$!

# --- nginx --------------------------------------------------------------------
"$root/scripts/build-docs.sh" "$tmp/docs" >/dev/null
example_port=$(free_port)
example_upstream_port=$(free_port)
HTTP_PORT=$http_port HTTPS_PORT=$https_port TLS_CERT="$tmp/tls/cert.pem" TLS_KEY="$tmp/tls/key.pem" \
  HTTP_REDIRECT_TO_HTTPS=false IP_RATE_LIMIT=${E2E_IP_RATE_LIMIT:-0} NGINX_PREFIX="$tmp/nginx" \
  NGINX_ACCESS_LOG="$tmp/log/nginx-access.log" NGINX_ERROR_LOG="$tmp/log/nginx-error.log" \
  FCGI_TARGET="$FCGI_LISTEN" NGINX_LISTEN_ADDR=127.0.0.1 NGINX_DOCS_ROOT="$tmp/docs" \
  AUTH_REQUEST_EXAMPLE_PORT=$example_port AUTH_REQUEST_EXAMPLE_UPSTREAM_PORT=$example_upstream_port \
  "$root/nginx/render.sh" "$tmp/nginx/nginx.conf"
setsid nginx -e "$tmp/log/nginx-error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!

# The same pool behind an nginx that limits each address (IP_RATE_LIMIT).
limited_port=$(free_port)
E2E_IP_RATE_LIMIT_TEST=${E2E_IP_RATE_LIMIT_TEST:-30}
HTTP_PORT=$limited_port IP_RATE_LIMIT=$E2E_IP_RATE_LIMIT_TEST NGINX_PREFIX="$tmp/nginx-limited" \
  ADMIN_ALLOW=127.0.0.0/8 \
  NGINX_ACCESS_LOG="$tmp/log/nginx-limited-access.log" \
  NGINX_ERROR_LOG="$tmp/log/nginx-limited-error.log" FCGI_TARGET="$FCGI_LISTEN" \
  NGINX_LISTEN_ADDR=127.0.0.1 NGINX_DOCS_ROOT="$tmp/docs" "$root/nginx/render.sh" "$tmp/nginx-limited/nginx.conf"
setsid nginx -e "$tmp/log/nginx-limited-error.log" -p "$tmp/nginx-limited" \
  -c "$tmp/nginx-limited/nginx.conf" &
limited_nginx_pid=$!

# --- the second pool: ES256, the default Argon2 cost, a short grace window -------
E2E_TRUSTED_PROXY=127.0.0.2
E2E_ES256_REFRESH_REUSE_GRACE=2
(
  unset ARGON2_MEMORY_KIB AUTHD_TEST_WEAK_ARGON2  # the default (19 MiB), as in production
  export JWT_ALG=ES256 JWT_PRIVATE_KEY_FILE="$tmp/keys/es256.pem" \
    JWT_PREVIOUS_PUBLIC_KEY_FILE="$tmp/keys/es256-previous.pub.pem" \
    REFRESH_REUSE_GRACE=$E2E_ES256_REFRESH_REUSE_GRACE FCGI_LISTEN="$tmp/run/authd-es256.sock" \
    TRUSTED_PROXIES="$E2E_TRUSTED_PROXY/32"
  exec setsid "$authd" serve 2>"$tmp/log/worker-es256.log"
) &
es256_pid=$!
es256_port=$(free_port)
HTTP_PORT=$es256_port IP_RATE_LIMIT=0 TRUSTED_PROXIES="$E2E_TRUSTED_PROXY/32" \
  NGINX_PREFIX="$tmp/nginx-es256" NGINX_ACCESS_LOG="$tmp/log/nginx-es256-access.log" \
  NGINX_ERROR_LOG="$tmp/log/nginx-es256-error.log" FCGI_TARGET="$tmp/run/authd-es256.sock" \
  NGINX_LISTEN_ADDR=127.0.0.1 NGINX_DOCS_ROOT="$tmp/docs" "$root/nginx/render.sh" "$tmp/nginx-es256/nginx.conf"
setsid nginx -e "$tmp/log/nginx-es256-error.log" -p "$tmp/nginx-es256" \
  -c "$tmp/nginx-es256/nginx.conf" &
es256_nginx_pid=$!

base="http://127.0.0.1:$http_port"
ready=""
for _ in $(seq 1 300); do
  kill -0 "$authd_pid" 2>/dev/null || { say "authd serve exited during startup"; exit 1; }
  kill -0 "$nginx_pid" 2>/dev/null || { say "nginx exited during startup"; exit 1; }
  if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/health/ready" || true) == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.1
done
[[ -n $ready ]] || { say "$base/health/ready did not answer 200 in 30 s"; exit 1; }
for url in "http://127.0.0.1:$es256_port" "http://127.0.0.1:$limited_port"; do
  ready=""
  for _ in $(seq 1 300); do
    kill -0 "$es256_pid" 2>/dev/null || { say "the ES256 authd serve exited during startup"; exit 1; }
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/health/ready" || true) == 200 ]]; then
      ready=1
      break
    fi
    sleep 0.1
  done
  [[ -n $ready ]] || { say "$url/health/ready did not answer 200 in 30 s"; exit 1; }
done
tls_base="https://localhost:$https_port"
say "stack up: $base and $tls_base (worker pid $authd_pid, db 127.0.0.1:$MYSQL_PORT, SMTP 127.0.0.1:$smtp_port, dir $tmp)"

# --- the tests ----------------------------------------------------------------
export E2E_BASE_URL=$base
export E2E_MYSQL_HOST=$MYSQL_HOST E2E_MYSQL_PORT=$MYSQL_PORT E2E_MYSQL_USER=$MYSQL_USER \
  E2E_MYSQL_PASSWORD=$MYSQL_PASSWORD E2E_MYSQL_DB=$MYSQL_DB
export E2E_MYSQL_MIGRATE_PASSWORD=$MYSQL_MIGRATE_PASSWORD  # only grepped for, in the logs
export E2E_LOG_FILES="$tmp/log/worker.log:$tmp/log/mailer.log:$tmp/log/nginx-access.log:$tmp/log/nginx-error.log:$tmp/log/worker-es256.log:$tmp/log/nginx-es256-access.log:$tmp/log/nginx-limited-access.log"
export E2E_AUTHD_BIN=$authd
export E2E_AUTH_REQUEST_URL="http://127.0.0.1:$example_port"
export E2E_RATE_LIMITED_URL="http://127.0.0.1:$limited_port" E2E_IP_RATE_LIMIT_TEST
export E2E_ES256_URL="http://127.0.0.1:$es256_port" E2E_ES256_KEY_FILE="$tmp/keys/es256.pem" \
  E2E_ES256_PREVIOUS_KEY_FILE="$tmp/keys/es256-previous.pem" E2E_ES256_REFRESH_REUSE_GRACE \
  E2E_TRUSTED_PROXY
export E2E_SECRET_KEY=$SECRET_KEY E2E_MFA_ENCRYPTION_KEY=$MFA_ENCRYPTION_KEY
export E2E_DB_STOP_CMD="'$root/scripts/mariadb.sh' stop '$tmp/mysql'"
export E2E_DB_START_CMD="'$root/scripts/mariadb.sh' start '$tmp/mysql' $MYSQL_PORT"
export E2E_WORKER_STOP_CMD="kill -TERM $authd_pid"
export E2E_HTTP_URL=$base E2E_HTTPS_URL=$tls_base E2E_CA_BUNDLE="$tmp/tls/ca.pem"
export E2E_MAIL_DIR="$tmp/mail" E2E_MAILER_PID_FILE="$tmp/run/mailer.pid"
export E2E_SMTP_STOP_CMD="kill -TERM \$(cat '$tmp/run/smtp.pid') && while kill -0 \$(cat '$tmp/run/smtp.pid') 2>/dev/null; do sleep 0.05; done"
E2E_SMTP_START_CMD=$(printf '%q ' "${smtp_start[@]}")
export E2E_SMTP_START_CMD
export E2E_SMTP_USER=$smtp_user E2E_SMTP_PASSWORD=$smtp_password E2E_PUBLIC_BASE_URL=$PUBLIC_BASE_URL
export E2E_FCGI_SOCKET=$FCGI_LISTEN E2E_ROOT=$root
export E2E_WEBAUTHN_RP_ID=$WEBAUTHN_RP_ID E2E_WEBAUTHN_ORIGINS=$WEBAUTHN_ORIGINS
export E2E_ARTIFACT_DIR="$root/$BUILD_DIR/e2e"
# The tests (and the commands above, which they run) must not see the
# stack's own settings as theirs.
unset SECRET_KEY MFA_ENCRYPTION_KEY MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASSWORD MYSQL_DB \
  MYSQL_MIGRATE_USER MYSQL_MIGRATE_PASSWORD MAIL_MODE SMTP_URL SMTP_USER SMTP_PASSWORD \
  SMTP_CA_FILE MAIL_FROM PUBLIC_BASE_URL MAIL_POLL_MS WEBAUTHN_RP_ID WEBAUTHN_ORIGINS

rc=0
# Pass 1, plain HTTP: everything but stopping the pool (that ends a stack).
say "pass 1 of 2: over HTTP ($base)"
"$py" -m pytest "$root/e2e" \
  --deselect test_outage.py::test_503_from_nginx_when_the_pool_is_gone "$@" || rc=$?
if ((rc == 0)); then
  # Pass 2, HTTPS with certificate verification against the stack's CA:
  # the same suite but what is marked `once` (HTTP-independent: mail
  # delivery, timing, TLS probes of both doors), and the pool stop last.
  say "pass 2 of 2: over HTTPS ($tls_base, verified against $tmp/tls/ca.pem)"
  E2E_BASE_URL=$tls_base "$py" -m pytest "$root/e2e" -m "not once" "$@" || rc=$?
fi
if ((rc == 0)); then
  # A child that crashed and was respawned can hide behind passing tests:
  # the supervisor logs it as worker_died / worker_crashed.
  if grep -qE '"(worker_died|worker_crashed)"|Segmentation|AddressSanitizer' "$tmp/log/worker.log" \
    "$tmp/log/worker-es256.log" "$tmp/log/mailer.log"; then
    say "the worker log reports a crash"
    rc=1
  fi
fi
exit "$rc"
