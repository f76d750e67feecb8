#!/usr/bin/env bash
# Class-imbalance study: the same short training three ways (plain cross-entropy, class-weighted loss,
# inverse-frequency sampling), then one comparison table with per-class recall (disgust is the rare class).
#   scripts/imbalance_study.sh [DATA] [OUT] [extra ferkit train options...]
set -euo pipefail
DATA=${1:-../shared/data/fer2013}
OUT=${2:-runs/imbalance}
shift $(( $# > 2 ? 2 : $# ))
FERKIT=${FERKIT:-.venv/bin/ferkit}
COMMON=(--data "$DATA" --model mobilenet_small --epochs 6 --batch-size 64 --optimizer adamw --lr 3e-3 --weight-decay 0.05
        --scheduler cosine --early-stop-patience 0 --no-progress "$@")
"$FERKIT" train "${COMMON[@]}" --run-dir "$OUT/plain"
"$FERKIT" train "${COMMON[@]}" --class-weighting balanced --run-dir "$OUT/weighted-loss"
"$FERKIT" train "${COMMON[@]}" --weighted-sampler --run-dir "$OUT/weighted-sampler"
for run in plain weighted-loss weighted-sampler; do
    "$FERKIT" evaluate --checkpoint "$OUT/$run" --split val --gradcam-per-class 0 --mistakes 0
done
"$FERKIT" compare "$OUT/plain" "$OUT/weighted-loss" "$OUT/weighted-sampler" --out "$OUT/compare"
