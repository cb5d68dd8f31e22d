#!/usr/bin/env bash
# Makes a local debian:bookworm-slim image with debootstrap when the Docker engine has none and
# cannot pull one (a machine without registry access). On a normal machine the image exists or
# is pulled and this does nothing. The Debian mirror is taken from this machine's own apt sources,
# so no mirror is written into the repository.
set -euo pipefail

IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
SUITE=bookworm

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE is present"
    exit 0
fi
if timeout 60 docker pull "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE pulled"
    exit 0
fi

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
    # deb822 sources first, then the one-line format; the first main archive that is not security.
    mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
        | grep -v security | head -n 1 || true)
fi
if [ -z "$mirror" ]; then
    mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '{print $2}' | grep -v security | head -n 1 || true)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in this machine's apt sources" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building $IMAGE with debootstrap from this machine's mirror"
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$work/root" "$mirror" >"$work/log" 2>&1 \
    || { tail -n 30 "$work/log" >&2; exit 1; }
# Trim it like the official -slim image: dpkg keeps no docs, man pages or translations from now
# on (the same path-exclude rules the official image carries), and what debootstrap already
# unpacked of them goes, with the apt lists.
cat >"$work/root/etc/dpkg/dpkg.cfg.d/docker" <<'RULES'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
RULES
find "$work/root/usr/share/doc" -mindepth 2 -not -name copyright -not -type d -delete
find "$work/root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin \
    "$work/root/usr/share/man/"* "$work/root/usr/share/info/"* "$work/root/usr/share/groff/"* \
    "$work/root/usr/share/lintian/"*
tar -C "$work/root" -c . | docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE" >/dev/null
echo "base image $IMAGE built"
