#!/usr/bin/env bash
# The local lab: the classic tutorial cluster (manager1, worker1, worker2) as bare Debian node
# containers on network swarmlab, with the apt mirror attached. `make demo` runs site.yml on it.
#   lab.sh up|down|ps
# LAB_PREFIX, LAB_NETWORK and LAB_SUBNET let a test run its own copy side by side with the demo
# (the inventory maps its hosts with -e lab_container_prefix=$LAB_PREFIX).
source "$(dirname "$0")/lib.sh"

LAB_PREFIX="${LAB_PREFIX:-}"
LAB_NETWORK="${LAB_NETWORK:-swarmlab}"
LAB_SUBNET="${LAB_SUBNET:-10.213.10.0/24}"
LAB_RELEASE="${LAB_RELEASE:-bookworm}"
LAB_NODES="${LAB_NODES:-manager1:11 worker1:21 worker2:22}"
subnet_base="${LAB_SUBNET%.*}"

case "${1:-}" in
  up)
    ensure_network "$LAB_NETWORK" "$LAB_SUBNET"
    bash "$TESTBED_DIR/mirror.sh" connect "$LAB_NETWORK"
    for entry in $LAB_NODES; do
      name="$LAB_PREFIX${entry%%:*}"
      # An existing, running node is kept: re-running `make demo` is an idempotent re-run of site.yml.
      if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = "true" ]; then
        log "$name is running (kept)"
        continue
      fi
      start_node "$name" "$NODE_IMAGE_REPO:$LAB_RELEASE" "$LAB_NETWORK" "$subnet_base.${entry##*:}"
      log "$name started at $subnet_base.${entry##*:}"
    done
    ;;
  down)
    for entry in $LAB_NODES; do docker rm -f -v "$LAB_PREFIX${entry%%:*}" >/dev/null 2>&1 || true; done
    docker network disconnect -f "$LAB_NETWORK" swarmops-mirror >/dev/null 2>&1 || true
    docker network disconnect -f "$LAB_NETWORK" swarmops-registry >/dev/null 2>&1 || true
    docker network rm "$LAB_NETWORK" >/dev/null 2>&1 || true
    log "lab $LAB_NETWORK removed"
    ;;
  ps)
    docker ps -a --filter "network=$LAB_NETWORK" --format 'table {{.Names}}\t{{.Status}}'
    ;;
  *)
    echo "usage: lab.sh up|down|ps" >&2
    exit 2
    ;;
esac
