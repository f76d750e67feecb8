#!/usr/bin/env bash
# Pack what scripts/device_base.sh needs on a lent GPU machine, where ../shared does not travel, into .devdata/
# (git-ignored; name it in the device tool's `carry`): FER2013's Training and PublicTest folders as one tar.gz
# (about 42 MB of the 64 MiB a call may carry) and the `large` teacher's soft labels on the Training faces
# (scripts/teacher_labels.py: found in the cache, or made here first, about 20 minutes on 2 cores).
#   scripts/pack_device.sh [DATA]        DATA default ../shared/data/fer2013
set -euo pipefail
DATA=${1:-../shared/data/fer2013}
PY=${PY:-.venv/bin/python}
CACHE=${FERKIT_CACHE:-$HOME/.cache/ferkit}/data
PACK=.devdata
rm -rf "$PACK" && mkdir -p "$PACK/cache/teacher"
tar czf "$PACK/fer2013.tar.gz" -C "$(dirname "$DATA")" "$(basename "$DATA")"
"$PY" scripts/teacher_labels.py --data "$DATA" --cache-dir "$CACHE" | while read -r labels; do
    cp "$labels" "$PACK/cache/teacher/"
done
du -sh "$PACK"
