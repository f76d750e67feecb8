#!/usr/bin/env bash
# Ship a FER+ training run (`ferkit train --recipe ferplus`, issue #21) as the bundled `ferplus`: exported to ONNX,
# quantised to static int8 (7-bit weights) calibrated on FER+ Training faces, written to
# src/ferkit/weights/ferplus.onnx (+ ferplus.json), then scored on both label sets into its metadata (FER2013
# PublicTest, and FER+ FER2013Valid against the majority vote and the annotators).
#   bash scripts/ship_ferplus.sh RUN [FERPLUS_DATA] [FER2013_DATA]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: ship_ferplus.sh RUN [FERPLUS_DATA] [FER2013_DATA]}
ferplus=${2:-../shared/data/ferplus}
fer2013=${3:-../shared/data/fer2013}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/ferkit export "$run" --onnx "$work/ferplus.onnx" --int8 --calibration-data "$ferplus" \
    --calibration-faces 512
.venv/bin/python scripts/ship_model.py "$work/ferplus.int8.onnx" ferplus \
    --recipe "ferkit train --recipe ferplus --data $ferplus (run $(basename "$run")), then bash scripts/ship_ferplus.sh" \
    --training-data "FER+ FER2013Train (votes of ten annotators per FER2013 Training face); epoch selected on FER+ FER2013Valid; int8 calibrated on 512 of its faces"
.venv/bin/python benchmarks/eval_bundled.py --data "$fer2013" --ferplus-data "$ferplus" --models ferplus --write-metadata
