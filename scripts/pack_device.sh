#!/usr/bin/env bash
# Pack what scripts/device_base.sh needs on a lent GPU machine, where ../shared does not travel, into .devdata/
# (git-ignored; name it in the device tool's `carry`): FER2013's Training and PublicTest folders as one tar.gz, about
# 42 MB of the 64 MiB a call may carry. The teacher's soft labels are not packed: the runs make them on the GPU.
#   scripts/pack_device.sh [DATA]        DATA default ../shared/data/fer2013
set -euo pipefail
DATA=${1:-../shared/data/fer2013}
PACK=.devdata
rm -rf "$PACK" && mkdir -p "$PACK"
tar czf "$PACK/fer2013.tar.gz" -C "$(dirname "$DATA")" "$(basename "$DATA")"
du -sh "$PACK"
