#!/usr/bin/env bash
# A node image with Debian's own Docker engine and python3-docker preinstalled, for the module
# integration tests: they test swarm_init/join/service, not the install, so they start from here.
# usage: build-engine-image.sh bookworm|trixie
source "$(dirname "$0")/lib.sh"

release="${1:?usage: build-engine-image.sh RELEASE}"
base="$NODE_IMAGE_REPO:$release"
image="$NODE_IMAGE_REPO-engine:$release"
recipe="$(printf '%s\n' "$(image_label "$base" swarmops.recipe)" | cat - "$0" | sha256sum | cut -c1-16)"
if [ "$(image_label "$image" swarmops.recipe)" = "$recipe" ]; then
  log "$image is up to date ($recipe)"
  exit 0
fi
builder="swarmops-build-engine-$release"
ensure_network swarmops-build 10.213.250.0/24
start_node "$builder" "$base" swarmops-build
trap 'docker rm -f -v "$builder" >/dev/null 2>&1 || true' EXIT
apt_quiet "$builder"
docker exec "$builder" bash -c '
  set -e
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian 13 split the client out of docker.io into docker-cli (a Recommends); bookworm has no such package.
  cli=""; apt-cache show docker-cli >/dev/null 2>&1 && cli=docker-cli
  apt-get install -y -qq --no-install-recommends docker.io $cli python3-docker iptables >/dev/null
  systemctl enable docker >/dev/null 2>&1
  # Engine 26 (Debian 13) tries to disable IPv6 on every container interface through /proc/sys, which
  # is read-only in a node container, and then refuses to start any task; this is its documented opt-out.
  mkdir -p /etc/systemd/system/docker.service.d
  printf "[Service]\nEnvironment=DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1\n" >/etc/systemd/system/docker.service.d/testbed-ipv6.conf
  apt-get clean; rm -rf /var/lib/apt/lists/*'
docker stop "$builder" >/dev/null
docker commit -c "LABEL swarmops.recipe=$recipe" "$builder" "$image" >/dev/null
log "built $image ($recipe)"
