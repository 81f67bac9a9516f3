#!/usr/bin/env bash
# The test bed's private registry (image built by build-registry.sh) as node container swarmops-registry,
# serving https://swarmops-registry:5000 (TLS by the test bed's CA, htpasswd auth) with the service
# image pushed as swarmops-registry:5000/swarmops/busybox:local.
#   registry.sh up               build if needed, start it (on network swarmops-build), push the images
#   registry.sh connect NETWORK  up, and attach it to NETWORK: node containers there reach it by name
#   registry.sh trust NODE...    install the CA in NODE containers' engines (certs.d), as the docker role does
#   registry.sh down             remove the container
# Credentials: .cache/testbed/registry/username and password (see build-registry.sh).
source "$(dirname "$0")/lib.sh"

REGISTRY_NAME="${REGISTRY_NAME:-swarmops-registry}"
REGISTRY_IMAGE="${REGISTRY_IMAGE:-swarmops-registry:bookworm}"
REGISTRY_ADDRESS="$REGISTRY_NAME:5000"
dir="$TESTBED_CACHE/registry"
archive="$TESTBED_CACHE/images/busybox.tar"

networks_of() {
  docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$1" 2>/dev/null || true
}

answers() {
  # The registry's own API, from inside its container, with the CA and the account: 200 when it serves.
  docker exec -i "$REGISTRY_NAME" bash -c 'read -r user; read -r password
    curl -sf -o /dev/null --cacert /etc/docker/registry/certs/ca.crt -u "$user:$password" "https://localhost:5000$1"' \
    _ "$1" < <(cat "$dir/username" "$dir/password") 2>/dev/null
}

push() {
  [ -s "$archive" ] || { log "no $archive (run build-service-image.sh)"; exit 1; }
  if answers /v2/swarmops/busybox/manifests/local; then
    return 0
  fi
  docker exec -i "$REGISTRY_NAME" sh -c 'cat >/var/tmp/busybox.tar' <"$archive"
  # skopeo reads the account from an auth file (stdin -> file), not from its command line.
  docker exec -i "$REGISTRY_NAME" bash -c 'set -e; read -r user; read -r password
    umask 077
    trap "rm -rf /var/tmp/auth.json /var/tmp/busybox.tar /var/tmp/ca" EXIT
    printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}" "$1" "$(printf "%s:%s" "$user" "$password" | base64 -w0)" \
      >/var/tmp/auth.json
    # A cert dir holding only the CA (skopeo takes a *.key there for a client certificate).
    mkdir -p /var/tmp/ca && cp /etc/docker/registry/certs/ca.crt /var/tmp/ca/
    skopeo copy -q --dest-authfile /var/tmp/auth.json --dest-cert-dir /var/tmp/ca \
      docker-archive:/var/tmp/busybox.tar "docker://$1/swarmops/busybox:local"' \
    _ "$REGISTRY_ADDRESS" < <(cat "$dir/username" "$dir/password")
  answers /v2/swarmops/busybox/manifests/local || { log "the push did not land in $REGISTRY_NAME"; exit 1; }
  log "pushed $REGISTRY_ADDRESS/swarmops/busybox:local"
}

up() {
  bash "$TESTBED_DIR/build-registry.sh"
  local recipe state attached network
  recipe="$(image_label "$REGISTRY_IMAGE" swarmops.recipe)"
  state="$(docker inspect -f '{{.State.Running}} {{index .Config.Labels "swarmops.recipe"}}' "$REGISTRY_NAME" \
    2>/dev/null || true)"
  if [ "$state" != "true $recipe" ]; then
    # A recreated registry stays on the test networks it served (like the mirror).
    attached="$(networks_of "$REGISTRY_NAME")"
    ensure_network swarmops-build 10.213.250.0/24
    start_node "$REGISTRY_NAME" "$REGISTRY_IMAGE" swarmops-build
    for network in $attached; do
      [ "$network" = swarmops-build ] || docker network connect "$network" "$REGISTRY_NAME" 2>/dev/null || true
    done
  fi
  for _ in $(seq 60); do
    answers /v2/ && break
    sleep 1
  done
  answers /v2/ || { log "$REGISTRY_NAME does not answer: $(docker exec "$REGISTRY_NAME" journalctl -u docker-registry \
    --no-pager -n 5 2>&1)"; exit 1; }
  push
  log "$REGISTRY_NAME serves https://$REGISTRY_ADDRESS"
}

connect() {
  local network="${1:?usage: registry.sh connect NETWORK}"
  up
  if ! networks_of "$REGISTRY_NAME" | tr ' ' '\n' | grep -qx "$network"; then
    docker network connect "$network" "$REGISTRY_NAME"
    log "$REGISTRY_NAME attached to $network"
  fi
}

trust() {
  local node
  for node in "$@"; do
    docker exec "$node" mkdir -p "/etc/docker/certs.d/$REGISTRY_ADDRESS"
    docker exec -i "$node" sh -c "cat >'/etc/docker/certs.d/$REGISTRY_ADDRESS/ca.crt'" <"$dir/ca.crt"
  done
}

case "${1:-}" in
  up) up ;;
  connect) connect "${2:-}" ;;
  trust) shift; trust "$@" ;;
  down) docker rm -f -v "$REGISTRY_NAME" >/dev/null 2>&1 || true ;;
  *) echo "usage: registry.sh up|connect NETWORK|trust NODE...|down" >&2; exit 2 ;;
esac
