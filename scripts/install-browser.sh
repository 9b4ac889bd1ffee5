#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests if it is missing.
# Playwright drives it with executable_path=/usr/bin/chromium; we never run `playwright install`.
set -euo pipefail
CHROMIUM="${CSI_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "warning: $CHROMIUM is missing and we are not root: browser tests will be skipped" >&2
        exit 0
    fi
fi
echo "installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version
