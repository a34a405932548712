#!/usr/bin/env bash
# `make run`: the whole stack on this machine, in the foreground.
#
#   1. installs the Debian packages (scripts/install-deps.sh)
#   2. builds authd ($BUILD_DIR [build], RelWithDebInfo, ccache); AUTHD_BIN=path
#      runs that binary instead, without building
#   3. database: unless MYSQL_HOST is set, a private MariaDB under var/mysql
#      (scripts/mariadb.sh; its data stays between runs). With MYSQL_HOST set,
#      that server with the given MYSQL_* (and MYSQL_MIGRATE_*) settings.
#   4. SECRET_KEY and MFA_ENCRYPTION_KEY: from the environment, else
#      generated once into var/secret_key and var/mfa_encryption_key
#      (mode 600) and reused. With JWT_ALG=ES256 and no
#      JWT_PRIVATE_KEY_FILE, the same for an ES256 key: var/jwt/es256.pem.
#   5. `authd migrate`, then `authd serve` on var/run/authd.sock, and
#      `authd mailer` (restarted 1 s after it exits, by scripts/respawn.sh);
#      MAIL_MODE [file] writes each message to var/mail/ as an .eml file
#   6. TLS: TLS_CERT/TLS_KEY from the environment, else a local CA and a
#      certificate for localhost/127.0.0.1 under var/tls/ (scripts/local-tls.sh)
#   7. nginx on 127.0.0.1:$HTTP_PORT [8080] and, with TLS, 127.0.0.1:$HTTPS_PORT
#      [8443] (nginx/render.sh → var/nginx/), with the API docs (/docs,
#      /openapi.json) built into $BUILD_DIR/docs
#   8. waits for /health/ready, prints a banner, stays in the foreground.
# Ctrl-C (or SIGTERM) stops everything it started, the private database
# included. If one of its processes dies, it stops the rest and exits 1.
#
# Logs: the worker's JSON lines go to this terminal (stderr); nginx writes
# var/log/nginx-access.log (JSON lines) and var/log/nginx-error.log.
# Every other setting the API reference names (LOGLEVEL, API_WORKERS,
# IP_RATE_LIMIT, TRUSTED_PROXIES, ADMIN_ALLOW, ARGON2_MEMORY_KIB, ...) is
# passed through from the environment.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
BUILD_DIR=${BUILD_DIR:-build}
HTTP_PORT=${HTTP_PORT:-8080}
HTTPS_PORT=${HTTPS_PORT:-8443}
var="$root/var"

say() { printf '\033[1mrun-local:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

mkdir -p "$var/run" "$var/log"
# One `make run` per checkout: the socket, the pid files and the database
# directory are shared.
exec 9>"$var/run/run-local.lock"
flock -n 9 || die "another 'make run' is already running in $root (lock: var/run/run-local.lock)"

port_busy() {
  /usr/bin/python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(0)
sys.exit(1)' "$1"
}
if port_busy "$HTTP_PORT"; then
  die "127.0.0.1:$HTTP_PORT is in use; stop what holds it or choose another: HTTP_PORT=8081 make run"
fi
if port_busy "$HTTPS_PORT"; then
  die "127.0.0.1:$HTTPS_PORT is in use; stop what holds it or choose another: HTTPS_PORT=8444 make run"
fi

say "checking Debian packages"
scripts/install-deps.sh

if [[ -n ${AUTHD_BIN:-} ]]; then
  authd=$AUTHD_BIN  # another build of the server (a sanitizer build, ...): no build here
  say "using $authd (AUTHD_BIN is set; not building)"
else
  say "building authd in $BUILD_DIR/"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$BUILD_DIR" authd
  authd="$root/$BUILD_DIR/authd"
fi
[[ -x $authd ]] || die "$authd is not an executable"

# --- what we start, and how we stop it ------------------------------------
authd_pid=""
mailer_pid=""
nginx_pid=""
own_db=""
stopping=""

stop_pid() {  # PID SIGNAL NAME: signal, wait up to 15 s, then KILL
  local pid=$1 sig=$2 name=$3
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; kill -KILL -- "-$pid" 2>/dev/null || true; return 0; }
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop in 15 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  kill -KILL -- "-$pid" 2>/dev/null || true  # stragglers of its process group
}

cleanup() {
  local rc=$?
  [[ -n $stopping ]] && return
  stopping=1
  trap '' INT TERM
  say "stopping"
  stop_pid "$nginx_pid" QUIT nginx        # graceful: finish what is in flight
  stop_pid "$mailer_pid" TERM "authd mailer"  # finishes the message in hand
  stop_pid "$authd_pid" TERM "authd serve"  # graceful drain
  if [[ -n $own_db ]]; then scripts/mariadb.sh stop "$var/mysql" || true; fi
  say "stopped"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 0' INT TERM   # a requested stop is a success; cleanup runs on EXIT

# --- database ----------------------------------------------------------------
if [[ -z ${MYSQL_HOST:-} ]]; then
  say "starting the private MariaDB in var/mysql"
  own_db=1
  scripts/mariadb.sh start "$var/mysql" 9>&-  # the server must not inherit our lock
  set -a
  # shellcheck disable=SC1091
  . "$var/mysql/env.run"
  set +a
else
  if [[ $MYSQL_HOST == *,* ]]; then
    say "using the database nodes $MYSQL_HOST, the first preferred (MYSQL_HOST is set)"
  else
    say "using the MySQL server at $MYSQL_HOST:${MYSQL_PORT:-3306} (MYSQL_HOST is set)"
  fi
  : "${MYSQL_USER:?MYSQL_USER is required with MYSQL_HOST}"
  : "${MYSQL_DB:?MYSQL_DB is required with MYSQL_HOST}"
  export MYSQL_HOST MYSQL_PORT MYSQL_USER MYSQL_PASSWORD MYSQL_DB MYSQL_MIGRATE_USER MYSQL_MIGRATE_PASSWORD
fi

# --- secrets -----------------------------------------------------------------
if [[ -z ${SECRET_KEY:-} ]]; then
  if [[ ! -s $var/secret_key ]]; then
    (umask 077; openssl rand -base64 48 | tr -d '\n' >"$var/secret_key")
    say "generated a SECRET_KEY in var/secret_key (kept for later runs)"
  fi
  chmod 600 "$var/secret_key"
  SECRET_KEY=$(cat "$var/secret_key")
fi
export SECRET_KEY
# The key that seals TOTP secrets (second factor): generated once as well.
if [[ -z ${MFA_ENCRYPTION_KEY:-} ]]; then
  if [[ ! -s $var/mfa_encryption_key ]]; then
    (umask 077; openssl rand -base64 32 | tr -d '\n' >"$var/mfa_encryption_key")
    say "generated an MFA_ENCRYPTION_KEY in var/mfa_encryption_key (kept for later runs)"
  fi
  chmod 600 "$var/mfa_encryption_key"
  MFA_ENCRYPTION_KEY=$(cat "$var/mfa_encryption_key")
fi
export MFA_ENCRYPTION_KEY

# JWT_ALG=ES256 without JWT_PRIVATE_KEY_FILE: a P-256 key generated once into
# var/jwt/es256.pem (mode 600) and reused, like SECRET_KEY.
if [[ ${JWT_ALG:-} == ES256 && -z ${JWT_PRIVATE_KEY_FILE:-} ]]; then
  es256_key="$var/jwt/es256.pem"
  if [[ ! -s $es256_key ]]; then
    (umask 077; mkdir -p "$var/jwt" &&
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$es256_key.tmp" &&
      mv "$es256_key.tmp" "$es256_key") || die "could not generate an ES256 key with openssl"
    say "generated an ES256 signing key in var/jwt/es256.pem (kept for later runs)"
  fi
  chmod 600 "$es256_key"
  export JWT_PRIVATE_KEY_FILE="$es256_key"
fi

# --- schema ------------------------------------------------------------------
say "applying migrations"
"$authd" migrate || die "authd migrate failed"

# --- passkeys -------------------------------------------------------------------
# Browsers offer WebAuthn over plain HTTP on localhost only (never on
# 127.0.0.1), with the RP id localhost: both doors are accepted as origins,
# unless the environment names its own relying party.
if [[ -z ${WEBAUTHN_RP_ID:-} && -z ${WEBAUTHN_ORIGINS:-} ]]; then
  export WEBAUTHN_RP_ID=localhost
  export WEBAUTHN_ORIGINS="http://localhost:$HTTP_PORT,https://localhost:$HTTPS_PORT"
fi

# --- the pool ----------------------------------------------------------------
sock="$var/run/authd.sock"
rm -f "$sock"
export FCGI_LISTEN="$sock" HTTP_PORT HTTPS_PORT
say "starting authd serve on $sock"
# setsid: its own process group, so that nothing it forked can outlive us
# (cleanup kills the group), and a terminal Ctrl-C reaches it only through us.
setsid "$authd" serve 9>&- &
authd_pid=$!
# For a reload from another terminal: kill -HUP "$(cat var/run/authd.pid)".
echo "$authd_pid" >"$var/run/authd.pid"

# --- the mailer ----------------------------------------------------------------
# Its own process, never part of a request; restarted 1 s after it dies.
export MAIL_DIR=${MAIL_DIR:-$var/mail}
say "starting authd mailer (MAIL_MODE=${MAIL_MODE:-file}$(if [[ ${MAIL_MODE:-file} == file ]]; then echo ": $MAIL_DIR"; fi))"
setsid scripts/respawn.sh "authd mailer" "$var/run/mailer.pid" "$authd" mailer 9>&- &
mailer_pid=$!

# --- TLS -----------------------------------------------------------------------
own_tls=""
if [[ -z ${TLS_CERT:-} && -z ${TLS_KEY:-} ]]; then
  scripts/local-tls.sh "$var/tls"
  TLS_CERT="$var/tls/cert.pem" TLS_KEY="$var/tls/key.pem"
  own_tls=1
fi
export TLS_CERT TLS_KEY HTTPS_PORT

# --- nginx ---------------------------------------------------------------------
docs="$root/$BUILD_DIR/docs"
scripts/build-docs.sh "$docs" >/dev/null || die "building the API docs failed (scripts/build-docs.sh)"
NGINX_PREFIX="$var/nginx" NGINX_ACCESS_LOG="$var/log/nginx-access.log" \
  NGINX_ERROR_LOG="$var/log/nginx-error.log" FCGI_TARGET="$sock" NGINX_LISTEN_ADDR=127.0.0.1 \
  NGINX_DOCS_ROOT="$docs" nginx/render.sh "$var/nginx/nginx.conf"
nginx -e "$var/log/nginx-error.log" -t -q -p "$var/nginx" -c "$var/nginx/nginx.conf" ||
  die "the rendered nginx config is refused (see above and var/log/nginx-error.log)"
say "starting nginx on 127.0.0.1:$HTTP_PORT (HTTP) and 127.0.0.1:$HTTPS_PORT (HTTPS)"
setsid nginx -e "$var/log/nginx-error.log" -p "$var/nginx" -c "$var/nginx/nginx.conf" 9>&- &
nginx_pid=$!

# --- wait until ready, watching our processes --------------------------------
check_alive() {
  if ! kill -0 "$authd_pid" 2>/dev/null; then
    local rc=0; wait "$authd_pid" || rc=$?
    die "authd serve exited (status $rc); its log is above"
  fi
  if ! kill -0 "$mailer_pid" 2>/dev/null; then
    die "the mailer's supervisor (scripts/respawn.sh) exited"
  fi
  if ! kill -0 "$nginx_pid" 2>/dev/null; then
    local rc=0; wait "$nginx_pid" || rc=$?
    tail -5 "$var/log/nginx-error.log" >&2 || true
    die "nginx exited (status $rc); see var/log/nginx-error.log"
  fi
  if [[ -n $own_db ]] && ! kill -0 "$(cat "$var/mysql/mysqld.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
    own_db=""
    die "the private MariaDB stopped; see var/mysql/mysqld.log"
  fi
}

base="http://127.0.0.1:$HTTP_PORT"
tls_base="https://localhost:$HTTPS_PORT"
ready=""
for _ in $(seq 1 300); do
  check_alive
  # Over HTTPS: it answers whether or not plain HTTP redirects. -k: this only
  # asks whether the stack is up (a given TLS_CERT may be for another name).
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$tls_base/health/ready" || true)
  if [[ $code == 200 ]]; then ready=1; break; fi
  sleep 0.2 & wait $!
done
[[ -n $ready ]] || die "$base/health/ready did not answer 200 within 60 s (last: $code)"

cat >&2 <<BANNER

  authd is ready on $tls_base and $base   (Ctrl-C stops everything)

  curl -s -X POST $base/auth/register -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"violet-Harbor-92-lantern"}'
  curl -s -X POST $base/auth/login -H 'Content-Type: application/json' \\
       -d '{"email":"ann@example.com","password":"violet-Harbor-92-lantern"}'
  curl -s $base/auth/me -H "Authorization: Bearer \$ACCESS_TOKEN"
  curl -s $base/health/ready

  API docs: $base/docs   (Swagger UI; the document: $base/openapi.json)
  passkeys: http://localhost:$HTTP_PORT/examples/passkeys.html   (localhost, not 127.0.0.1: browsers allow WebAuthn there)
  metrics:  curl -s $base/metrics   (Prometheus text; METRICS_ALLOW, default loopback)
  admin:    make admin-key ARGS="create --name backoffice --scopes users:read,users:write"
            curl -s $base/admin/users -H "Authorization: Bearer \$ADMIN_KEY"   (ADMIN_ALLOW, default loopback)
  reload:   kill -HUP "\$(cat var/run/authd.pid)"   (workers replaced one by one, no failed request)

  email:    $(if [[ ${MAIL_MODE:-file} == file ]]; then echo "MAIL_MODE=file: each message is a file in $MAIL_DIR/ (links go to $tls_base)"; else echo "MAIL_MODE=smtp through $SMTP_URL"; fi)
  HTTPS:    $(if [[ -n $own_tls ]]; then echo "certificate from the local CA var/tls/ca.pem (made for you; trust it to use $tls_base):"; else echo "TLS_CERT=$TLS_CERT"; fi)
$(if [[ -n $own_tls ]]; then cat <<TRUST
              curl --cacert var/tls/ca.pem $tls_base/health
              system-wide (Debian/Ubuntu): sudo cp var/tls/ca.pem /usr/local/share/ca-certificates/authd-local-ca.crt
                                           sudo update-ca-certificates
              browsers: import var/tls/ca.pem as a certificate authority (it is name-constrained
                        to localhost and loopback addresses, so it vouches for nothing else)
TRUST
fi)
  logs:     worker: JSON lines here, on this terminal
            nginx:  var/log/nginx-access.log (JSON lines), var/log/nginx-error.log
  database: $(if [[ -n $own_db ]]; then echo "private MariaDB in var/mysql (127.0.0.1:$MYSQL_PORT, accounts in var/mysql/env)"; elif [[ $MYSQL_HOST == *,* ]]; then echo "nodes $MYSQL_HOST, database $MYSQL_DB"; else echo "$MYSQL_HOST:${MYSQL_PORT:-3306}/$MYSQL_DB"; fi)
  secret:   $(if [[ -s $var/secret_key && $SECRET_KEY == "$(cat "$var/secret_key")" ]]; then echo "SECRET_KEY from var/secret_key"; else echo "SECRET_KEY from the environment"; fi)
  tokens:   ${JWT_ALG:-HS256}$(if [[ ${JWT_ALG:-} == ES256 ]]; then echo ", key $JWT_PRIVATE_KEY_FILE; public keys at $base/.well-known/jwks.json"; fi)

BANNER

while true; do
  check_alive
  sleep 1 & wait $!
done
