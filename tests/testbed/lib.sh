# shellcheck shell=bash
# Shared helpers for the test-bed scripts. Sourced, not executed.
set -euo pipefail

TESTBED_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TESTBED_DIR/../.." && pwd)"
# Build products that must survive between runs but never be committed.
TESTBED_CACHE="${TESTBED_CACHE:-$REPO_ROOT/.cache/testbed}"
NODE_IMAGE_REPO="${NODE_IMAGE_REPO:-swarmops-node}"
MIRROR_IMAGE="${MIRROR_IMAGE:-swarmops-apt-mirror:latest}"
SERVICE_IMAGE="${SERVICE_IMAGE:-swarmops/busybox:local}"

log() { printf '[testbed] %s\n' "$*" >&2; }

# Hash of the files that define an artefact: a changed recipe means a rebuild.
recipe_hash() { cat "$@" | sha256sum | cut -c1-16; }

image_label() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# Exactly the flags TESTBED.md found to run systemd and a nested dockerd here (--privileged fails).
# The anonymous volume on /var/lib/docker gives the inner engine overlay2 instead of vfs.
NODE_RUN_FLAGS=(
  --cap-add SYS_ADMIN --cap-add NET_ADMIN
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined
  --cgroupns=host --tmpfs /run --tmpfs /run/lock
  --stop-signal SIGRTMIN+3  # systemd shuts down cleanly on this, not on SIGTERM
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker
)

# ensure_network NAME SUBNET: a user-defined network with a fixed subnet (leftovers of an earlier
# run with the same name are reused when the subnet matches, replaced otherwise).
ensure_network() {
  local name="$1" subnet="$2" current
  current="$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$name" 2>/dev/null || true)"
  if [ "$current" = "$subnet" ]; then return 0; fi
  [ -n "$current" ] && docker network rm "$name" >/dev/null
  docker network create --subnet "$subnet" "$name" >/dev/null
}

# start_node NAME IMAGE NETWORK [IP]: a fresh node container (removes a leftover of the same name)
# and waits until systemd is up.
start_node() {
  local name="$1" image="$2" network="$3" ip="${4:-}"
  docker rm -f -v "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --hostname "$name" --network "$network" ${ip:+--ip "$ip"} \
    "${NODE_RUN_FLAGS[@]}" "$image" >/dev/null
  wait_for_systemd "$name"
}

# apt_quiet NAME: a builder container's own apt runs first. The node image keeps Debian's apt-daily timers (a
# real host has them, and the roles wait for the lock they take); at boot they may start `apt-get update` and
# hold the lists lock just when a build script runs its own (a fresh clone's test bed failed on it once).
apt_quiet() {
  local name="$1"
  docker exec "$name" bash -c '
    systemctl stop apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
      >/dev/null 2>&1 || true
    for _ in $(seq 120); do pgrep -x apt-get >/dev/null || pgrep -x apt >/dev/null || pgrep -x dpkg >/dev/null || exit 0
      sleep 1
    done
    echo "apt still busy after 120 s" >&2; exit 1'
}

wait_for_systemd() {
  local name="$1" state=""
  # Usually a few seconds; minutes when the machine is loaded by parallel scenarios.
  for _ in $(seq 180); do
    state="$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)"
    case "$state" in running|degraded) return 0 ;; esac
    sleep 1
  done
  log "$name: systemd did not come up within 180 s (state: ${state:-none})"
  return 1
}
