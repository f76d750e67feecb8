#!/usr/bin/env bash
# Score the candidates scripts/device_base.sh brought back. For each NAME.tar.gz in DIR: export NAME to ONNX and to
# static int8 (calibrated on 512 Training faces; the int8 file's PublicTest change measured), evaluate the ONNX
# file on PublicTest, and keep the run record (config, history, metrics, export and evaluation) in
# RECORDS/NAME (default docs/models/runs). Prints the --candidate arguments for benchmarks/accuracy_speed.py.
#   scripts/device_results.sh DIR [DATA]      DATA default ../shared/data/fer2013
set -euo pipefail
DIR=$1
DATA=${2:-../shared/data/fer2013}
FERKIT=${FERKIT:-.venv/bin/ferkit}
RECORDS=${RECORDS:-docs/models/runs}
candidates=()
for tarball in "$DIR"/*.tar.gz; do
    name=$(basename "$tarball" .tar.gz)
    tar xzf "$tarball" -C "$DIR"
    run=$DIR/$name
    if [ ! -f "$run/model.pt" ]; then
        echo "$name: no model came back; its log: $run/$name.log" >&2
        continue
    fi
    "$FERKIT" export "$run" --onnx "$run/$name.onnx" --int8 --calibration-data "$DATA" --eval-data "$DATA" \
        > "$run/export.json"
    "$FERKIT" evaluate --model "$run/$name.onnx" --data "$DATA" --split PublicTest --out-dir "$run/eval-onnx"
    mkdir -p "$RECORDS/$name"
    cp "$run"/{config.json,history.csv,train_metrics.json,export.json,"$name.log",hardware.txt} "$RECORDS/$name/"
    cp "$run/eval-onnx/evaluation.json" "$RECORDS/$name/evaluation-onnx-publictest.json"
    read -r fp32 int8 < <(.venv/bin/python -c "import json, sys; ev, ex = (json.load(open(f)) for f in sys.argv[1:])
print(ev['accuracy'], ex['int8']['PublicTest']['accuracy_int8'])" "$run/eval-onnx/evaluation.json" "$run/export.json")
    candidates+=(--candidate "$name=$run/$name.onnx:$fp32" --candidate "$name-int8=$run/$name.int8.onnx:$int8")
done
echo "${candidates[@]}"
