#!/usr/bin/env bash
# Reproduce the shipped `small` model: distil it from `large` in two stages on FER2013 (Training split; PublicTest
# selects the best epoch), then export it to ONNX and evaluate it.
#   scripts/train_small.sh [DATA] [OUT]      DATA default ../shared/data/fer2013, OUT default runs/small
# About 4.3 hours on 2 CPU cores (teacher passes included). Run it again after an interruption: a finished stage
# (its train_metrics.json exists) is skipped and an unfinished one resumes from its last checkpoint.
set -euo pipefail
DATA=${1:-../shared/data/fer2013}
OUT=${2:-runs/small}
FERKIT=${FERKIT:-.venv/bin/ferkit}

stage() {  # stage RUN_DIR TRAIN_ARGS...
    local dir=$1; shift
    [ -f "$dir/train_metrics.json" ] && { echo "skip $dir: finished"; return 0; }
    local resume=(); [ -f "$dir/checkpoints/last.ckpt" ] && resume=(--resume)
    "$FERKIT" train "$@" --data "$DATA" --run-dir "$dir" "${resume[@]}"
}

stage "$OUT/stage1" --recipe small
stage "$OUT/stage2" --recipe small_views --init-from "$OUT/stage1"
"$FERKIT" export "$OUT/stage2" --onnx "$OUT/small.onnx"
"$FERKIT" evaluate --checkpoint "$OUT/stage2" --data "$DATA" --split val
