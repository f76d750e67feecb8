#!/usr/bin/env bash
# Issue #20 on a lent GPU machine: the trainings that take these 2 CPU cores sessions each, side by side on its one
# GPU (bf16 and channels-last, the CUDA defaults; faces, views and soft labels stay on the GPU):
#   base-distill      large:0 distilled from the `large` ensemble (--recipe base_distill), DISTILL_EPOCHS epochs
#   width-0.75, -0.6  large:0 pruned to 25% and 40% fewer channels (--width W --prune), recovered by the same
#                     distillation: the speed levers' accuracy (benchmarks/bench_levers.py has their speed)
#   vgg-long          the same VGG from scratch with the recipe of large's members (--recipe base), LONG_EPOCHS
#   vgg-long-distill  the same, distilled from `large` (its soft labels on the plain faces)
# Each run has the teacher label its views on the GPU (train.distill rebuilds it in PyTorch there), so only the
# faces travel. Each run's record and best model come back as $OUT/<name>.tar.gz, to be exported, quantised and
# scored on PublicTest here (scripts/device_results.sh).
#   here:   bash scripts/pack_device.sh       # .devdata/fer2013.tar.gz: FER2013's Training and PublicTest (~42 MB)
#   there:  device run, command "bash scripts/device_base.sh", carry [".devdata"], timeout_s 560
#   here:   bash scripts/device_results.sh DIR_OF_THE_TARS
# Each training stops at TRAIN_S seconds (default 420) even if its epochs are not done: model.pt is the best epoch so
# far and history.csv says how far it got (and how long an epoch took there, to size the epochs of the next call).
# SMOKE=1 tries the whole script on this CPU (1 epoch on 256 faces per run).
set -euo pipefail
: "${OUT:?OUT is the folder whose files come back (set by the device tool)}"
PACK=${PACK:-.devdata}
WORK=${WORK:-/tmp/ferkit-device}
PY=${PY:-python3}
DISTILL_EPOCHS=${DISTILL_EPOCHS:-30}
LONG_EPOCHS=${LONG_EPOCHS:-100}
TRAIN_S=${TRAIN_S:-420}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
run_args=(--accelerator cuda)
if [ -n "${SMOKE:-}" ]; then DISTILL_EPOCHS=1; LONG_EPOCHS=1; run_args=(--accelerator cpu --limit 256); fi

rm -rf "$WORK" && mkdir -p "$WORK/data" "$WORK/cache" "$WORK/runs"
tar xzf "$PACK/fer2013.tar.gz" -C "$WORK/data"
DATA=$WORK/data/$(ls "$WORK/data")
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$WORK/hardware.txt" 2>/dev/null || true

train() {  # NAME OPTIONS...: one run, bounded in time, packed for the way back whatever its end
    local name=$1; shift
    timeout -s INT "$TRAIN_S" "$PY" -m ferkit.apps.cli train --data "$DATA" --cache-dir "$WORK/cache" --seed 0 \
        --no-progress --run-dir "$WORK/runs/$name" "${run_args[@]}" "$@" \
        > "$WORK/runs/$name.log" 2>&1 || echo "$name: exit $?" >> "$WORK/runs/$name.log"
    cp "$WORK/hardware.txt" "$WORK/runs/$name.log" "$WORK/runs/$name/" 2>/dev/null || true
    tar czf "$OUT/$name.tar.gz" -C "$WORK/runs" --exclude checkpoints "$name"
}
distill=(--recipe base_distill --epochs "$DISTILL_EPOCHS")
train base-distill "${distill[@]}" &
train width-0.75 "${distill[@]}" --width 0.75 --prune &
train width-0.6 "${distill[@]}" --width 0.6 --prune &
train vgg-long --recipe base --epochs "$LONG_EPOCHS" &
train vgg-long-distill --recipe base --epochs "$LONG_EPOCHS" --teacher large --distill-weight 0.5 \
    --distill-temperature 4 &
wait
ls -la "$OUT"
