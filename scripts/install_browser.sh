#!/usr/bin/env bash
# Install Debian's chromium for the Playwright browser tests (tests/apps/test_web*.py), unless it is already there.
# Playwright's own browser download needs the internet; Debian's package only needs the apt mirror.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
    echo "install_browser: $CHROMIUM already installed"
    exit 0
fi

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
"$CHROMIUM" --version
