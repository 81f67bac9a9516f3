#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine. CI starts with none: install Debian's
# docker.io when dockerd is missing, start it in the background and wait for the socket.
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  log "installing docker.io and the image-building tools from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io debootstrap gnupg dpkg-dev apt-utils \
    busybox-static xz-utils >/dev/null
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
