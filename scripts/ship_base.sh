#!/usr/bin/env bash
# Build the shipped `base` (issue #20): one network of the `large` ensemble (large:K, default 0), exported to ONNX
# and quantised to int8 with static calibration on FER2013 Training faces, written to src/ferkit/weights/base.onnx
# (+ base.json, whose `fine_tune_from` lets `--init-from base` rebuild the float network), then scored on PublicTest
# into its metadata.
#   bash scripts/ship_base.sh [K] [DATA]       (DATA default ../shared/data/fer2013)
set -euo pipefail
cd "$(dirname "$0")/.."
member=${1:-0}
data=${2:-../shared/data/fer2013}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/ferkit export "large:$member" --onnx "$work/base.onnx" --int8 --calibration-data "$data" \
    --calibration-faces 512
.venv/bin/python scripts/ship_model.py "$work/base.int8.onnx" base --fine-tune-from "large:$member" \
    --recipe "bash scripts/ship_base.sh $member" \
    --training-data "FER2013 Training split (28,709 faces); best epoch selected on PublicTest; int8 calibrated on 512 of its faces"
.venv/bin/python benchmarks/eval_bundled.py --data "$data" --models base --write-metadata
