#!/bin/bash
# Entrypoint of the nginx image: renders the project's template
# (nginx/render.sh) for compose, checks it, and runs nginx in the foreground
# as the image's non-root user.
#
# Compose defaults (each can be overridden from the environment):
#   FCGI_TARGET=worker:9000   the worker service on the compose network (its
#                             fast lane: worker:9001, unless API_FAST_WORKERS=0)
#   NGINX_RESOLVER=auto       the nameserver of this container's
#                             /etc/resolv.conf (Docker: 127.0.0.11; podman:
#                             the network's aardvark-dns), so nginx
#                             re-resolves the service name every 5 s and
#                             replicas added by `--scale` get traffic
#   FCGI_TARGETS              instead of the two above: worker hosts of their
#                             own (worker-a:9000,worker-b:9000), an upstream
#                             of them, resolved when nginx starts
#                             (docker-compose.cluster.yml)
#   HTTP_PORT=8080, NGINX_LISTEN_ADDR='*'   listen on all container addresses
#   IP_RATE_LIMIT, TRUSTED_PROXIES, ADMIN_ALLOW   as render.sh documents them
# Any other command is run as given (`docker run IMAGE nginx -V`).
set -euo pipefail

if [ "$#" -gt 0 ]; then exec "$@"; fi

if [ -n "${FCGI_TARGETS:-}" ]; then
  export NGINX_RESOLVER=${NGINX_RESOLVER-}
else
  export FCGI_TARGET=${FCGI_TARGET:-worker:9000}
  export NGINX_RESOLVER=${NGINX_RESOLVER-auto}
fi
export HTTP_PORT=${HTTP_PORT:-8080}
export NGINX_LISTEN_ADDR=${NGINX_LISTEN_ADDR-*}
export NGINX_PREFIX=${NGINX_PREFIX:-/tmp/nginx}
export NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-/dev/stdout}
export NGINX_ERROR_LOG=${NGINX_ERROR_LOG:-stderr}
# Non-root: no `user` directive (it needs root). As root, nginx's usual one.
if [ "$(id -u)" = 0 ]; then export NGINX_USER=${NGINX_USER:-www-data}; else export NGINX_USER=; fi

conf="$NGINX_PREFIX/nginx.conf"
/usr/local/share/authd/nginx/render.sh "$conf"
echo "authd-nginx: FastCGI target ${FCGI_TARGETS:-$FCGI_TARGET}, resolver ${NGINX_RESOLVER:-none}," \
  "$(grep -o 'resolver [^;]*' "$conf" | head -1 || echo 'no resolver'), listening on :$HTTP_PORT" >&2
# -e stderr: nginx's compiled-in error log (/var/log/nginx) is not ours to open.
nginx -e stderr -t -q -c "$conf"
exec nginx -e stderr -c "$conf"
