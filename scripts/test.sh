#!/usr/bin/env bash
# Set up the dev environment, install Debian's chromium for the browser tests, lint, check the import layers,
# and run the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh --runslow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/install_browser.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/lint-imports --no-cache  # the layers contract in pyproject.toml
.venv/bin/python -m pytest "$@"
