#!/usr/bin/env bash
# Builds the faxgate image. On a machine without registry access the base image is made locally
# first (scripts/build-base-image.sh). What this machine needs extra to reach its package
# sources is passed as build arguments that are empty no-ops elsewhere:
#   APT_OPTIONS     taken from this machine's apt configuration (snapshot mirrors whose Release
#                   files have expired need Check-Valid-Until=false)
#   EXTRA_CA_CERTS  the machine's extra CA certificates under /usr/local/share/ca-certificates
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-faxgate:latest}

scripts/build-base-image.sh

apt_options=""
if [ "$(apt-config dump Acquire::Check-Valid-Until 2>/dev/null)" = 'Acquire::Check-Valid-Until "false";' ]; then
    apt_options="-o Acquire::Check-Valid-Until=false"
fi
extra_ca=""
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    extra_ca=$(cat /usr/local/share/ca-certificates/*.crt)
fi

[ -f requirements.lock ] || make lock
log=$(mktemp)
trap 'rm -f "$log"' EXIT
previous=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
started=$(date +%s)
if ! docker build -t "$IMAGE" \
    --build-arg "APT_OPTIONS=$apt_options" \
    --build-arg "EXTRA_CA_CERTS=$extra_ca" \
    . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "image build failed" >&2
    exit 1
fi
echo "image build took $(( $(date +%s) - started )) s"
# The image this build replaced lost its tag: remove it unless a container still uses it, so
# repeated builds do not fill the disk with untagged copies.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
fi
echo "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
