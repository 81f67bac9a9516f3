#!/usr/bin/env bash
# The tiny image that test services run (no registry here): Debian's busybox-static in an
# otherwise empty rootfs, imported as $SERVICE_IMAGE and saved as a tarball that nodes `docker load`.
source "$(dirname "$0")/lib.sh"

archive="$TESTBED_CACHE/images/busybox.tar"
busybox="$(command -v busybox || true)"
[ -x /bin/busybox ] && busybox=/bin/busybox
[ -n "$busybox" ] || { log "busybox-static is missing (apt-get install busybox-static)"; exit 1; }
recipe="$( (cat "$0"; sha256sum "$busybox") | sha256sum | cut -c1-16)"
if [ "$(image_label "$SERVICE_IMAGE" swarmops.recipe)" = "$recipe" ] && [ -s "$archive" ]; then
  log "$SERVICE_IMAGE is up to date ($recipe)"
  exit 0
fi
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/www"
cp "$busybox" "$rootfs/bin/busybox"
"$rootfs/bin/busybox" --install -s "$rootfs/bin"
# "bin/busybox --install" links to the absolute path it was called by; point them inside the image.
for link in "$rootfs"/bin/*; do [ -L "$link" ] && ln -sf /bin/busybox "$link"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
echo 'hello from swarmops' >"$rootfs/www/index.html"
tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c "LABEL swarmops.recipe=$recipe" - "$SERVICE_IMAGE" >/dev/null
mkdir -p "$(dirname "$archive")"
docker save "$SERVICE_IMAGE" -o "$archive.tmp" && mv "$archive.tmp" "$archive"
log "built $SERVICE_IMAGE ($recipe) -> $archive"
