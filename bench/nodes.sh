#!/usr/bin/env bash
# Extra node containers for the bench, with a memory limit so a dozen fit on the machine.
#   nodes.sh up IMAGE NETWORK MEMORY NAME:IP...   fresh containers (leftovers of the same name replaced), systemd up
#   nodes.sh down NAME...                         remove them
#   nodes.sh commit NAME IMAGE                    stop NAME and save its root filesystem as IMAGE (the engine's
#                                                 data in /var/lib/docker is a volume and is not saved)
source "$(dirname "$0")/../tests/testbed/lib.sh"

case "${1:-}" in
  up)
    image="$2" network="$3" memory="$4"
    shift 4
    for entry in "$@"; do
      name="${entry%%:*}"
      docker rm -f -v "$name" >/dev/null 2>&1 || true
      docker run -d --name "$name" --hostname "$name" --network "$network" --ip "${entry##*:}" \
        --memory "$memory" "${NODE_RUN_FLAGS[@]}" "$image" >/dev/null
    done
    for entry in "$@"; do wait_for_systemd "${entry%%:*}"; done
    ;;
  down)
    shift
    for name in "$@"; do docker rm -f -v "$name" >/dev/null 2>&1 || true; done
    ;;
  commit)
    docker stop "$2" >/dev/null
    docker commit "$2" "$3" >/dev/null
    ;;
  *)
    echo "usage: nodes.sh up|down|commit ..." >&2
    exit 2
    ;;
esac
