#!/usr/bin/env bash
# Create .venv with Python 3.11 and install ferkit into it.
#   scripts/setup.sh          inference only (ONNX Runtime + OpenCV, no torch)
#   scripts/setup.sh dev      everything: training (torch 2.13 CPU), service, tests, linters
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [[ "${1:-}" == "dev" ]]; then
    .venv/bin/python -m pip install -q -e '.[dev]'
else
    .venv/bin/python -m pip install -q -e .
fi
