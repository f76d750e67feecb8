#!/usr/bin/env bash
# Reproduce the shipped `large` model (for now also `base`): train its three members on FER2013 (Training split;
# PublicTest selects the best epoch), then export them as one ONNX ensemble with flip test-time augmentation.
#   scripts/train_base.sh [DATA] [OUT]       DATA default ../shared/data/fer2013, OUT default runs/base
# About 8 GPU-minutes per member on an H100 (they ran side by side); the recipe also runs on CPU, slowly.
set -euo pipefail
DATA=${1:-../shared/data/fer2013}
OUT=${2:-runs/base}
FERKIT=${FERKIT:-.venv/bin/ferkit}
"$FERKIT" train --recipe base --data "$DATA" --seed 2 --run-dir "$OUT/vgg-a"
"$FERKIT" train --recipe base --data "$DATA" --seed 0 --batch-size 128 --lr 0.05 --epochs 90 --run-dir "$OUT/vgg-b"
"$FERKIT" train --recipe base_resnet18 --data "$DATA" --seed 0 --run-dir "$OUT/resnet18"
"$FERKIT" export "$OUT/vgg-a" "$OUT/vgg-b" "$OUT/resnet18" --flip-tta --fp16-weights --parity-atol 0.02 \
    --onnx "$OUT/large.onnx"
"$FERKIT" evaluate --checkpoint "$OUT/large.pt" --data "$DATA" --split val
