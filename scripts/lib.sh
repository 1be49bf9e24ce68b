#!/usr/bin/env bash
# Shared settings for the local service scripts. Every value can be overridden from the
# environment; the defaults match the platform's configuration defaults (src/config).
set -euo pipefail

FAAS_STATE_DIR="${FAAS_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/faas}"
FAAS_CACHE_DIR="${FAAS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/faas}"
REDIS_PORT="${FAAS_REDIS_PORT:-6379}"
# A local 3-master Redis Cluster beside the single Redis, for running the platform and its tests
# in cluster mode (REDIS_URL=redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003).
REDIS_CLUSTER_PORTS="${FAAS_REDIS_CLUSTER_PORTS:-7001 7002 7003}"
MINIO_PORT="${FAAS_MINIO_PORT:-9000}"
MINIO_CONSOLE_PORT="${FAAS_MINIO_CONSOLE_PORT:-9001}"
MINIO_ROOT_USER="${MINIO_ROOT_USER:-${S3_ACCESS_KEY_ID:-minioadmin}}"
MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-${S3_SECRET_ACCESS_KEY:-minioadmin}}"
MINIO_DATA_DIR="${FAAS_MINIO_DATA_DIR:-$FAAS_STATE_DIR/minio-data}"
# MinIO publishes releases as source only; this is the pinned module version that `go install` builds.
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="${FAAS_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_BIN="$FAAS_CACHE_DIR/bin/minio-$MINIO_VERSION"
AMQP_PORT="${FAAS_AMQP_PORT:-5672}"
# Erlang distribution (rabbitmqctl talks to the node through it) and epmd stay on loopback too.
RABBITMQ_DIST_PORT="${FAAS_RABBITMQ_DIST_PORT:-25672}"
NATS_PORT="${FAAS_NATS_PORT:-4222}"
DOCKER_SOCK="${FAAS_DOCKER_SOCK:-/var/run/docker.sock}"
PID_DIR="$FAAS_STATE_DIR/pids"
# MinIO delivers bucket events by POSTing them to the platform (its webhook notification target,
# with an on-disk queue so nothing is lost while the platform is down). The token is shared
# through this file; the platform reads the same file.
FAAS_PORT="${FAAS_PORT:-8080}"
MINIO_EVENTS_TOKEN_FILE="$FAAS_STATE_DIR/minio-events.token"
MINIO_EVENTS_ENDPOINT_FILE="$FAAS_STATE_DIR/minio-events.endpoint"

mkdir -p "$FAAS_STATE_DIR" "$FAAS_CACHE_DIR/bin" "$PID_DIR"

log() { printf '\033[1m[services]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[services] error:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "'$*' needs root; run it as root or install sudo"
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand (this script targets Debian)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing $*"
  # Packages with a service (rabbitmq-server) must not start it: this project starts its own,
  # on loopback, and stops only what it started. policy-rc.d tells invoke-rc.d to start nothing.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy"
    added=1
  fi
  # Another apt run may hold the lock for a while: wait for it rather than fail.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "$@" >/dev/null || { [ "$added" -eq 0 ] || as_root rm -f "$policy"; return 1; }
  [ "$added" -eq 0 ] || as_root rm -f "$policy"
}

# pid_alive NAME: the pid file of a service this project started names a live process.
pid_alive() {
  local f="$PID_DIR/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  log "$what is ready"
}

# Any answer from a Redis on port $1: PONG, or LOADING while it reads its append-only file back.
redis_answers() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q -e PONG -e LOADING; }
redis_loading() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q LOADING; }
# wait_redis PORT NAME LOGFILE PIDFILE: waits for the Redis on PORT to take commands. It must
# answer within FAAS_REDIS_START_SECS (30). Reading a large data set back can take longer, so a
# Redis that says it is loading gets up to FAAS_REDIS_LOAD_SECS (600) more while its process lives.
wait_redis() {
  local port="$1" what="$2" logfile="$3" pidfile="$4"
  wait_for "$what" "${FAAS_REDIS_START_SECS:-30}" redis_answers "$port" || die "$what did not start; see $logfile"
  if redis_loading "$port"; then
    log "$what: answers, and is loading its data set from disk; waiting"
    local deadline=$((SECONDS + ${FAAS_REDIS_LOAD_SECS:-600}))
    until redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; do
      [ "$SECONDS" -lt "$deadline" ] || die "$what is still loading its data set after ${FAAS_REDIS_LOAD_SECS:-600} s; see $logfile"
      { [ ! -f "$pidfile" ] || kill -0 "$(cat "$pidfile")" 2>/dev/null; } || die "$what exited while loading; see $logfile"
      sleep 0.5
    done
    log "$what has loaded its data set"
  fi
}
