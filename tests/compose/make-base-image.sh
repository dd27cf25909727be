#!/bin/sh
# Makes the base image the compose test builds on, without a registry: a minimal Debian
# bookworm made with debootstrap (from the Debian mirror) and imported as kiln-base:local.
# Needs root, debootstrap and a running Docker engine. Takes about a minute.
set -eu
IMAGE=${1:-kiln-base:local}
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian
tar -C "$ROOT" -c . | docker import - "$IMAGE"
echo "made $IMAGE"
