#!/usr/bin/env bash
# Build the shipped `base` (issue #20): one network exported to ONNX and quantised to int8 with static calibration
# on FER2013 Training faces, written to src/ferkit/weights/base.onnx (+ base.json), then scored on PublicTest into
# its metadata. SOURCE is a network of the `large` ensemble (large:K, default large:0; `--init-from base` then
# rebuilds the float network from large.onnx) or a run folder, such as the distillation of `--recipe base_distill`
# (its float network ships beside, fp16, as weights/float/base.onnx, which `--init-from base` rebuilds).
# INPUT_SIZE=44 exports it for 44 px faces (`ferkit export --input-size`; model card, "Speed levers").
#   bash scripts/ship_base.sh [SOURCE] [DATA]       (DATA default ../shared/data/fer2013)
set -euo pipefail
cd "$(dirname "$0")/.."
source=${1:-large:0}
if [[ $source =~ ^[0-9]+$ ]]; then source=large:$source; fi  # the earlier form: a member index
data=${2:-../shared/data/fer2013}
size=()
if [ -n "${INPUT_SIZE:-}" ]; then size=(--input-size "$INPUT_SIZE"); fi
weights=src/ferkit/weights
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/ferkit export "$source" --onnx "$work/base.onnx" "${size[@]}" --int8 --calibration-data "$data" \
    --calibration-faces 512
rm -f "$weights/float/base.onnx" "$weights/float/base.json"
fine_tune_from=$source
if [[ $source != large:* ]]; then
    .venv/bin/ferkit export "$source" --onnx "$work/float.onnx" "${size[@]}" --fp16-weights
    mkdir -p "$weights/float"
    cp "$work/float.onnx" "$weights/float/base.onnx"
    cp "$work/float.json" "$weights/float/base.json"
    fine_tune_from=float/base.onnx
fi
.venv/bin/python scripts/ship_model.py "$work/base.int8.onnx" base --fine-tune-from "$fine_tune_from" \
    --recipe "${INPUT_SIZE:+INPUT_SIZE=$INPUT_SIZE }bash scripts/ship_base.sh $source" \
    --training-data "FER2013 Training split (28,709 faces); best epoch selected on PublicTest; int8 calibrated on 512 of its faces"
.venv/bin/python benchmarks/eval_bundled.py --data "$data" --models base --write-metadata
