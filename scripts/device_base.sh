#!/usr/bin/env bash
# Issue #12 on a lent GPU machine: candidates for the new `base` trained side by side on its one GPU, each
# distilled from `large`; each run's record and best model come back as $OUT/<name>.tar.gz, to be exported,
# quantised and scored on PublicTest here (scripts/device_results.sh).
#   here:   bash scripts/pack_device.sh       # .devdata/: FER2013 (~42 MB) + the teacher's soft labels
#   there:  device run, command "bash scripts/device_base.sh", carry [".devdata"], timeout_s 560
#   here:   bash scripts/device_results.sh DIR_OF_THE_TARS
# Each training stops at TRAIN_S seconds (default 420) even if its EPOCHS (default 120) are not done: model.pt
# is the best epoch so far and history.csv says how far it got. SMOKE=1 tries the whole script on this CPU.
set -euo pipefail
: "${OUT:?OUT is the folder whose files come back (set by the device tool)}"
PACK=${PACK:-.devdata}
WORK=${WORK:-/tmp/ferkit-device}
PY=${PY:-python3}
EPOCHS=${EPOCHS:-120}
TRAIN_S=${TRAIN_S:-420}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
run_args=(--accelerator cuda)
if [ -n "${SMOKE:-}" ]; then EPOCHS=1; run_args=(--accelerator cpu --limit 256); fi

rm -rf "$WORK" && mkdir -p "$WORK/data" "$WORK/cache" "$WORK/runs"
tar xzf "$PACK/fer2013.tar.gz" -C "$WORK/data"
cp -r "$PACK/cache/." "$WORK/cache/"
DATA=$WORK/data/$(ls "$WORK/data")
if [ -z "${SMOKE:-}" ]; then  # found in the pack, or made once here before the runs share them
    "$PY" scripts/teacher_labels.py --data "$DATA" --cache-dir "$WORK/cache"
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$WORK/hardware.txt" 2>/dev/null || true

# The CPU recipe of `small` and of the vgg_slim CPU candidate (AdamW), the GPU recipe of `large`'s members (SGD).
distill=(--teacher large --distill-weight 0.5 --distill-temperature 4 --label-smoothing 0.1 --scheduler cosine
         --aug-flip 0.5 --aug-rotate 15 --aug-scale 0.15 --aug-shift 0.1 --aug-brightness 0.3 --aug-contrast 0.3)
adamw=(--optimizer adamw --lr 3e-3 --weight-decay 0.05 --batch-size 128 --warmup-epochs 3 --aug-erase 0.25)
sgd=(--optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 5e-4 --batch-size 256 --warmup-epochs 3 --aug-erase 0.5)
train() {  # NAME OPTIONS...: one candidate, bounded in time, packed for the way back whatever its end
    local name=$1; shift
    timeout -s INT "$TRAIN_S" "$PY" -m ferkit.apps.cli train --data "$DATA" --cache-dir "$WORK/cache" \
        --epochs "$EPOCHS" --seed 0 --no-progress --run-dir "$WORK/runs/$name" "${run_args[@]}" "$@" \
        > "$WORK/runs/$name.log" 2>&1 || echo "$name: exit $?" >> "$WORK/runs/$name.log"
    cp "$WORK/hardware.txt" "$WORK/runs/$name.log" "$WORK/runs/$name/" 2>/dev/null || true
    tar czf "$OUT/$name.tar.gz" -C "$WORK/runs" --exclude checkpoints "$name"
}
train vgg_slim-adamw --model vgg_slim "${distill[@]}" "${adamw[@]}" &
train vgg_slim-sgd --model vgg_slim "${distill[@]}" "${sgd[@]}" &
train vgg_slim-t2 --model vgg_slim "${distill[@]}" "${adamw[@]}" --distill-temperature 2 --distill-weight 0.8 &
train small-gpu --model mobilenet_small "${distill[@]}" "${adamw[@]}" &
# The VGG student started from the strongest channels of `large`'s first VGG instead of noise.
train vgg_slim-pruned --model vgg_slim --init-from large:0 --prune "${distill[@]}" "${adamw[@]}" &
wait
ls -la "$OUT"
