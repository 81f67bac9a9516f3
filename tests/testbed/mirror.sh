#!/usr/bin/env bash
# The container that serves the local mirror (built by build-mirror.sh) over HTTP on port 80.
#   mirror.sh up               ensure container swarmops-mirror runs (on network swarmops-build)
#   mirror.sh restart          recreate it (after a rebuild: the bind mount must see the new tree)
#   mirror.sh connect NETWORK  up, and attach it to NETWORK: containers there reach http://swarmops-mirror/
#   mirror.sh down             remove the container
source "$(dirname "$0")/lib.sh"

MIRROR_NAME="${MIRROR_NAME:-swarmops-mirror}"
# The resolved path: every worktree reaches the one shared cache through its own .cache/testbed link, and a
# label that differed by that link would make each worktree recreate the container under the others' runs.
WWW="$(cd "$TESTBED_CACHE/mirror/www" 2>/dev/null && pwd -P || echo "$TESTBED_CACHE/mirror/www")"

up() {
  [ -s "$WWW/linux/debian/gpg" ] || { log "no mirror at $WWW (run build-mirror.sh)"; exit 1; }
  local state
  state="$(docker inspect -f '{{.State.Running}} {{index .Config.Labels "swarmops.www"}}' "$MIRROR_NAME" 2>/dev/null || true)"
  [ "$state" = "true $WWW" ] && return 0
  ensure_network swarmops-build 10.213.250.0/24
  # A recreated mirror must stay on the test networks it served: a scenario running right now
  # would otherwise lose it mid-run.
  local attached
  attached="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$MIRROR_NAME" 2>/dev/null || true)"
  docker rm -f "$MIRROR_NAME" >/dev/null 2>&1 || true
  # Any node image has python3; the tree is mounted read-only, the server needs nothing else.
  docker run -d --name "$MIRROR_NAME" --hostname "$MIRROR_NAME" --network swarmops-build \
    --label "swarmops.www=$WWW" --restart unless-stopped \
    -v "$WWW:/srv/www:ro" "$NODE_IMAGE_REPO:bookworm" \
    python3 -m http.server 80 --bind 0.0.0.0 --directory /srv/www >/dev/null
  local network
  for network in $attached; do
    [ "$network" = swarmops-build ] || docker network connect "$network" "$MIRROR_NAME" 2>/dev/null || true
  done
  for _ in $(seq 30); do
    docker exec "$MIRROR_NAME" python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1/linux/debian/gpg")' \
      >/dev/null 2>&1 && { log "$MIRROR_NAME serves $WWW"; return 0; }
    sleep 0.5
  done
  log "$MIRROR_NAME does not answer: $(docker logs --tail 5 "$MIRROR_NAME" 2>&1)"
  exit 1
}

connect() {
  local network="${1:?usage: mirror.sh connect NETWORK}"
  up
  if ! docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$MIRROR_NAME" \
    | tr ' ' '\n' | grep -qx "$network"; then
    docker network connect "$network" "$MIRROR_NAME"
    log "$MIRROR_NAME attached to $network"
  fi
}

case "${1:-}" in
  up) up ;;
  restart) docker rm -f "$MIRROR_NAME" >/dev/null 2>&1 || true; up ;;
  connect) connect "${2:-}" ;;
  down) docker rm -f "$MIRROR_NAME" >/dev/null 2>&1 || true ;;
  *) echo "usage: mirror.sh up|restart|connect NETWORK|down" >&2; exit 2 ;;
esac
