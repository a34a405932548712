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
pool_pids=()
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
  for pid in "${pool_pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# A port whose next one is free too: a pool's two lanes (port, port + 1).
free_port_pair() {
  "$py" -c '
import socket
for _ in range(100):
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p)
    break
'
}

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
# Several pools (FCGI_TARGETS): an upstream per lane, each pool's fast lane
# at its port + 1; without a fast lane both upstreams list the same ports.
env HTTP_PORT=8080 FCGI_TARGETS=10.0.0.1:9000,10.0.0.2:9000 NGINX_PREFIX="$tmp/nginx" \
  "$root/nginx/render.sh" "$tmp/nginx/nginx.conf"
nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
tr ';' '\n' <"$tmp/nginx/nginx.conf" | grep -q 'upstream authd_pool_fast { server 10.0.0.1:9001 max_fails=1 fail_timeout=1s' ||
  { echo "nginx-check: FCGI_TARGETS: no fast-lane upstream of both pools' port + 1" >&2; exit 1; }
grep -q 'server 10.0.0.2:9001 max_fails=1' "$tmp/nginx/nginx.conf"
grep -q 'fastcgi_pass authd_pool_fast;' "$tmp/nginx/nginx.conf"
grep -q 'fastcgi_pass authd_pool;' "$tmp/nginx/nginx.conf"
env HTTP_PORT=8080 FCGI_TARGETS=10.0.0.1:9000,10.0.0.2:9000 API_FAST_WORKERS=0 NGINX_PREFIX="$tmp/nginx" \
  "$root/nginx/render.sh" "$tmp/nginx/nginx.conf"
nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
if grep -q 'server 10.0.0.[12]:9001' "$tmp/nginx/nginx.conf"; then
  echo "nginx-check: FCGI_TARGETS with API_FAST_WORKERS=0 still names a fast lane" >&2; exit 1
fi
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

# Two pools on two "hosts" (TCP), each with both lanes, behind one nginx:
# every route reaches its lane on either pool; then pool A dies (both of its
# lanes) and every request, on either lane, is passed over to pool B.
pool_a=$(free_port_pair)
"$py" "$here/fcgi_standin.py" "127.0.0.1:$pool_a" hashing A & pool_pids+=($!)
"$py" "$here/fcgi_standin.py" "127.0.0.1:$((pool_a + 1))" fast A & pool_pids+=($!)
pool_b=$(free_port_pair)
"$py" "$here/fcgi_standin.py" "127.0.0.1:$pool_b" hashing B & pool_pids+=($!)
"$py" "$here/fcgi_standin.py" "127.0.0.1:$((pool_b + 1))" fast B & pool_pids+=($!)
for p in "$pool_a" "$((pool_a + 1))" "$pool_b" "$((pool_b + 1))"; do
  for _ in $(seq 1 50); do (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done
pools="FCGI_TARGET= FCGI_TARGETS=127.0.0.1:$pool_a,127.0.0.1:$pool_b"
# shellcheck disable=SC2086
run_phase pools 0 IP_RATE_LIMIT=0 $pools
stop_pid "${pool_pids[0]}"
stop_pid "${pool_pids[1]}"
# shellcheck disable=SC2086
run_phase pool_down 0 IP_RATE_LIMIT=0 $pools
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
