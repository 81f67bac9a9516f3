#!/bin/sh
# What site.yml does to the lab, by hand, as a tutorial does it: the baseline P2 is measured against.
# bench.py runs it in three phases, like the playbook's order:
#   cold-install.sh prepare REPOSITORY_URL IMAGE_URL ROLE MEMBER_IP...   every node, in parallel:
#       the engine from the signed repository (key, deb822 source, the five packages and python3-docker,
#       without Recommends), the lab's engine drop-in, the service image loaded, ufw installed with the
#       swarm ports open to the members only (2377/tcp on managers; 7946/tcp+udp, 4789/udp, ESP on all)
#       and SSH, then default deny
#   cold-install.sh init ADDRESS                                          the manager
#   cold-install.sh join ADDRESS MANAGER_ADDRESS  (worker token on stdin) each worker, in parallel
#   cold-install.sh services                                              the manager: the lab's services,
#       waiting until they run (docker service create waits for convergence)
set -eu
export DEBIAN_FRONTEND=noninteractive
phase="$1"
shift

case "$phase" in
  prepare)
    repo="$1" image_url="$2" role="$3"
    shift 3
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
    # the lab's docker_service_environment, written before the engine's first start
    mkdir -p /etc/systemd/system/docker.service.d
    printf '[Service]\nEnvironment="DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1"\n' \
      >/etc/systemd/system/docker.service.d/environment.conf
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker-ce docker-ce-cli containerd.io docker-buildx-plugin \
      docker-compose-plugin python3-docker ufw >/dev/null
    systemctl enable --now docker containerd >/dev/null 2>&1
    docker info >/dev/null
    curl -fsSL "$image_url" | docker load -q >/dev/null
    ufw allow 22/tcp comment 'ssh' >/dev/null
    for member in "$@"; do
      if [ "$role" = manager ]; then
        ufw allow from "$member" to any port 2377 proto tcp comment 'swarm cluster management' >/dev/null
      fi
      ufw allow from "$member" to any port 7946 proto tcp comment 'swarm node gossip' >/dev/null
      ufw allow from "$member" to any port 7946 proto udp comment 'swarm node gossip' >/dev/null
      ufw allow from "$member" to any port 4789 proto udp comment 'swarm overlay network traffic' >/dev/null
      ufw allow from "$member" proto esp comment 'swarm encrypted overlay' >/dev/null
    done
    ufw default deny incoming >/dev/null
    ufw --force enable >/dev/null
    ;;
  init)
    docker swarm init --advertise-addr "$1" >/dev/null
    ;;
  join)
    read -r token
    docker swarm join --advertise-addr "$1" --token "$token" "$2:2377" >/dev/null
    ;;
  services)
    docker service create -q --name helloworld --replicas 1 --init --no-resolve-image \
      swarmops/busybox:local ping 127.0.0.1 >/dev/null
    docker service create -q --name web --replicas 2 --init --no-resolve-image --replicas-max-per-node 1 \
      --constraint node.role==worker --publish published=8080,target=8080,mode=host \
      swarmops/busybox:local httpd -f -p 8080 -h /www >/dev/null
    ;;
  *)
    echo "usage: cold-install.sh prepare|init|join|services ..." >&2
    exit 2
    ;;
esac
