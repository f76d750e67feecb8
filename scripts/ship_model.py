"""Put an exported ONNX file into the package as bundled model NAME (src/ferkit/weights/NAME.onnx + NAME.json).

The metadata says how the file was made (`train_config.recipe`) and, for an int8 file, which float network
`--init-from NAME` rebuilds (`fine_tune_from`). Accuracy is left to `benchmarks/eval_bundled.py --write-metadata`,
which measures it on the shipped file itself.

    python scripts/ship_model.py FILE.onnx NAME [--fine-tune-from large:0] --recipe "bash scripts/ship_base.sh 0" \
        --training-data "FER2013 Training split ..."
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ferkit.export.onnx import read_metadata, write_metadata

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "ferkit" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("onnx", type=Path, help="the exported file (ferkit export ... [--int8])")
    parser.add_argument("name", help="the bundled name it ships as")
    parser.add_argument("--fine-tune-from", help="the float network --init-from NAME rebuilds (for int8 files)")
    parser.add_argument("--recipe", required=True, help="the command that made the file, for its metadata")
    parser.add_argument("--training-data", required=True, help="the faces it was trained and selected on")
    args = parser.parse_args()
    meta = read_metadata(args.onnx)
    meta.pop("metrics", None)  # measured again on the shipped file
    meta["train_config"] = {**meta.get("train_config", {}), "recipe": args.recipe}
    meta["training_data"] = args.training_data
    if args.fine_tune_from:
        meta["fine_tune_from"] = args.fine_tune_from
    target = WEIGHTS / f"{args.name}.onnx"
    shutil.copyfile(args.onnx, target)
    write_metadata(target, meta)
    print(f"shipped {args.onnx} as {target}")


if __name__ == "__main__":
    main()
