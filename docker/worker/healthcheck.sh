#!/bin/sh
# Container health check of the worker: one FastCGI "GET /health" to the pool
# in this container (cgi-fcgi from libfcgi-bin); healthy when it answers 2xx.
# Liveness only: the database is /health/ready's business, so a database
# outage does not mark every worker unhealthy. Asked of the fast lane (its
# own socket, derived from FCGI_LISTEN as the pool derives it), whose queue
# never holds hashes: a login storm must not make a healthy pool look dead.
set -eu
listen=${FCGI_LISTEN:-0.0.0.0:9000}
if [ "${API_FAST_WORKERS:-2}" != 0 ]; then
  if [ -n "${FCGI_FAST_LISTEN:-}" ]; then
    listen=$FCGI_FAST_LISTEN
  else
    case $listen in
      /*.sock) listen=${listen%.sock}-fast.sock ;;
      /*) listen=$listen-fast ;;
      *) listen=${listen%:*}:$((${listen##*:} + 1)) ;;
    esac
  fi
fi
case $listen in
  /*) target=$listen ;;                       # unix socket path
  *) target=127.0.0.1:${listen##*:} ;;        # [host]:port -> loopback:port
esac
resp=$(env -i REQUEST_METHOD=GET REQUEST_URI=/health DOCUMENT_URI=/health SCRIPT_NAME=/health \
  QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 SERVER_NAME=healthcheck \
  REMOTE_ADDR=127.0.0.1 HTTP_X_REQUEST_ID=container-healthcheck CONTENT_LENGTH=0 \
  timeout 3 cgi-fcgi -bind -connect "$target" </dev/null 2>&1) || {
  echo "unhealthy: no FastCGI answer from $target: $resp"
  exit 1
}
headers=$(printf '%s\n' "$resp" | tr -d '\r' | sed '/^$/q')
case $headers in
  *:*) ;;
  *) echo "unhealthy: not a FastCGI response from $target"; exit 1 ;;
esac
# CGI: no Status header means 200.
status=$(printf '%s\n' "$headers" | sed -n 's/^[Ss][Tt][Aa][Tt][Uu][Ss]: *\([0-9][0-9][0-9]\).*/\1/p')
status=${status:-200}
case $status in
  2??) echo "healthy: $status"; exit 0 ;;
  *) echo "unhealthy: /health answered $status"; exit 1 ;;
esac
