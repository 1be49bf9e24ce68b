#!/usr/bin/env bash
# second-engine.sh up|down DIR: a second Docker engine on this machine, for tests that run two
# worker hosts (one per engine). Its socket is DIR/docker.sock (DOCKER_HOST=unix://DIR/docker.sock),
# its data, exec root and pid file are under DIR; no bridge, no iptables, as services:up's engine.
# `up` also loads the runtime images of the first engine into it (docker save | docker load).
# `down` stops the engine it started (by its pid file) and removes DIR.
source "$(dirname "$0")/lib.sh"
cmd="${1:?usage: second-engine.sh up|down DIR}"
dir="${2:?usage: second-engine.sh up|down DIR}"
sock="$dir/docker.sock"
ok() { docker -H "unix://$sock" version --format '{{.Server.Version}}'; }

case "$cmd" in
up)
  mkdir -p "$dir/data" "$dir/exec"
  if ! ok >/dev/null 2>&1; then
    as_root bash -c "nohup dockerd --host 'unix://$sock' --data-root '$dir/data' --exec-root '$dir/exec' \
      --pidfile '$dir/dockerd.pid' --bridge=none --iptables=false --ip6tables=false \
      >'$dir/dockerd.log' 2>&1 &"
    wait_for "second docker engine" 60 ok || die "the second dockerd did not start; see $dir/dockerd.log"
  fi
  images=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^faas-runtime(-python)?:' || true)
  [ -n "$images" ] || die "no runtime image on the first engine: run npm run services:up"
  # shellcheck disable=SC2086
  docker save $images | docker -H "unix://$sock" load >/dev/null
  log "second engine: DOCKER_HOST=unix://$sock ($(echo "$images" | wc -l) image tags loaded)"
  ;;
down)
  if [ -f "$dir/dockerd.pid" ]; then
    pid=$(cat "$dir/dockerd.pid")
    as_root kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # An engine stopped while it started or stopped containers can leave their root file systems
  # mounted under its data root: unmount those (deepest first) before removing DIR.
  # (None is the usual case: grep then exits 1, which must not end the script before the rm.)
  { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do as_root umount -l "$m" || true; done
  as_root rm -rf "$dir"
  ;;
*) die "usage: second-engine.sh up|down DIR" ;;
esac
