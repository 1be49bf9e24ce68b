#!/usr/bin/env bash
# Installs (where missing) and starts Docker, Redis, MinIO, RabbitMQ and NATS (JetStream) on
# 127.0.0.1, installs Chromium for the console's browser tests, then builds the function runtime
# image. Idempotent: a healthy service is reused, never started twice.
# `services-down.sh` stops only what this script started (pid files under $FAAS_STATE_DIR/pids).
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

docker_ok() { docker -H "unix://$DOCKER_SOCK" version --format '{{.Server.Version}}'; }
minio_ok() { curl -fs -o /dev/null "http://127.0.0.1:$MINIO_PORT/minio/health/live"; }

start_docker() {
  if [ -n "${DOCKER_HOST:-}" ]; then
    docker version >/dev/null 2>&1 || die "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to use a local dockerd"
    log "docker: using DOCKER_HOST=$DOCKER_HOST"; return
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  command -v curl >/dev/null || apt_install curl
  if docker_ok >/dev/null 2>&1; then log "docker: already running ($(docker_ok))"; return; fi
  # A dockerd this project started earlier may still be shutting down.
  if pid_alive dockerd; then wait_for "docker" 30 docker_ok && return; fi
  log "docker: starting dockerd"
  # --bridge=none: containers never get an address on a private range; functions run with
  # --network none anyway. --iptables=false leaves the host's firewall alone.
  as_root bash -c "nohup dockerd --host 'unix://$DOCKER_SOCK' --bridge=none --iptables=false \
    --ip6tables=false --pidfile '$PID_DIR/dockerd.pid' >'$FAAS_STATE_DIR/dockerd.log' 2>&1 &"
  wait_for "docker" 60 docker_ok || die "dockerd did not start; see $FAAS_STATE_DIR/dockerd.log"
}

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if redis_answers "$REDIS_PORT"; then
    wait_redis "$REDIS_PORT" redis "$FAAS_STATE_DIR/redis.log" "$PID_DIR/redis.pid"
    local policy
    policy=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config get maxmemory-policy | tail -1)
    log "redis: already running on 127.0.0.1:$REDIS_PORT (maxmemory-policy $policy)"
    [ "$policy" = noeviction ] || log "warning: this Redis evicts keys; the platform will refuse it"
    return
  fi
  mkdir -p "$FAAS_STATE_DIR/redis"
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$FAAS_STATE_DIR/redis" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save '' \
    --daemonize yes --pidfile "$PID_DIR/redis.pid" --logfile "$FAAS_STATE_DIR/redis.log"
  wait_redis "$REDIS_PORT" redis "$FAAS_STATE_DIR/redis.log" "$PID_DIR/redis.pid"
}

build_minio() {
  [ -x "$MINIO_BIN" ] && return
  command -v go >/dev/null || apt_install golang-go
  log "minio: building $MINIO_MODULE@$MINIO_VERSION from source (a few minutes, once; cached in $FAAS_CACHE_DIR)"
  local gobin
  gobin=$(mktemp -d)
  GOBIN="$gobin" GOFLAGS=-buildvcs=false go install "$MINIO_MODULE@$MINIO_VERSION"
  mv "$gobin/minio" "$MINIO_BIN"
  rmdir "$gobin"
}

# The cluster's nodes answer on their own ports, data (nodes.conf, append-only files) under
# $FAAS_STATE_DIR/redis-cluster/<port>. Started every time because it is cheap (three small
# processes, under a second) and the cluster-mode test suites need it; FAAS_REDIS_CLUSTER_UP=0
# skips it. Idempotent: running nodes are kept, the cluster is created only once.
cluster_ready() { redis-cli -h 127.0.0.1 -p "${REDIS_CLUSTER_PORTS%% *}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }
start_redis_cluster() {
  [ "${FAAS_REDIS_CLUSTER_UP:-1}" != 0 ] || return 0
  local port seeds=()
  for port in $REDIS_CLUSTER_PORTS; do
    seeds+=("127.0.0.1:$port")
    if redis_answers "$port"; then
      wait_redis "$port" "redis cluster node $port" "$FAAS_STATE_DIR/redis-cluster-$port.log" "$PID_DIR/redis-cluster-$port.pid"
      continue
    fi
    mkdir -p "$FAAS_STATE_DIR/redis-cluster/$port"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$FAAS_STATE_DIR/redis-cluster/$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
      --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save '' \
      --daemonize yes --pidfile "$PID_DIR/redis-cluster-$port.pid" \
      --logfile "$FAAS_STATE_DIR/redis-cluster-$port.log"
    wait_redis "$port" "redis cluster node $port" "$FAAS_STATE_DIR/redis-cluster-$port.log" "$PID_DIR/redis-cluster-$port.pid"
  done
  if ! cluster_ready; then
    # Nodes that know only themselves are a new cluster: give them the slots, no replicas.
    local known
    known=$(redis-cli -h 127.0.0.1 -p "${REDIS_CLUSTER_PORTS%% *}" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')
    if [ "$known" = 1 ]; then
      log "redis cluster: creating it over ${seeds[*]}"
      redis-cli --cluster create "${seeds[@]}" --cluster-replicas 0 --cluster-yes >"$FAAS_STATE_DIR/redis-cluster-create.log" 2>&1 ||
        die "redis-cli --cluster create failed; see $FAAS_STATE_DIR/redis-cluster-create.log"
    fi
    wait_for "redis cluster" 30 cluster_ready || die "the redis cluster is not ready (redis-cli -p ${REDIS_CLUSTER_PORTS%% *} cluster info)"
  fi
  log "redis cluster: up on ${seeds[*]} (REDIS_URL=redis+cluster://$(IFS=,; echo "${seeds[*]}"))"
}

start_minio() {
  command -v curl >/dev/null || apt_install curl
  if minio_ok; then log "minio: already running on 127.0.0.1:$MINIO_PORT"; return; fi
  build_minio
  mkdir -p "$MINIO_DATA_DIR" "$FAAS_STATE_DIR/minio-events"
  if [ ! -s "$MINIO_EVENTS_TOKEN_FILE" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$MINIO_EVENTS_TOKEN_FILE")
  fi
  log "minio: starting on 127.0.0.1:$MINIO_PORT (data in $MINIO_DATA_DIR)"
  # Target FAAS: bucket events are POSTed to the platform at /minio/events, queued on disk
  # (queue_dir) while it does not answer 2xx, and retried. MinIO sends from that queue every 3 s,
  # so target FAASFAST (no queue) posts each event at once as well; the job id, derived from
  # the event, makes the second delivery a no-op.
  # MINIO_API_SYNC_EVENTS: an upload is answered only once its event is in that on-disk queue
  # (by default events wait in memory first, and a stop or crash loses them).
  # MINIO_SYNC_BOOT: after a restart the S3 API waits until every bucket's notification rules
  # are loaded (by default uploads in the first moments after a start produce no event).
  MINIO_ROOT_USER="$MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$MINIO_ROOT_PASSWORD" \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_API_SYNC_EVENTS=on MINIO_SYNC_BOOT=on \
    MINIO_NOTIFY_WEBHOOK_ENABLE_FAAS=on \
    MINIO_NOTIFY_WEBHOOK_ENDPOINT_FAAS="http://127.0.0.1:$FAAS_PORT/minio/events" \
    MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_FAAS="Bearer $(cat "$MINIO_EVENTS_TOKEN_FILE")" \
    MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_FAAS="$FAAS_STATE_DIR/minio-events" \
    MINIO_NOTIFY_WEBHOOK_QUEUE_LIMIT_FAAS=100000 \
    MINIO_NOTIFY_WEBHOOK_ENABLE_FAASFAST=on \
    MINIO_NOTIFY_WEBHOOK_ENDPOINT_FAASFAST="http://127.0.0.1:$FAAS_PORT/minio/events" \
    MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_FAASFAST="Bearer $(cat "$MINIO_EVENTS_TOKEN_FILE")" \
    nohup "$MINIO_BIN" server "$MINIO_DATA_DIR" --quiet --address "127.0.0.1:$MINIO_PORT" \
    --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" >"$FAAS_STATE_DIR/minio.log" 2>&1 &
  echo $! >"$PID_DIR/minio.pid"
  # The platform reads where MinIO posts, so one listening elsewhere knows it must listen instead.
  echo "http://127.0.0.1:$FAAS_PORT/minio/events" >"$MINIO_EVENTS_ENDPOINT_FILE"
  wait_for "minio" 60 minio_ok || die "minio did not start; see $FAAS_STATE_DIR/minio.log"
}

rabbitmq_ok() { port_open "$AMQP_PORT"; }
nats_ok() { port_open "$NATS_PORT"; }

start_rabbitmq() {
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server
  if rabbitmq_ok; then log "rabbitmq: already running on 127.0.0.1:$AMQP_PORT"; return; fi
  if pid_alive rabbitmq; then wait_for "rabbitmq" 60 rabbitmq_ok && return; fi
  local dir="$FAAS_STATE_DIR/rabbitmq"
  mkdir -p "$dir/mnesia" "$dir/log"
  echo '[].' >"$dir/enabled_plugins"
  log "rabbitmq: starting on 127.0.0.1:$AMQP_PORT (data in $dir)"
  # The Debian wrapper (/usr/sbin/rabbitmq-server) switches to its own user and paths; the
  # server script itself runs in the foreground with everything under the state dir. HOME holds
  # the Erlang cookie. The node, its distribution port and epmd listen on loopback only.
  HOME="$dir" RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT="$RABBITMQ_DIST_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
    RABBITMQ_CONF_ENV_FILE=/dev/null \
    nohup env -C "$dir" /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/server.log" 2>&1 &
  echo $! >"$PID_DIR/rabbitmq.pid"
  wait_for "rabbitmq" 90 rabbitmq_ok || die "rabbitmq did not start; see $dir/server.log and $dir/log"
}

start_nats() {
  command -v nats-server >/dev/null || apt_install nats-server
  if nats_ok; then log "nats: already running on 127.0.0.1:$NATS_PORT"; return; fi
  local dir="$FAAS_STATE_DIR/nats"
  mkdir -p "$dir"
  log "nats: starting with JetStream on 127.0.0.1:$NATS_PORT (data in $dir)"
  nohup nats-server -js -a 127.0.0.1 -p "$NATS_PORT" --store_dir "$dir" >"$dir/server.log" 2>&1 &
  echo $! >"$PID_DIR/nats.pid"
  wait_for "nats" 30 nats_ok || die "nats did not start; see $dir/server.log"
}

# The HTTPS front door (README: Behind HTTPS): HAProxy from Debian, not started here (the front
# door test starts its own on free ports), and a self-signed certificate for it in the state dir.
install_proxy() {
  command -v haproxy >/dev/null || apt_install haproxy
  command -v openssl >/dev/null || apt_install openssl
  bash scripts/proxy-cert.sh "$FAAS_STATE_DIR/proxy"
  log "haproxy: $(haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3); certificate $FAAS_STATE_DIR/proxy/cert.pem"
}

# The console's browser tests drive Debian's Chromium headless (playwright-core downloads nothing).
install_browser() {
  if command -v chromium >/dev/null; then log "chromium: $(chromium --version 2>/dev/null | head -1)"; return; fi
  apt_install chromium
}

start_docker
install_browser
install_proxy
start_redis
start_redis_cluster
start_minio
start_rabbitmq
start_nats
bash scripts/build-runtime-image.sh
log "all services up: redis 127.0.0.1:$REDIS_PORT (cluster on ports ${REDIS_CLUSTER_PORTS// /,}), minio http://127.0.0.1:$MINIO_PORT, rabbitmq amqp://127.0.0.1:$AMQP_PORT, nats nats://127.0.0.1:$NATS_PORT, docker $DOCKER_SOCK"
