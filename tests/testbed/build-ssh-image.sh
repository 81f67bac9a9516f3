#!/usr/bin/env bash
# A node image reachable over real SSH, for the firewall role's SSH lane (tests/firewall_ssh): the engine node
# image plus Debian's openssh-server, root login by key only, with a test key pair and host key made once on
# this machine (.cache/testbed/ssh/, never committed). Each test node sets its own sshd port at start.
# Cached: rebuilt only when the base image, this script or the keys changed (label swarmops.recipe).
# usage: build-ssh-image.sh bookworm|trixie
source "$(dirname "$0")/lib.sh"

release="${1:?usage: build-ssh-image.sh RELEASE}"
base="$NODE_IMAGE_REPO-engine:$release"
image="$NODE_IMAGE_REPO-ssh:$release"
keys="$TESTBED_CACHE/ssh"

# Throwaway keys for containers on a private test network: the client key (root's authorized key) and one
# host key for every node, so the lane's known_hosts can be written without asking the nodes.
mkdir -p "$keys"
chmod 700 "$keys"
[ -s "$keys/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C swarmops-ssh-lane -f "$keys/id_ed25519"
[ -s "$keys/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C swarmops-ssh-node -f "$keys/ssh_host_ed25519_key"

recipe="$( (image_label "$base" swarmops.recipe; cat "$0" "$keys/id_ed25519.pub" "$keys/ssh_host_ed25519_key.pub") \
  | sha256sum | cut -c1-16)"
if [ "$(image_label "$image" swarmops.recipe)" = "$recipe" ]; then
  log "$image is up to date ($recipe)"
  exit 0
fi
# Built on the lane's own network, under the lane's own names.
builder="ssh-build-$release"
ensure_network swarmops-ssh 10.213.35.0/24
start_node "$builder" "$base" swarmops-ssh
trap 'docker rm -f -v "$builder" >/dev/null 2>&1 || true' EXIT
apt_quiet "$builder"
docker exec "$builder" bash -c '
  set -e
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  rm -f /etc/ssh/ssh_host_*
  printf "%s\n" "PermitRootLogin prohibit-password" "PasswordAuthentication no" \
    "KbdInteractiveAuthentication no" "HostKey /etc/ssh/ssh_host_ed25519_key" \
    >/etc/ssh/sshd_config.d/swarmops-test.conf
  install -d -m 700 /root/.ssh
  apt-get clean; rm -rf /var/lib/apt/lists/*'
docker cp "$keys/ssh_host_ed25519_key" "$builder:/etc/ssh/ssh_host_ed25519_key"
docker cp "$keys/ssh_host_ed25519_key.pub" "$builder:/etc/ssh/ssh_host_ed25519_key.pub"
docker cp "$keys/id_ed25519.pub" "$builder:/root/.ssh/authorized_keys"
docker exec "$builder" bash -c 'chown root:root /etc/ssh/ssh_host_ed25519_key* /root/.ssh/authorized_keys &&
  chmod 600 /etc/ssh/ssh_host_ed25519_key /root/.ssh/authorized_keys && sshd -t'
docker stop "$builder" >/dev/null
docker commit -c "LABEL swarmops.recipe=$recipe" "$builder" "$image" >/dev/null
log "built $image ($recipe)"
