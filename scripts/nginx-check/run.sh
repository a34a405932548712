#!/usr/bin/env bash
# Checks nginx/authd.conf.template without the real worker: renders it for
# several settings, runs `nginx -t`, then drives nginx in front of a stand-in
# FastCGI responder (fcgi_standin.py, which only echoes what it receives)
# through check.py. `make nginx-check`. Needs nginx, envsubst, python3-requests.
# shellcheck disable=SC2016  # the greps below look for nginx variables, literally
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/scripts/nginx-check"
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/authd-nginx-check.XXXXXX)
standin_pid=""
standin_fast_pid=""
nginx_pid=""

stop_pid() {
  local pid=$1 sig=${2:-TERM}
  [[ -n $pid ]] || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$nginx_pid" QUIT
  stop_pid "$standin_pid"
  stop_pid "$standin_fast_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One stand-in per lane, on the sockets render.sh derives from FCGI_TARGET
# (the hashing lane's and, beside it, the fast lane's), each echoing its lane.
start_standin() {
  "$py" "$here/fcgi_standin.py" "$tmp/authd.sock" hashing &
  standin_pid=$!
  "$py" "$here/fcgi_standin.py" "$tmp/authd-fast.sock" fast &
  standin_fast_pid=$!
  for _ in $(seq 1 50); do [[ -S $tmp/authd.sock && -S $tmp/authd-fast.sock ]] && return 0; sleep 0.1; done
  echo "nginx-check: the stand-ins did not start" >&2; exit 1
}

# start_nginx ENV... : renders with those settings and starts nginx.
start_nginx() {
  port=$(free_port)
  env HTTP_PORT="$port" FCGI_TARGET="$tmp/authd.sock" NGINX_PREFIX="$tmp/nginx" "$@" \
    "$root/nginx/render.sh" "$tmp/nginx/nginx.conf"
  nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
  nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
  nginx_pid=$!
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/nope" && return 0
    sleep 0.1
  done
  echo "nginx-check: nginx did not start" >&2; cat "$tmp/nginx/error.log" >&2; exit 1
}

run_phase() {  # PHASE [RATE] -- ENV...
  local phase=$1 rate=$2; shift 2
  echo "--- nginx-check: $phase ($*)"
  start_nginx "$@"
  "$py" "$here/check.py" "$phase" "http://127.0.0.1:$port" "$rate"
  stop_pid "$nginx_pid" QUIT; nginx_pid=""
}

# Rendering: every setting must give a config nginx accepts.
for settings in "IP_RATE_LIMIT=0" "IP_RATE_LIMIT=60" "IP_RATE_LIMIT=1000" \
  "TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16,fd00::/8" "NGINX_LISTEN_ADDR=*" \
  "NGINX_ACCESS_LOG=/dev/stdout NGINX_ERROR_LOG=stderr"; do
  # shellcheck disable=SC2086
  env HTTP_PORT=8080 FCGI_TARGET="$tmp/authd.sock" NGINX_PREFIX="$tmp/nginx" $settings \
    "$root/nginx/render.sh" "$tmp/nginx/nginx.conf"
  nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" || { echo "nginx -t failed for: $settings" >&2; exit 1; }
done
# The compose variant needs a resolver that answers; nginx -t resolves
# nothing for a variable target, so it is checked for syntax here.
env HTTP_PORT=8080 FCGI_TARGET=worker:9000 NGINX_RESOLVER=127.0.0.1 NGINX_PREFIX="$tmp/nginx" \
  "$root/nginx/render.sh" "$tmp/nginx/nginx.conf"
nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
grep -q 'fastcgi_pass \$authd_worker;' "$tmp/nginx/nginx.conf"
grep -q 'set \$authd_worker worker:9000;' "$tmp/nginx/nginx.conf"
for bad in "IP_RATE_LIMIT=-1" "IP_RATE_LIMIT=ten" "TRUSTED_PROXIES=1.2.3.4;x" "HTTP_PORT=0" \
  "FCGI_TARGET=relative.sock" "NGINX_RESOLVER=evil;"; do
  # shellcheck disable=SC2086
  if env FCGI_TARGET="$tmp/authd.sock" NGINX_PREFIX="$tmp/nginx" $bad \
    "$root/nginx/render.sh" - >/dev/null 2>&1; then
    echo "nginx-check: render.sh accepted $bad" >&2; exit 1
  fi
done
echo "--- nginx-check: rendering ok"

start_standin
run_phase routes 0 IP_RATE_LIMIT=0
run_phase norealip 0 IP_RATE_LIMIT=0
run_phase realip 0 IP_RATE_LIMIT=0 TRUSTED_PROXIES=127.0.0.1/32
run_phase slow 0 IP_RATE_LIMIT=0
run_phase ratelimit 60 IP_RATE_LIMIT=60
run_phase ratelimit 7 IP_RATE_LIMIT=7
stop_pid "$standin_pid"; standin_pid=""
stop_pid "$standin_fast_pid"; standin_fast_pid=""
run_phase down 0 IP_RATE_LIMIT=0
# Access log: JSON lines with the fields we promise.
"$py" - "$tmp/nginx/access.log" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "empty access log"
for line in lines:
    rec = json.loads(line)
    for k in ("time", "request_id", "method", "uri", "status", "request_time"):
        assert k in rec, (k, line)
    assert "?" not in rec["uri"], line
print(f"--- nginx-check: access log ok ({len(lines)} JSON lines)")
PY
echo "nginx-check: all passed"
