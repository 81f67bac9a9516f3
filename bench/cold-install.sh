#!/bin/sh
# The engine install by hand, as a tutorial does it: the baseline the docker role is measured against.
# The same install as the role's defaults: the five packages and python3-docker, without Recommends
# (docker_apt_install_recommends: false), engine enabled and answering.
# usage (on a node): cold-install.sh REPOSITORY_URL
set -eu
repo="$1"
export DEBIAN_FRONTEND=noninteractive
install -m 0755 -d /etc/apt/keyrings
curl -fsSL "$repo/gpg" -o /etc/apt/keyrings/docker.asc
. /etc/os-release
cat >/etc/apt/sources.list.d/docker.sources <<SOURCES
Types: deb
URIs: $repo
Suites: $VERSION_CODENAME
Components: stable
Architectures: $(dpkg --print-architecture)
Signed-By: /etc/apt/keyrings/docker.asc
SOURCES
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin python3-docker >/dev/null
systemctl enable --now docker containerd >/dev/null 2>&1
docker info >/dev/null
