#!/usr/bin/env bash
# Makes the `debian:bookworm-slim` base image locally, for machines where no
# image registry is reachable: debootstrap (minbase) from the Debian mirror
# this machine already uses, trimmed the way the official slim image is
# (no docs, man pages or locales; no apt caches), then `podman import`.
#
#   docker/podman/make-base-image.sh WORKDIR [IMAGE]
#
# WORKDIR holds the root file system while it is made (deleted afterwards).
# IMAGE defaults to docker.io/library/debian:bookworm-slim. Needs root,
# debootstrap and podman (with CONTAINERS_CONF set by the caller if needed).
set -euo pipefail

work=${1:?usage: make-base-image.sh WORKDIR [IMAGE]}
image=${2:-docker.io/library/debian:bookworm-slim}
sources=/etc/apt/sources.list.d/debian.sources

# The mirror: the first URIs: line of the machine's deb822 sources (the
# debian archive itself, not the security one), else deb.debian.org.
mirror=http://deb.debian.org/debian
if [ -r "$sources" ]; then
  m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$sources")
  [ -n "$m" ] && mirror=$m
fi

rootfs="$work/rootfs"
rm -rf "$rootfs"
mkdir -p "$work"
echo "base-image: debootstrap --variant=minbase bookworm from $mirror" >&2
if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -20 "$work/debootstrap.log" >&2
  echo "base-image: debootstrap failed (log: $work/debootstrap.log)" >&2
  exit 1
fi

# Same apt sources as this machine (updates and security included), in the
# deb822 form the official image uses.
if [ -r "$sources" ]; then
  rm -f "$rootfs/etc/apt/sources.list"
  cp "$sources" "$rootfs/etc/apt/sources.list.d/debian.sources"
fi

# What the official slim image does: dpkg never installs docs, man pages or
# locales, and apt keeps no caches in image layers.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-no-languages" <<'CFG'
Acquire::Languages "none";
CFG
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
rm -f "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
: >"$rootfs/etc/machine-id" 2>/dev/null || true

echo "base-image: importing $(du -sh "$rootfs" | cut -f1) as $image" >&2
tar --numeric-owner -C "$rootfs" -c . |
  podman import --change 'CMD ["bash"]' - "$image" >/dev/null
rm -rf "$rootfs"
podman image inspect --format '{{.Id}}' "$image" >/dev/null
echo "base-image: $image ready" >&2
