#!/usr/bin/env bash
# A signed local mirror of Docker's apt repository (download.docker.com/linux/debian), for hosts that
# cannot reach the real one. Packages are named, versioned and laid out like Docker's, and their payload
# is repacked from each release's own Debian builds of the same software (glibc differs between releases).
#
#   .cache/testbed/mirror/www/linux/debian/gpg                          ASCII-armored public key
#   .cache/testbed/mirror/www/linux/debian/dists/CODENAME/{Release,InRelease,Release.gpg}
#   .cache/testbed/mirror/www/linux/debian/dists/CODENAME/stable/binary-amd64/Packages{,.gz}
#   .cache/testbed/mirror/www/linux/debian/dists/CODENAME/pool/stable/amd64/*.deb
#   .cache/testbed/mirror/www/images/busybox.tar                        service image for `docker load`
#   .cache/testbed/mirror/fingerprint                                   the signing key, 40 hex digits
#
# Per release two versions of docker-ce and docker-ce-cli are published so that pinning, upgrading and
# downgrading can be tested: the Debian version (e.g. 5:20.10.24-1~debian.12~bookworm) and one patch
# release lower (5:20.10.23-…). The lower one carries the SAME payload, re-labelled: `dpkg` sees two
# versions, `dockerd --version` reports the Debian build's version for both.
#
# Cached: the tree is rebuilt only when this script, the node images or the service image changed.
# The signing key is made once (unprotected, throwaway, private GNUPGHOME under .cache) and reused.
# Afterwards the mirror container is (re)started: see mirror.sh.
source "$(dirname "$0")/lib.sh"

MIRROR_DIR="$TESTBED_CACHE/mirror"
WWW="$MIRROR_DIR/www"
RELEASES=(bookworm trixie)
declare -A DEBIAN_NUMBER=([bookworm]=12 [trixie]=13)
busybox_tar="$TESTBED_CACHE/images/busybox.tar"

[ -s "$busybox_tar" ] || { log "missing $busybox_tar (run build-service-image.sh)"; exit 1; }
for r in "${RELEASES[@]}"; do
  [ -n "$(image_label "$NODE_IMAGE_REPO:$r" swarmops.recipe)" ] || { log "missing $NODE_IMAGE_REPO:$r (run build-node-image.sh $r)"; exit 1; }
done
recipe="$( (cat "$0"; for r in "${RELEASES[@]}"; do image_label "$NODE_IMAGE_REPO:$r" swarmops.recipe; done
  sha256sum <"$busybox_tar") | sha256sum | cut -c1-16)"

if [ "$(cat "$MIRROR_DIR/recipe" 2>/dev/null)" = "$recipe" ] && [ -s "$WWW/linux/debian/gpg" ] \
  && [ -s "$MIRROR_DIR/fingerprint" ]; then
  log "mirror is up to date ($recipe)"
  bash "$TESTBED_DIR/mirror.sh" up; exit 0
fi

# ---- the throwaway signing key (kept across rebuilds so the fingerprint stays stable) ----------------
export GNUPGHOME="$MIRROR_DIR/gnupg"
if [ ! -s "$MIRROR_DIR/fingerprint" ] || ! gpg --batch --list-secret-keys "$(cat "$MIRROR_DIR/fingerprint")" >/dev/null 2>&1; then
  rm -rf "$GNUPGHOME"
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  log "generating the mirror's throwaway signing key"
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-generate-key "swarmops test mirror (throwaway, test bed only) <mirror@swarmops.invalid>" rsa3072 sign never
  gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }' >"$MIRROR_DIR/fingerprint"
fi
fingerprint="$(cat "$MIRROR_DIR/fingerprint")"

work="$(mktemp -d "/var/tmp/swarmops-mirror.XXXXXX")"
trap 'rm -rf "$work"' EXIT
new="$work/www"
repo="$new/linux/debian"
mkdir -p "$repo" "$new/images"
gpg --batch --armor --export "$fingerprint" >"$repo/gpg"
cp "$busybox_tar" "$new/images/busybox.tar"

# ---- per-release packages ------------------------------------------------------------------------
# Debian's own packages, downloaded inside a throwaway container of that release.
download() {
  local release="$1" dir="$2"; shift 2
  mkdir -p "$dir"
  ensure_network swarmops-build 10.213.250.0/24
  docker run --rm --network swarmops-build -v "$dir:/out" -w /out "$NODE_IMAGE_REPO:$release" bash -c '
    set -e
    apt-get update -qq
    # _apt cannot write to the bind mount; downloading as root is fine for a throwaway container.
    apt-get download -q -o APT::Sandbox::User=root "$@" >/dev/null' - "$@"
}

# field PKG.deb FIELD: one control field of a Debian package.
field() { dpkg-deb -f "$1" "$2"; }
# upstream VERSION of a Debian version: 20.10.24+dfsg1-1+deb12u1 -> 20.10.24
upstream() { sed -E 's/^[0-9]+://; s/[~+-].*$//' <<<"$1"; }
# a version one patch release lower: 20.10.24 -> 20.10.23
lower() { awk -F. -v OFS=. '{ $NF = $NF - 1; print }' <<<"$1"; }

# build_deb DIR: DIR/DEBIAN/control (+ scripts) and the payload -> the pool.
build_deb() {
  local dir="$1" pool="$2"
  find "$dir" -path "$dir/DEBIAN" -prune -o -type f -print0 | xargs -0 -r md5sum \
    | sed "s| $dir/| |" >"$dir/DEBIAN/md5sums"
  dpkg-deb --root-owner-group -Zgzip -z3 --build "$dir" "$pool/" >/dev/null
}

# control DIR FIELDS...: write DIR/DEBIAN/control from "Field: value" lines (empty values dropped).
control() {
  local dir="$1"; shift
  mkdir -p "$dir/DEBIAN"
  printf '%s\n' "$@" | grep -v -E '^[A-Za-z-]+: *$' >"$dir/DEBIAN/control"
  printf 'Installed-Size: %s\n' "$(du -sk --exclude=DEBIAN "$dir" | cut -f1)" >>"$dir/DEBIAN/control"
}

# Maintainer scripts that do what Docker's (debhelper-generated) ones do: enable and start the
# units on install, restart them on upgrade/downgrade, stop them on removal.
service_scripts() {
  local dir="$1" units="$2" group="${3:-}"
  cat >"$dir/DEBIAN/postinst" <<EOF
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
  ${group:+getent group $group >/dev/null || groupadd --system $group}
  if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
    deb-systemd-helper unmask $units >/dev/null || true
    deb-systemd-helper enable $units >/dev/null || true
    if [ -n "\$2" ]; then action=restart; else action=start; fi
    deb-systemd-invoke \$action $units >/dev/null || true
  fi
fi
EOF
  cat >"$dir/DEBIAN/prerm" <<EOF
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "\$1" = remove ]; then
  deb-systemd-invoke stop $units >/dev/null || true
fi
EOF
  cat >"$dir/DEBIAN/postrm" <<EOF
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl --system daemon-reload >/dev/null || true; fi
if [ "\$1" = purge ] && [ -x /usr/bin/deb-systemd-helper ]; then deb-systemd-helper purge $units >/dev/null || true; fi
EOF
  chmod 755 "$dir/DEBIAN/postinst" "$dir/DEBIAN/prerm" "$dir/DEBIAN/postrm"
}

# Shared-library dependencies of a Debian package, without the packages this repository replaces.
lib_depends() {
  field "$1" Depends | tr ',' '\n' | sed 's/^ *//' \
    | grep -v -E '^(adduser|containerd|runc|tini|docker-cli|iptables|lsb-base|sysvinit-utils)( |$)' | paste -sd, | sed 's/,/, /g'
}

# Docker's own unit files (as shipped in docker-ce / containerd.io), not Debian's.
# shellcheck disable=SC2016  # a unit file: $MAINPID is for systemd, not this shell
DOCKER_SERVICE='[Unit]
Description=Docker Application Container Engine
Documentation=https://docs.docker.com
After=network-online.target docker.socket firewalld.service containerd.service time-set.target
Wants=network-online.target containerd.service
Requires=docker.socket

[Service]
Type=notify
# the default is not to use systemd for cgroups because the delegate issues still
# exists and systemd currently does not support the cgroup feature set required
# for containers run by docker
ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutStartSec=0
RestartSec=2
Restart=always
StartLimitBurst=3
StartLimitInterval=60s
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
KillMode=process
OOMScoreAdjust=-500

[Install]
WantedBy=multi-user.target'
DOCKER_SOCKET='[Unit]
Description=Docker Socket for the API

[Socket]
ListenStream=/run/docker.sock
SocketMode=0660
SocketUser=root
SocketGroup=docker

[Install]
WantedBy=sockets.target'
CONTAINERD_SERVICE='[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target'
CONTAINERD_CONFIG='#   Copyright 2018-2022 Docker Inc.
#   (as shipped in containerd.io: the CRI plugin is off because Docker does not use it)
disabled_plugins = ["cri"]'

COMMON=("Maintainer: swarmops test bed <mirror@swarmops.invalid>" "Homepage: https://www.docker.com"
  "Section: admin" "Priority: optional" "Architecture: amd64")

build_release() {
  local release="$1" num="${DEBIAN_NUMBER[$1]}" src="$work/src/$1" x="$work/x/$1" pool
  local packages=(docker.io containerd runc tini) suffix="~debian.$num~$release"
  [ "$release" != bookworm ] && packages+=(docker-cli docker-buildx docker-compose)
  log "$release: downloading ${packages[*]}"
  download "$release" "$src" "${packages[@]}"
  for deb in "$src"/*.deb; do
    mkdir -p "$x/$(field "$deb" Package)"
    dpkg-deb -x "$deb" "$x/$(field "$deb" Package)"
  done
  local dockerio=("$src"/docker.io_*.deb) containerd=("$src"/containerd_*.deb) runc=("$src"/runc_*.deb)
  local engine_up cont_up runc_up
  engine_up="$(upstream "$(field "${dockerio[0]}" Version)")"
  cont_up="$(upstream "$(field "${containerd[0]}" Version)")"
  runc_up="$(upstream "$(field "${runc[0]}" Version)")"
  pool="$repo/dists/$release/pool/stable/amd64"
  mkdir -p "$pool"

  # containerd.io: containerd + runc, Docker's unit and config, replacing Debian's two packages.
  local p="$work/pkg/$release/containerd.io"
  install -D -m 755 -t "$p/usr/bin" "$x/containerd/usr/bin/"* "$x/runc/usr/sbin/runc"
  install -D -m 644 /dev/stdin "$p/lib/systemd/system/containerd.service" <<<"$CONTAINERD_SERVICE"
  install -D -m 644 /dev/stdin "$p/etc/containerd/config.toml" <<<"$CONTAINERD_CONFIG"
  control "$p" "Package: containerd.io" "Version: $cont_up-1" "${COMMON[@]}" \
    "Depends: $( (lib_depends "${containerd[0]}"; lib_depends "${runc[0]}") | tr ',' '\n' | sed 's/^ *//' | awk '!seen[$0]++' | paste -sd, | sed 's/,/, /g')" \
    "Conflicts: containerd, runc" "Replaces: containerd, runc" "Provides: containerd, runc" \
    "Description: An open and reliable container runtime" \
    " Repacked for the swarmops test bed from Debian $release's containerd $cont_up and runc $runc_up."
  echo /etc/containerd/config.toml >"$p/DEBIAN/conffiles"
  service_scripts "$p" containerd.service
  build_deb "$p" "$pool"

  # docker-ce-cli and docker-ce, each in the Debian version and one patch release lower (same payload).
  local cli_src=docker.io; [ -d "$x/docker-cli" ] && cli_src=docker-cli
  local v
  for v in "$engine_up" "$(lower "$engine_up")"; do
    p="$work/pkg/$release/docker-ce-cli-$v"
    install -D -m 755 "$x/$cli_src/usr/bin/docker" "$p/usr/bin/docker"
    control "$p" "Package: docker-ce-cli" "Version: 5:$v-1$suffix" "${COMMON[@]}" \
      "Depends: $(lib_depends "$src/${cli_src}_"*.deb)" \
      "Recommends: docker-buildx-plugin, docker-compose-plugin" \
      "Conflicts: docker (<< 1.5~), docker-engine, docker.io, docker-cli, podman-docker" \
      "Replaces: docker-ce (<< 5:0), docker-engine, docker.io, docker-cli" "Breaks: docker-ce (<< 5:0)" \
      "Description: Docker CLI: the open-source application container engine" \
      " Repacked for the swarmops test bed from Debian $release's docker CLI $engine_up$( [ "$v" != "$engine_up" ] && echo " (re-labelled $v to test pinning)")."
    build_deb "$p" "$pool"

    p="$work/pkg/$release/docker-ce-$v"
    install -D -m 755 "$x/docker.io/usr/sbin/dockerd" "$p/usr/bin/dockerd"
    install -D -m 755 "$x/docker.io/usr/sbin/docker-proxy" "$p/usr/bin/docker-proxy"
    # /usr/bin, as in Docker's own docker-ce: dockerd looks docker-init up on PATH (services with init: true)
    install -D -m 755 "$x/tini/usr/bin/tini-static" "$p/usr/bin/docker-init"
    install -D -m 644 /dev/stdin "$p/lib/systemd/system/docker.service" <<<"$DOCKER_SERVICE"
    install -D -m 644 /dev/stdin "$p/lib/systemd/system/docker.socket" <<<"$DOCKER_SOCKET"
    control "$p" "Package: docker-ce" "Version: 5:$v-1$suffix" "${COMMON[@]}" \
      "Depends: containerd.io (>= 1.6.4), docker-ce-cli, iptables, $(lib_depends "${dockerio[0]}")" \
      "Recommends: apparmor, ca-certificates, git, libltdl7, pigz, procps, xz-utils" \
      "Conflicts: docker (<< 1.5~), docker-engine, docker.io" "Replaces: docker-engine" \
      "Description: Docker: the open-source application container engine" \
      " Repacked for the swarmops test bed from Debian $release's docker.io $engine_up$( [ "$v" != "$engine_up" ] && echo " (re-labelled $v to test pinning)")."
    service_scripts "$p" "docker.socket docker.service" docker
    build_deb "$p" "$pool"
  done

  # The CLI plugins: this release's own builds, or (bookworm, which has none) trixie's when they run here.
  local plugin
  for plugin in buildx compose; do
    local deb=("$work/src/$release/docker-${plugin}_"*.deb) from="$release"
    [ -e "${deb[0]}" ] || { deb=("$work/src/trixie/docker-${plugin}_"*.deb); from=trixie; }
    local ver bin="$work/x/$from/docker-$plugin/usr/libexec/docker/cli-plugins/docker-$plugin"
    ver="$(upstream "$(field "${deb[0]}" Version)")"
    p="$work/pkg/$release/docker-$plugin-plugin"
    mkdir -p "$p/usr/libexec/docker/cli-plugins"
    local depends note="Debian $from's docker-$plugin $ver"
    depends="$(lib_depends "${deb[0]}")"
    if [ "$from" != "$release" ] && ! plugin_runs_on "$release" "$bin"; then
      # Not runnable with this release's libc: an honest placeholder that says so, instead of a broken binary.
      placeholder "$plugin" "$release" >"$p/usr/libexec/docker/cli-plugins/docker-$plugin"
      chmod 755 "$p/usr/libexec/docker/cli-plugins/docker-$plugin"
      depends=""; ver="0.0.0"; note="a placeholder (Debian $release has no docker-$plugin)"
    else
      install -m 755 "$bin" "$p/usr/libexec/docker/cli-plugins/docker-$plugin"
    fi
    control "$p" "Package: docker-$plugin-plugin" "Version: $ver-1$suffix" "${COMMON[@]}" \
      "Depends: $depends" "Enhances: docker-ce-cli" \
      "Description: Docker $plugin CLI plugin" " Repacked for the swarmops test bed from $note."
    build_deb "$p" "$pool"
  done

  # The index and the signatures, like download.docker.com's.
  local dist="$repo/dists/$release"
  mkdir -p "$dist/stable/binary-amd64"
  (cd "$repo" && apt-ftparchive packages "dists/$release/pool/stable/amd64") >"$dist/stable/binary-amd64/Packages"
  gzip -9kn "$dist/stable/binary-amd64/Packages"
  apt-ftparchive -o APT::FTPArchive::Release::Origin=Docker \
    -o "APT::FTPArchive::Release::Label=Docker CE" -o APT::FTPArchive::Release::Suite="$release" \
    -o APT::FTPArchive::Release::Codename="$release" -o APT::FTPArchive::Release::Architectures=amd64 \
    -o APT::FTPArchive::Release::Components=stable \
    -o "APT::FTPArchive::Release::Description=swarmops test-bed mirror of Docker CE for Debian $release" \
    release "$dist" >"$work/Release.$release"
  mv "$work/Release.$release" "$dist/Release"
  gpg --batch --yes --local-user "$fingerprint" --clearsign -o "$dist/InRelease" "$dist/Release"
  gpg --batch --yes --local-user "$fingerprint" --armor --detach-sign -o "$dist/Release.gpg" "$dist/Release"
}

# plugin_runs_on RELEASE BINARY: the (dynamically linked) plugin answers on that release's node image.
plugin_runs_on() {
  docker run --rm -v "$2:/plugin:ro" "$NODE_IMAGE_REPO:$1" /plugin docker-cli-plugin-metadata >/dev/null 2>&1
}

placeholder() {
  cat <<EOF
#!/bin/sh
# Placeholder docker-$1 CLI plugin from the swarmops test-bed mirror: Debian $2 ships no docker-$1.
if [ "\$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"swarmops test bed","Version":"v0.0.0","ShortDescription":"placeholder, not available on Debian $2"}'
  exit 0
fi
echo "docker $1: not available in this test mirror for Debian $2" >&2
exit 1
EOF
}

# trixie first: its plugins are reused for bookworm.
mkdir -p "$work/src"
build_release trixie
build_release bookworm

# Swap the tree in, then restart the server so its bind mount sees the new directory.
rm -rf "$WWW.old"
[ -d "$WWW" ] && mv "$WWW" "$WWW.old"
mv "$new" "$WWW"
rm -rf "$WWW.old"
echo "$recipe" >"$MIRROR_DIR/recipe"
log "built mirror $recipe (key $fingerprint): $(find "$WWW" -name '*.deb' | wc -l) packages"
# Not exec: the EXIT trap must still remove the work directory.
bash "$TESTBED_DIR/mirror.sh" restart
