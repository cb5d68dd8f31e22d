#!/usr/bin/env bash
# Installs what faxgate needs on this machine: missing Debian packages (when root), the
# virtualenv in .venv and the package with its dev extras. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.faxgate-installed

missing_packages() {
    local pkg
    grep -v '^\s*#' scripts/debian-packages.txt | grep -v '^\s*$' | while read -r pkg; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
    done
}

missing=$(missing_packages | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bootstrap: installing Debian packages: $missing"
        export DEBIAN_FRONTEND=noninteractive
        # Postfix is a test peer only (a private instance per test): keep the system one local.
        echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
        echo "postfix postfix/mailname string localhost" | debconf-set-selections
        apt-get update -qq
        # Postfix, CUPS and avahi-daemon are test peers the tests start privately: the
        # packages must not start system-wide daemons (a system avahi would answer mDNS on
        # the host's network). policy-rc.d exit 101 tells the maintainer scripts "do not
        # start"; put in only for this install, and only when the machine has none.
        policy=/usr/sbin/policy-rc.d
        own_policy=
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 755 "$policy"
            own_policy=1
            trap 'rm -f "$policy"' EXIT  # also when the install fails
        fi
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
        if [ -n "$own_policy" ]; then
            rm -f "$policy"
            trap - EXIT
        fi
    else
        echo "bootstrap: missing Debian packages (run as root or install them): $missing" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$PYTHON" -m venv "$VENV"
    fi
fi

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    echo "bootstrap: installing faxgate and its Python dependencies into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e '.[dev]'
    touch "$STAMP"
fi
