#!/usr/bin/env bash
# Make sure the machine has the test bed's tools and a Docker engine that answers. CI starts with
# none: install what is missing from Debian (docker.io among it), start dockerd in the background
# and wait for the socket.
source "$(dirname "$0")/lib.sh"

# command -> Debian package: the engine, the image builders, and shellcheck for ansible-test sanity.
declare -A needed=([dockerd]=docker.io [debootstrap]=debootstrap [gpg]=gnupg [dpkg-scanpackages]=dpkg-dev
  [apt-ftparchive]=apt-utils [busybox]=busybox-static [xz]=xz-utils [shellcheck]=shellcheck)
missing=()
for command in "${!needed[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${needed[$command]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Each node container runs systemd (and its own dockerd), which take inotify instances; the kernel's
# default of 128 per user runs out with a dozen nodes and new ones exit at once with status 255.
if [ "$(sysctl -n fs.inotify.max_user_instances 2>/dev/null || echo 0)" -lt 1024 ]; then
  sysctl -q -w fs.inotify.max_user_instances=1024 || log "could not raise fs.inotify.max_user_instances"
fi
if [ "$(sysctl -n fs.inotify.max_user_watches 2>/dev/null || echo 0)" -lt 524288 ]; then
  sysctl -q -w fs.inotify.max_user_watches=524288 || log "could not raise fs.inotify.max_user_watches"
fi
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd in the background (log: /var/log/swarmops-dockerd.log)"
  nohup dockerd >/var/log/swarmops-dockerd.log 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { log "dockerd did not answer within 60 s; see /var/log/swarmops-dockerd.log"; exit 1; }
log "engine ready: $(docker version -f '{{.Server.Version}}')"
