#!/usr/bin/env bash
# Stops the services that services-up.sh started (and only those), by the pids it recorded.
source "$(dirname "$0")/lib.sh"

stop() {
  local name="$1" f="$PID_DIR/$1.pid"
  [ -f "$f" ] || { log "$name: not started by services:up, left alone"; return; }
  local pid
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: stopping pid $pid"
    as_root kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "$name: still running after 30 s, sending KILL"; as_root kill -KILL "$pid"; }
  fi
  rm -f "$f"
}

if [ "${1:-}" != "--keep-docker" ]; then
  # Function containers of the platform are removed by the platform itself; remove any left over.
  if docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1; then
    ids=$(docker -H "unix://$DOCKER_SOCK" ps -aq --filter label=faas.platform)
    [ -z "$ids" ] || docker -H "unix://$DOCKER_SOCK" rm -f $ids >/dev/null
  fi
fi
stop nats
stop rabbitmq
stop minio
stop redis
for f in "$PID_DIR"/redis-cluster-*.pid; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .pid)
  stop "$name"
done
[ "${1:-}" = "--keep-docker" ] || stop dockerd
