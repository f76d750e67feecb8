"""Label a data set's training faces with a teacher once, into CACHE/teacher/, where `ferkit train --teacher T
--cache-dir CACHE` finds them.

Run it before several trainings that share one teacher start side by side (each would otherwise label the same
faces itself), and to pack the labels for a machine with no time to make them (scripts/pack_device.sh): `large`
labels about 25 faces/s on 2 CPU cores, 20 minutes for FER2013's Training split. One view only: the views of
`--distill-views` are drawn by torch and may differ by a rounding on another machine, so they are not packed.

    python scripts/teacher_labels.py --data ../shared/data/fer2013 --cache-dir ~/.cache/ferkit/data
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ferkit.data import DataConfig, load_dataset
from ferkit.train.distill import cached_teacher_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the data set, as `ferkit train --data`")
    parser.add_argument("--cache-dir", type=Path, required=True, help="as `ferkit train --cache-dir`")
    parser.add_argument("--teacher", default="large", help="bundled name, .onnx or ferkit model file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    train = load_dataset(DataConfig(path=args.data, cache_dir=args.cache_dir)).train
    print(cached_teacher_file(args.teacher, train, clahe=False, cache_dir=args.cache_dir))


if __name__ == "__main__":
    main()
