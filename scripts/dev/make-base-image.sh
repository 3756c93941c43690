#!/usr/bin/env bash
# A LOCAL STAND-IN for the `python:3.11-slim` base image, for machines that reach Debian's package
# archive but no registry of container images (such as this project's development machines).
#
#   sudo bash scripts/dev/make-base-image.sh            # tags python:3.11-slim (what the Dockerfile uses)
#   sudo bash scripts/dev/make-base-image.sh NAME:TAG   # another name
#
# It debootstraps a minimal Debian bookworm (whose python3 is 3.11), adds python3, pip and venv, and
# `docker import`s the tree under the Dockerfile's base image name, so `docker build -t modsim .`
# runs the project's Dockerfile unchanged. Needs root, debootstrap and a running Docker daemon
# (apt-get install -y docker.io debootstrap; dockerd &). Takes about a minute.
#
# Users with a registry never need this: they build against the real python:3.11-slim. Nothing below
# belongs in the Dockerfile; the two quirks marked "STAND-IN ONLY" exist only to make a Debian tree
# behave like the official image on these machines.
set -euo pipefail

image="${1:-python:3.11-slim}"
suite="${MODSIM_BASE_SUITE:-bookworm}"

if [ "$(id -u)" -ne 0 ]; then
  echo "make-base-image: run as root (debootstrap and chroot need it)" >&2
  exit 2
fi
for tool in debootstrap docker chroot; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "make-base-image: $tool not found (apt-get install -y docker.io debootstrap)" >&2
    exit 2
  }
done
docker info >/dev/null 2>&1 || {
  echo "make-base-image: no Docker daemon answers (start dockerd first)" >&2
  exit 2
}

rootfs="$(mktemp -d /tmp/modsim-base.XXXXXX)"
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  rm -rf --one-file-system "$rootfs"
}
trap cleanup EXIT

echo "make-base-image: debootstrap $suite into $rootfs" >&2
debootstrap --variant=minbase "$suite" "$rootfs" >/dev/null

cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  python3 python3-pip python3-venv ca-certificates >/dev/null
chroot "$rootfs" apt-get clean
umount "$rootfs/proc"
rm -rf "$rootfs"/var/lib/apt/lists/*
: >"$rootfs/etc/resolv.conf" # Docker writes its own at run time

# The official image has `python` and `pip` on PATH in /usr/local/bin.
ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
[ -e "$rootfs/usr/bin/pip" ] || ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"

# STAND-IN ONLY: bookworm's pip refuses to install into the system Python (PEP 668); the official
# image's Python lives in /usr/local and has no such guard, so the Dockerfile's `pip install .` works.
printf '[global]\nbreak-system-packages = true\n' >"$rootfs/etc/pip.conf"

# STAND-IN ONLY: on these machines package downloads go through an intercepting proxy with its own
# CA, which Debian's bundle does not trust; give the image the host's bundle (public certificates).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi

echo "make-base-image: importing as $image" >&2
tar -C "$rootfs" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["python3"]' \
  -m "local stand-in for $image (scripts/dev/make-base-image.sh)" - "$image" >/dev/null
docker image ls "$image"
