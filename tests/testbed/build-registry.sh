#!/usr/bin/env bash
# The test bed's private registry: Debian's docker-registry (the distribution registry, v2 API) in a
# node image of its own, swarmops-registry:bookworm, serving TLS on port 5000 with htpasswd auth.
#
# Made once and cached (.cache/testbed/registry/):
#   ca.crt, ca.key          a throwaway CA; nodes trust it as /etc/docker/certs.d/swarmops-registry:5000/ca.crt
#   server.crt, server.key  the registry's certificate (swarmops-registry, localhost), signed by that CA
#   username, password      the one account (htpasswd, bcrypt); the password is random, mode 0600
# The image is rebuilt when this script, the node image or the CA changes (label swarmops.recipe); the
# CA and the password are kept across rebuilds, so nodes that trust the CA keep trusting it.
source "$(dirname "$0")/lib.sh"

REGISTRY_IMAGE="${REGISTRY_IMAGE:-swarmops-registry:bookworm}"
REGISTRY_HOST="${REGISTRY_HOST:-swarmops-registry}"
dir="$TESTBED_CACHE/registry"
mkdir -p "$dir"

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/server.crt" ]; then
  command -v openssl >/dev/null || { log "openssl is missing (apt-get install openssl)"; exit 1; }
  work="$(mktemp -d)"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=swarmops test bed registry CA" \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$REGISTRY_HOST" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$REGISTRY_HOST" >"$work/ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
    -days 3650 -extfile "$work/ext" -out "$work/server.crt" 2>/dev/null
  install -m 0600 "$work/ca.key" "$work/server.key" "$dir/"
  install -m 0644 "$work/ca.crt" "$work/server.crt" "$dir/"
  rm -rf "$work"
  log "made a CA and a certificate for $REGISTRY_HOST in $dir"
fi
[ -s "$dir/username" ] || echo swarmops >"$dir/username"
if [ ! -s "$dir/password" ]; then
  (umask 077; openssl rand -hex 16 >"$dir/password")
fi

base="$NODE_IMAGE_REPO:bookworm"
recipe="$( (image_label "$base" swarmops.recipe; cat "$0" "$dir/ca.crt" "$dir/server.crt" "$dir/username" \
  "$dir/password") | sha256sum | cut -c1-16)"
if [ "$(image_label "$REGISTRY_IMAGE" swarmops.recipe)" = "$recipe" ]; then
  log "$REGISTRY_IMAGE is up to date ($recipe)"
  exit 0
fi

builder="swarmops-build-registry"
ensure_network swarmops-build 10.213.250.0/24
start_node "$builder" "$base" swarmops-build
trap 'docker rm -f -v "$builder" >/dev/null 2>&1 || true' EXIT
apt_quiet "$builder"
docker exec "$builder" bash -c '
  set -e
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # skopeo pushes the test bed'"'"'s images (docker save tarballs) into the registry; no engine needed.
  apt-get install -y -qq --no-install-recommends docker-registry apache2-utils skopeo >/dev/null
  apt-get clean; rm -rf /var/lib/apt/lists/*'
docker exec "$builder" mkdir -p /etc/docker/registry/certs
docker cp "$dir/server.crt" "$builder:/etc/docker/registry/certs/server.crt"
docker cp "$dir/server.key" "$builder:/etc/docker/registry/certs/server.key"
docker cp "$dir/ca.crt" "$builder:/etc/docker/registry/certs/ca.crt"
# The password travels on stdin, never on a command line another process could read.
docker exec -i "$builder" bash -c 'read -r user; read -r password
  printf "%s\n" "$password" | htpasswd -Bci /etc/docker/registry/htpasswd "$user" 2>/dev/null' \
  < <(cat "$dir/username" "$dir/password")
docker exec -i "$builder" bash -c 'cat >/etc/docker/registry/config.yml' <<'YAML'
# The test bed's registry: TLS with the test bed's own CA, one htpasswd account.
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: :5000
  tls:
    certificate: /etc/docker/registry/certs/server.crt
    key: /etc/docker/registry/certs/server.key
auth:
  htpasswd:
    realm: swarmops test bed registry
    path: /etc/docker/registry/htpasswd
YAML
docker exec "$builder" bash -c '
  chown -R docker-registry: /etc/docker/registry
  chmod 0600 /etc/docker/registry/certs/server.key /etc/docker/registry/htpasswd
  systemctl enable docker-registry >/dev/null 2>&1'
docker stop "$builder" >/dev/null
docker commit -c "LABEL swarmops.recipe=$recipe" "$builder" "$REGISTRY_IMAGE" >/dev/null
log "built $REGISTRY_IMAGE ($recipe)"
