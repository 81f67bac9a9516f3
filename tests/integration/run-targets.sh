#!/usr/bin/env bash
# The modules' single-node integration targets (tests/integration/targets/<module>/), run by
# `ansible-test integration` against one node container:
#
#   bash tests/integration/run-targets.sh [target ...]     (default: every swarm_* target)
#
# One node container (ait-node, from swarmops-node-engine:bookworm: Debian 12's engine 20.10) is started on
# the network swarmops-ait (10.213.45.0/24) and the test bed's busybox image is loaded into its engine.
# ansible-test wants the collection at ansible_collections/<namespace>/<name>/, so the tracked files (plus
# untracked files that are not ignored) are copied into a temporary tree laid out that way, as
# tests/sanity/run.sh does. ansible-test runs on this machine (--local, its own inventory of one `testhost`),
# and the extra vars it gives every target (tests/integration/integration_config.yml, written below) set
# that host's connection to community.docker's docker connection into the node: the targets run as
# `ansible-test integration` runs them, only on the node container instead of the machine itself.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV_BIN="${VENV_BIN:-$REPO_ROOT/.venv/bin}"
NETWORK=swarmops-ait
SUBNET=10.213.45.0/24
NODE=ait-node
NODE_IP=10.213.45.10
NOBODY_IP=10.213.45.250   # never started: an address where no manager answers
IMAGE=swarmops-node-engine:bookworm
# shellcheck source=../testbed/lib.sh
source "$REPO_ROOT/tests/testbed/lib.sh"

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(swarm_info swarm_init swarm_join swarm_service docker_image_archives)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/swarmops-targets.XXXXXX")"
# shellcheck disable=SC2317  # run by the trap below
cleanup() {
  docker rm -f -v "$NODE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log "node $NODE ($IMAGE) on $NETWORK"
ensure_network "$NETWORK" "$SUBNET"
start_node "$NODE" "$IMAGE" "$NETWORK" "$NODE_IP"
for _ in $(seq 120); do
  docker exec "$NODE" curl -sf --unix-socket /var/run/docker.sock http://engine/_ping >/dev/null 2>&1 && break
  sleep 0.5
done
docker exec -i "$NODE" docker load <"$REPO_ROOT/.cache/testbed/images/busybox.tar" >/dev/null

namespace="$(sed -n 's/^namespace: *//p' "$REPO_ROOT/galaxy.yml")"
name="$(sed -n 's/^name: *//p' "$REPO_ROOT/galaxy.yml")"
tree="$work/ansible_collections/$namespace/$name"
mkdir -p "$tree"
(
  cd "$REPO_ROOT"
  git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && [ ! -L "$f" ] && printf '%s\0' "$f"; done \
    | tar --no-recursion --null -T - -cf -
) | tar -C "$tree" -xf -

# ansible-test runs the targets against its inventory's testhost; integration_config.yml (extra vars for every
# target) points that host's connection at the node container.
cat >"$tree/tests/integration/integration_config.yml" <<EOF
---
ansible_connection: community.docker.docker
ansible_host: $NODE
ansible_python_interpreter: /usr/bin/python3
ait_node_ip: $NODE_IP
ait_nobody_ip: $NOBODY_IP
EOF

start=$SECONDS
status=0
(
  cd "$tree"
  export PATH="$VENV_BIN:$PATH"
  unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_CONFIG   # the copied tree is the collection under test
  ansible-test integration --local --python 3.11 --allow-destructive --color no "${targets[@]}"
) || status=$?
log "ansible-test integration finished in $((SECONDS - start)) s (exit $status)"
exit "$status"
