#!/usr/bin/env bash
# Keeps one process running: starts it, and when it exits (a crash, a
# kill -9) starts it again one second later, for as long as this script
# runs. `make run` and the e2e stack run `authd mailer` under it (API.md: a
# mailer that dies is restarted within 5 s).
#
#   scripts/respawn.sh NAME PIDFILE COMMAND [ARGS...]
#
# PIDFILE always holds the pid of the current run of COMMAND. SIGTERM or
# SIGINT to this script: the command gets SIGTERM, is waited for, and the
# script exits 0.
set -uo pipefail

name=${1:?usage: respawn.sh NAME PIDFILE COMMAND [ARGS...]}
pidfile=${2:?usage: respawn.sh NAME PIDFILE COMMAND [ARGS...]}
shift 2
(($# > 0)) || { echo "usage: respawn.sh NAME PIDFILE COMMAND [ARGS...]" >&2; exit 2; }

child=""
stopping=""
stop() {
  stopping=1
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  exit 0
}
trap stop TERM INT

while [[ -z $stopping ]]; do
  "$@" &
  child=$!
  echo "$child" >"$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
  wait "$child"
  rc=$?
  [[ -n $stopping ]] && break
  # `wait` returns early (status > 128) when a trapped signal arrives; the
  # trap has run by then. Otherwise the child is gone: say so, start again.
  echo "respawn: $name exited with status $rc; starting it again in 1 s" >&2
  sleep 1 &
  wait $!
done
