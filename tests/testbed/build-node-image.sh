#!/usr/bin/env bash
# Build a "bare host" node image for one Debian release: debootstrap + docker import.
# Cached: rebuilt only when the image is missing or this recipe changed (label swarmops.recipe).
# usage: build-node-image.sh bookworm|trixie
source "$(dirname "$0")/lib.sh"

release="${1:?usage: build-node-image.sh RELEASE}"
image="$NODE_IMAGE_REPO:$release"
# Only what a freshly provisioned cloud VM has: the roles must install everything else.
packages="python3,systemd,systemd-sysv,dbus,iproute2,ca-certificates,gnupg,curl,sudo,procps,iputils-ping,netcat-openbsd"
recipe="$(printf '%s\n%s\n' "$packages" "$release" | cat - "$0" | sha256sum | cut -c1-16)"

if [ "$(image_label "$image" swarmops.recipe)" = "$recipe" ]; then
  log "$image is up to date ($recipe)"
  exit 0
fi
rootfs="$(mktemp -d "/var/tmp/swarmops-rootfs-$release.XXXXXX")"
trap 'rm -rf "$rootfs"' EXIT
log "debootstrap $release into $rootfs"
debootstrap --variant=minbase --include="$packages" "$release" "$rootfs" http://deb.debian.org/debian \
  >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# A container has no console or hardware to wait for; these units only slow boot or fail.
for unit in getty@tty1.service systemd-udevd.service systemd-udev-trigger.service \
  systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
echo "swarmops-node" >"$rootfs/etc/hostname"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' \
  -c "LABEL swarmops.recipe=$recipe" - "$image" >/dev/null
log "built $image ($recipe)"
