#!/usr/bin/env bash
# Set up the dev environment, install Debian's chromium for the browser tests, lint, check the import layers,
# and run the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh --runslow).
# The setup runs when .venv lacks a stamp of what it was set up from (a fresh clone), or when pyproject.toml or a
# setup script changed since; otherwise it is skipped, so a second run starts testing at once.
set -euo pipefail
cd "$(dirname "$0")/.."
STAMP=.venv/.ferkit-dev-setup
KEY=$(cat pyproject.toml scripts/setup.sh scripts/install_browser.sh | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || "$(cat "$STAMP" 2>/dev/null)" != "$KEY" ]]; then
    bash scripts/setup.sh dev
    bash scripts/install_browser.sh
    echo "$KEY" > "$STAMP"
else
    echo "test.sh: .venv is set up for this pyproject.toml (delete $STAMP to set it up again)"
fi
.venv/bin/ruff check src tests benchmarks
.venv/bin/lint-imports --no-cache  # the layers contract in pyproject.toml
.venv/bin/python -m pytest "$@"
