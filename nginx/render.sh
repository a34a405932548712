#!/usr/bin/env bash
# Renders nginx/authd.conf.template into an nginx.conf.
#
#   nginx/render.sh OUT_FILE        (or `-` for stdout)
#
# Inputs (environment; the names API.md gives where it gives one):
#   HTTP_PORT          [8080]
#   NGINX_LISTEN_ADDR  [127.0.0.1]  address to listen on; `*` (or empty) for
#                                   all addresses, as in the container
#   FCGI_TARGET        required (unless FCGI_TARGETS): an absolute unix socket
#                      path (/abs/var/run/authd.sock) or host:port (worker:9000)
#   FCGI_TARGETS       [empty]  several worker hosts: `host:port,host:port,…`
#                      (each host's FCGI_LISTEN; its fast lane at port + 1, or
#                      FCGI_FAST_TARGETS). Rendered as two upstreams of every
#                      host, a dead pool skipped for 1 s (max_fails=1
#                      fail_timeout=1s) after one failed connect. Replaces
#                      FCGI_TARGET; not with NGINX_RESOLVER (upstream names
#                      are resolved when nginx starts).
#   FCGI_FAST_TARGETS  [derived from FCGI_TARGETS, each port + 1]
#   API_FAST_WORKERS   [2]  the pool's fast lane; 0 = none, every route goes
#                      to FCGI_TARGET
#   FCGI_FAST_TARGET   [derived as the pool derives FCGI_FAST_LISTEN from
#                      FCGI_LISTEN: DIR/NAME.sock → DIR/NAME-fast.sock,
#                      host:port → host:port+1]  the fast lane's socket
#   NGINX_RESOLVER     [empty]  empty: FCGI_TARGET is fixed (local runs).
#                      An address, or `auto` (the first nameserver of
#                      /etc/resolv.conf): nginx re-resolves FCGI_TARGET's host
#                      every 5 s (compose, where replicas come and go).
#   IP_RATE_LIMIT      [60]  POSTs under /auth/ (and DELETE /auth/me, and
#                      the POSTs and DELETEs under /admin/) per minute per
#                      client address (burst 20, nodelay); 0 = off (no
#                      limit_req lines).
#   MYSQL_READ_TIMEOUT, MYSQL_CONNECT_TIMEOUT [5, 2]  the worker's; nginx's
#                      fastcgi_read_timeout is computed to stay above them.
#   TRUSTED_PROXIES    [empty]  comma-separated CIDRs whose X-Forwarded-For
#                      is believed (realip, recursive).
#   ADMIN_ALLOW        [127.0.0.1/32, ::1/128]  comma-separated CIDRs that may
#                      reach /admin/ (the admin API); every other address gets
#                      the 404 of a route that does not exist.
#   NGINX_PREFIX       [var/nginx]  where the pid file and temp dirs go
#                      (created if missing).
#   NGINX_ACCESS_LOG   [$NGINX_PREFIX/access.log]  a path, or /dev/stdout
#   NGINX_ERROR_LOG    [$NGINX_PREFIX/error.log]   a path, or stderr
#   NGINX_USER         [root when run as root, else nothing]  the `user` of
#                      the worker processes (only meaningful as root).
#   NGINX_DOCS_ROOT    [/usr/local/share/authd/docs]  what scripts/build-docs.sh
#                      built: served at /docs, /openapi.json, /openapi.yaml.
#   AUTH_REQUEST_EXAMPLE_PORT, AUTH_REQUEST_EXAMPLE_UPSTREAM_PORT  [unset]
#                      both set: also renders nginx/auth-request-example.conf.template
#                      beside OUT_FILE (a service protected by auth_request on
#                      the first port, a stand-in upstream on the second, both
#                      on NGINX_LISTEN_ADDR) and includes it. Unset: nothing.
#   TLS_CERT, TLS_KEY  [empty]  PEM paths (set both or neither): HTTPS on
#                      HTTPS_PORT beside plain HTTP. Without them, HTTP only
#                      (the two lines below are then ignored).
#   HTTPS_PORT         [8443]
#   HTTP_REDIRECT_TO_HTTPS  [false]  true: plain HTTP answers 308 to the
#                      same URL on HTTPS_PORT.
# A bad value exits 2 with one line naming it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template="$here/authd.conf.template"
out=${1:?usage: render.sh OUT_FILE|-}

die() { echo "render.sh: $*" >&2; exit 2; }

http_port=${HTTP_PORT:-8080}
if ! [[ $http_port =~ ^[0-9]+$ ]] || ((10#$http_port < 1 || 10#$http_port > 65535)); then
  die "HTTP_PORT must be a port number (1-65535), got '$http_port'"
fi
http_port=$((10#$http_port))

listen_addr=${NGINX_LISTEN_ADDR-127.0.0.1}
if [[ -z $listen_addr || $listen_addr == "*" ]]; then
  NGINX_LISTEN=$http_port
elif [[ $listen_addr =~ ^[0-9.]+$ || $listen_addr == localhost ]]; then
  NGINX_LISTEN="$listen_addr:$http_port"
elif [[ $listen_addr =~ ^\[?[0-9A-Fa-f:]+\]?$ ]]; then
  NGINX_LISTEN="[${listen_addr//[\[\]]/}]:$http_port"
else
  die "NGINX_LISTEN_ADDR must be an IP address or '*', got '$listen_addr'"
fi

targets=${FCGI_TARGETS:-}
if [[ -n $targets ]]; then
  [[ -z ${FCGI_TARGET:-} ]] || die "FCGI_TARGET and FCGI_TARGETS exclude each other"
  target=${targets%%,*}  # checked below like a single target
else
  target=${FCGI_TARGET:?render.sh: FCGI_TARGET is required (unix socket path or host:port)}
fi
resolver=${NGINX_RESOLVER:-}
fast_workers=${API_FAST_WORKERS:-2}
[[ $fast_workers =~ ^[0-9]+$ ]] || die "API_FAST_WORKERS must be a whole number, got '$fast_workers'"
# The fast lane's socket, derived exactly as the pool derives it
# (worker/config/config.cpp, fast_listen_for) unless given.
fast_target_for() {
  local t=$1
  if [[ $t == /* ]]; then
    if [[ $t == *.sock ]]; then echo "${t%.sock}-fast.sock"; else echo "$t-fast"; fi
  else
    local port=${t##*:}
    ((10#$port < 65535)) || die "FCGI_TARGET's port + 1 does not exist: set FCGI_FAST_TARGET"
    echo "${t%:*}:$((10#$port + 1))"
  fi
}
if ((10#$fast_workers == 0)); then
  fast_target=$target
else
  fast_target=${FCGI_FAST_TARGET:-$(fast_target_for "$target")}
fi
if [[ $target == /* ]]; then
  for t in "$target" "$fast_target"; do
    [[ $t =~ ^/[A-Za-z0-9._/-]+$ ]] || die "FCGI_TARGET / FCGI_FAST_TARGET path has unusual characters: '$t'"
  done
  [[ -z $resolver ]] || die "NGINX_RESOLVER makes no sense with a unix socket FCGI_TARGET"
  NGINX_FASTCGI_PASS="unix:$target"
  NGINX_FASTCGI_PASS_FAST="unix:$fast_target"
  NGINX_DYNAMIC_UPSTREAM=""
elif [[ $target =~ ^[A-Za-z0-9._-]+:[0-9]+$ || $target =~ ^\[[0-9A-Fa-f:]+\]:[0-9]+$ ]]; then
  [[ $fast_target =~ ^[A-Za-z0-9._-]+:[0-9]+$ || $fast_target =~ ^\[[0-9A-Fa-f:]+\]:[0-9]+$ ]] ||
    die "FCGI_FAST_TARGET must be host:port like FCGI_TARGET, got '$fast_target'"
  if [[ -z $resolver ]]; then
    NGINX_FASTCGI_PASS=$target
    NGINX_FASTCGI_PASS_FAST=$fast_target
    NGINX_DYNAMIC_UPSTREAM=""
  else
    if [[ $resolver == auto ]]; then
      resolver=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf 2>/dev/null || true)
      [[ -n $resolver ]] || die "NGINX_RESOLVER=auto but /etc/resolv.conf names no nameserver"
    fi
    [[ $resolver =~ ^[0-9.]+$ || $resolver =~ ^\[?[0-9A-Fa-f:]+\]?$ ]] ||
      die "NGINX_RESOLVER must be an IP address or 'auto', got '$resolver'"
    if [[ $resolver == *:* && $resolver != \[* ]]; then resolver="[$resolver]"; fi
    # The variable in fastcgi_pass is what makes nginx re-resolve the name.
    # shellcheck disable=SC2016  # nginx's variable, literally
    NGINX_FASTCGI_PASS='$authd_worker'
    # shellcheck disable=SC2016  # nginx's variable, literally
    NGINX_FASTCGI_PASS_FAST='$authd_worker_fast'
    NGINX_DYNAMIC_UPSTREAM="resolver $resolver valid=5s ipv6=off; resolver_timeout 2s; set \$authd_worker $target; set \$authd_worker_fast $fast_target;"
  fi
else
  die "FCGI_TARGET must be an absolute unix socket path or host:port, got '$target'"
fi

# Several worker hosts: one upstream per lane, each host's pool a server.
NGINX_UPSTREAMS=""
if [[ -n $targets ]]; then
  [[ -z $resolver ]] || die "FCGI_TARGETS cannot be re-resolved (NGINX_RESOLVER): list addresses or names fixed at start"
  IFS=',' read -r -a hosts <<<"$targets"
  if ((10#$fast_workers == 0)); then
    fast_hosts=("${hosts[@]}")
  elif [[ -n ${FCGI_FAST_TARGETS:-} ]]; then
    IFS=',' read -r -a fast_hosts <<<"$FCGI_FAST_TARGETS"
    ((${#fast_hosts[@]} == ${#hosts[@]})) || die "FCGI_FAST_TARGETS must list as many hosts as FCGI_TARGETS"
  else
    fast_hosts=()
    for h in "${hosts[@]}"; do fast_hosts+=("$(fast_target_for "${h//[[:space:]]/}")"); done
  fi
  pool="upstream authd_pool {"
  pool_fast="upstream authd_pool_fast {"
  for i in "${!hosts[@]}"; do
    h=${hosts[$i]//[[:space:]]/}
    f=${fast_hosts[$i]//[[:space:]]/}
    for t in "$h" "$f"; do
      [[ $t =~ ^[A-Za-z0-9._-]+:[0-9]+$ || $t =~ ^\[[0-9A-Fa-f:]+\]:[0-9]+$ ]] ||
        die "FCGI_TARGETS / FCGI_FAST_TARGETS entries must be host:port, got '$t'"
    done
    pool+=" server $h max_fails=1 fail_timeout=1s;"
    pool_fast+=" server $f max_fails=1 fail_timeout=1s;"
  done
  NGINX_UPSTREAMS="$pool } $pool_fast }"
  NGINX_FASTCGI_PASS=authd_pool
  NGINX_FASTCGI_PASS_FAST=authd_pool_fast
fi

rate=${IP_RATE_LIMIT:-60}
[[ $rate =~ ^[0-9]+$ ]] || die "IP_RATE_LIMIT must be a whole number of requests per minute (0 = off), got '$rate'"
rate=$((10#$rate))
if ((rate == 0)); then
  NGINX_LIMIT_REQ_ZONE=""
  NGINX_LIMIT_REQ=""
  NGINX_RETRY_AFTER_IP=1
else
  NGINX_LIMIT_REQ_ZONE="limit_req_zone \$authd_rate_key zone=authd_per_ip:10m rate=${rate}r/m;"
  NGINX_LIMIT_REQ="limit_req zone=authd_per_ip burst=20 nodelay; limit_req_status 429; limit_req_log_level warn;"
  NGINX_RETRY_AFTER_IP=$(((60 + rate - 1) / rate))
  ((NGINX_RETRY_AFTER_IP >= 1)) || NGINX_RETRY_AFTER_IP=1
fi

# The longest honest request: a statement that times out on a hung database
# (read timeout), the re-read that settles its outcome on a fresh connection
# (connect + read timeout), and as long again for the one request queued
# ahead of it; plus 5 s for the hashing. nginx must wait longer than that,
# or it would answer 503 for a request the worker still applies.
read_t=${MYSQL_READ_TIMEOUT:-5}
connect_t=${MYSQL_CONNECT_TIMEOUT:-2}
[[ $read_t =~ ^[0-9]+$ && $connect_t =~ ^[0-9]+$ ]] ||
  die "MYSQL_READ_TIMEOUT and MYSQL_CONNECT_TIMEOUT must be whole seconds"
longest=$((2 * (2 * 10#$read_t + 10#$connect_t) + 5))
NGINX_FASTCGI_READ_TIMEOUT="$((longest > 30 ? longest : 30))s"

NGINX_REAL_IP=""
if [[ -n ${TRUSTED_PROXIES:-} ]]; then
  IFS=',' read -r -a cidrs <<<"$TRUSTED_PROXIES"
  for c in "${cidrs[@]}"; do
    c=${c//[[:space:]]/}
    [[ -z $c ]] && continue
    [[ $c =~ ^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$ ]] || die "TRUSTED_PROXIES: '$c' is not an address or CIDR"
    NGINX_REAL_IP+="set_real_ip_from $c; "
  done
  [[ -n $NGINX_REAL_IP ]] && NGINX_REAL_IP+="real_ip_header X-Forwarded-For; real_ip_recursive on;"
fi

# The admin API's addresses, as geo entries (nginx checks each CIDR again).
NGINX_ADMIN_ALLOW=""
IFS=',' read -r -a cidrs <<<"${ADMIN_ALLOW:-127.0.0.1/32, ::1/128}"
for c in "${cidrs[@]}"; do
  c=${c//[[:space:]]/}
  [[ -z $c ]] && continue
  [[ $c =~ ^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$ ]] || die "ADMIN_ALLOW: '$c' is not an address or CIDR"
  NGINX_ADMIN_ALLOW+="$c 1; "
done

# --- HTTPS ----------------------------------------------------------------
NGINX_LISTEN_TLS=""
NGINX_TLS=""
NGINX_REDIRECT=""
tls_cert=${TLS_CERT:-}
tls_key=${TLS_KEY:-}
if [[ -n $tls_cert || -n $tls_key ]]; then
  [[ -n $tls_cert && -n $tls_key ]] || die "TLS_CERT and TLS_KEY go together (got only one)"
  for v in tls_cert tls_key; do
    [[ -r ${!v} ]] || die "${v^^} is not a readable file: '${!v}'"
    [[ ${!v} =~ ^[A-Za-z0-9._/-]+$ ]] || die "${v^^} has unusual characters: '${!v}'"
  done
  tls_cert=$(cd "$(dirname "$tls_cert")" && pwd)/$(basename "$tls_cert")
  tls_key=$(cd "$(dirname "$tls_key")" && pwd)/$(basename "$tls_key")
  https_port=${HTTPS_PORT:-8443}
  if ! [[ $https_port =~ ^[0-9]+$ ]] || ((10#$https_port < 1 || 10#$https_port > 65535)); then
    die "HTTPS_PORT must be a port number (1-65535), got '$https_port'"
  fi
  https_port=$((10#$https_port))
  ((https_port != http_port)) || die "HTTPS_PORT must differ from HTTP_PORT (both $http_port)"
  NGINX_LISTEN_TLS="listen ${NGINX_LISTEN%"$http_port"}$https_port ssl http2 default_server;"
  # Mozilla's "intermediate" profile (ssl-config.mozilla.org, v5.7): TLS 1.2
  # and 1.3, ECDHE/DHE with AES-GCM or ChaCha20-Poly1305 (no CBC, no static
  # RSA key exchange). No ssl_dhparam is given, so the DHE suites stay unused.
  NGINX_TLS="ssl_certificate $tls_cert; ssl_certificate_key $tls_key;"
  NGINX_TLS+=" ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519:prime256v1:secp384r1;"
  NGINX_TLS+=" ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;"
  NGINX_TLS+=" ssl_prefer_server_ciphers off; ssl_session_timeout 1d;"
  NGINX_TLS+=" ssl_session_cache shared:authd_tls:10m; ssl_session_tickets off;"
  redirect=$(tr '[:upper:]' '[:lower:]' <<<"${HTTP_REDIRECT_TO_HTTPS:-false}")
  case $redirect in
    true | 1 | yes | on)
      port_suffix=":$https_port"
      ((https_port == 443)) && port_suffix=""
      # 308 keeps the method and body (RFC 9110 §15.4.9), unlike 301.
      # shellcheck disable=SC2016,SC2089  # nginx's variables and quotes, literally
      NGINX_REDIRECT='if ($authd_to_https) { return 308 https://$host'"$port_suffix"'$request_uri; }'
      ;;
    false | 0 | no | off) ;;
    *) die "HTTP_REDIRECT_TO_HTTPS must be true or false, got '${HTTP_REDIRECT_TO_HTTPS}'" ;;
  esac
fi

prefix=${NGINX_PREFIX:-var/nginx}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
NGINX_PID_FILE="$prefix/nginx.pid"
NGINX_TEMP_DIR="$prefix/tmp"
mkdir -p "$NGINX_TEMP_DIR"
NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-$prefix/access.log}
NGINX_ERROR_LOG=${NGINX_ERROR_LOG:-$prefix/error.log}
for v in NGINX_ACCESS_LOG NGINX_ERROR_LOG; do
  [[ ${!v} =~ ^[A-Za-z0-9._/-]+$ ]] || die "$v has unusual characters: '${!v}'"
done

user=${NGINX_USER-}
if [[ -z ${NGINX_USER+x} && $(id -u) == 0 ]]; then user=root; fi
if [[ -n $user ]]; then
  [[ $user =~ ^[A-Za-z0-9._-]+$ ]] || die "NGINX_USER must be a user name, got '$user'"
  NGINX_USER_DIRECTIVE="user $user;"
else
  NGINX_USER_DIRECTIVE=""
fi

NGINX_DOCS_ROOT=${NGINX_DOCS_ROOT:-/usr/local/share/authd/docs}
[[ $NGINX_DOCS_ROOT =~ ^/[A-Za-z0-9._/-]+$ ]] ||
  die "NGINX_DOCS_ROOT must be an absolute path of plain characters, got '$NGINX_DOCS_ROOT'"

# The auth_request example (nginx/auth-request-example.conf.template), only
# when asked for.
NGINX_EXAMPLE_INCLUDE=""
example_port=${AUTH_REQUEST_EXAMPLE_PORT:-}
example_upstream_port=${AUTH_REQUEST_EXAMPLE_UPSTREAM_PORT:-}
if [[ -n $example_port || -n $example_upstream_port ]]; then
  [[ $out != - ]] || die "the auth_request example needs an OUT_FILE (it is a file beside it)"
  for p in "$example_port" "$example_upstream_port"; do
    if ! [[ $p =~ ^[0-9]+$ ]] || ((10#$p < 1 || 10#$p > 65535)); then
      die "AUTH_REQUEST_EXAMPLE_PORT and AUTH_REQUEST_EXAMPLE_UPSTREAM_PORT must both be port numbers, got '$example_port' and '$example_upstream_port'"
    fi
  done
  # The gateway listens where authd's server does; the stand-in only locally.
  if [[ $NGINX_LISTEN == *:* ]]; then
    EXAMPLE_LISTEN="${NGINX_LISTEN%:*}:$((10#$example_port))"
  else
    EXAMPLE_LISTEN=$((10#$example_port))
  fi
  EXAMPLE_UPSTREAM_LISTEN="127.0.0.1:$((10#$example_upstream_port))"
  example_out="$(dirname "$out")/auth-request-example.conf"
  mkdir -p "$(dirname "$out")"
  export EXAMPLE_LISTEN EXAMPLE_UPSTREAM_LISTEN NGINX_FASTCGI_PASS_FAST NGINX_DYNAMIC_UPSTREAM
  # shellcheck disable=SC2016  # envsubst's own syntax, literally
  envsubst '${EXAMPLE_LISTEN} ${EXAMPLE_UPSTREAM_LISTEN} ${NGINX_FASTCGI_PASS_FAST} ${NGINX_DYNAMIC_UPSTREAM}' \
    <"$here/auth-request-example.conf.template" >"$example_out"
  NGINX_EXAMPLE_INCLUDE="include $(cd "$(dirname "$example_out")" && pwd)/auth-request-example.conf;"
fi

# shellcheck disable=SC2090  # the quotes in NGINX_REDIRECT are nginx's
export NGINX_DOCS_ROOT NGINX_USER_DIRECTIVE NGINX_PID_FILE NGINX_ERROR_LOG NGINX_ACCESS_LOG NGINX_TEMP_DIR \
  NGINX_UPSTREAMS NGINX_LISTEN NGINX_FASTCGI_PASS NGINX_FASTCGI_PASS_FAST NGINX_DYNAMIC_UPSTREAM NGINX_REAL_IP NGINX_LIMIT_REQ_ZONE \
  NGINX_LIMIT_REQ NGINX_RETRY_AFTER_IP NGINX_EXAMPLE_INCLUDE NGINX_LISTEN_TLS NGINX_TLS NGINX_REDIRECT NGINX_FASTCGI_READ_TIMEOUT \
  NGINX_ADMIN_ALLOW
# The explicit list: nothing else in the template is touched.
# shellcheck disable=SC2016  # envsubst's own syntax, literally
vars='${NGINX_UPSTREAMS} ${NGINX_USER_DIRECTIVE} ${NGINX_PID_FILE} ${NGINX_ERROR_LOG} ${NGINX_ACCESS_LOG} ${NGINX_TEMP_DIR} ${NGINX_LISTEN} ${NGINX_FASTCGI_PASS} ${NGINX_FASTCGI_PASS_FAST} ${NGINX_DYNAMIC_UPSTREAM} ${NGINX_REAL_IP} ${NGINX_LIMIT_REQ_ZONE} ${NGINX_LIMIT_REQ} ${NGINX_RETRY_AFTER_IP} ${NGINX_EXAMPLE_INCLUDE} ${NGINX_LISTEN_TLS} ${NGINX_TLS} ${NGINX_REDIRECT} ${NGINX_DOCS_ROOT} ${NGINX_FASTCGI_READ_TIMEOUT} ${NGINX_ADMIN_ALLOW}'
if [[ $out == - ]]; then
  envsubst "$vars" <"$template"
else
  mkdir -p "$(dirname "$out")"
  envsubst "$vars" <"$template" >"$out.tmp"
  mv "$out.tmp" "$out"
fi
