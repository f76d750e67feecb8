"""Accuracy and speed of the models shipped in the package, exactly as inference runs them (ONNX Runtime).

Scores each bundled model on FER2013 PublicTest (../shared/data/fer2013/test, or --data) with `ferkit evaluate
--model NAME` (`ferkit.evaluate.run.evaluate`: the same report code as for any run), and writes
benchmarks/results/bundled_models.json with accuracy, macro-F1, per-class recall, calibration and the faces/s
of the whole evaluation. With --tta it also scores test-time augmentation (flip, ten-crop) on the same ONNX
file. Each run updates the entries of the models it evaluated and keeps the others. With --write-metadata the
figures also become the `metrics` of each model's metadata (`src/ferkit/weights/<name>.json` and the copy inside
the `.onnx` file), which `ferkit models`, the model card and the accuracy-speed figure read.

    python benchmarks/eval_bundled.py [--data ../shared/data/fer2013] [--models large small] [--tta flip tencrop]
        [--write-metadata]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import onnxruntime
from machine import hardware, now_utc

from ferkit.evaluate.metrics import Metrics
from ferkit.evaluate.run import EvalConfig, evaluate
from ferkit.models.bundled import bundled_model_path, bundled_models

RESULTS = Path(__file__).parent / "results" / "bundled_models.json"


def _summary(m: Metrics, faces_per_s: float) -> dict:
    return {"accuracy": round(m.accuracy, 4), "balanced_accuracy": round(m.balanced_accuracy, 4),
            "macro_f1": round(m.macro_f1, 4), "ece": round(m.ece, 4), "faces_per_s_whole_split": round(faces_per_s, 1)}


def _score(name: str, data: Path, tta: str) -> tuple[Metrics, float]:
    """(metrics, faces/s of the whole evaluation) of `ferkit evaluate --model NAME --split PublicTest`."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = evaluate(EvalConfig(model=name, data=data, split="PublicTest", tta=tta, out_dir=Path(out),
                                     gradcam_per_class=0, mistakes=0, cache_dir=Path.home() / ".cache/ferkit/data"))
        seconds = time.perf_counter() - start
    return report.metrics, report.metrics.num_faces / seconds


def evaluate_bundled(name: str, data: Path, ttas: list[str]) -> dict:
    if bundled_model_path(name) is None:
        raise SystemExit(f"no bundled model '{name}'; bundled: {', '.join(sorted(bundled_models()))}")
    m, rate = _score(name, data, "none")
    out = {"date": now_utc(), "split": "FER2013 PublicTest", "faces": m.num_faces, **_summary(m, rate),
           "recall": {c: round(float(r), 4) for c, r in zip(m.classes, m.recall, strict=True)}}
    for tta in ttas:
        out.setdefault("tta", {})[tta] = _summary(*_score(name, data, tta))
    return out


def write_model_metrics(name: str, scored: dict) -> None:
    """Record `scored` (an `evaluate_bundled` entry) as the `metrics` of bundled model `name`'s metadata."""
    from ferkit.export.onnx import read_metadata, write_metadata

    path = bundled_model_path(name)
    metrics = {"split": scored["split"], "faces": scored["faces"],
               **{k: scored[k] for k in ("accuracy", "balanced_accuracy", "macro_f1", "ece", "recall")},
               "measured_by": "python benchmarks/eval_bundled.py (ONNX Runtime, this file)", "date": scored["date"]}
    write_metadata(path, {**read_metadata(path), "metrics": metrics})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fer2013")
    parser.add_argument("--models", nargs="+", default=sorted(bundled_models()))
    parser.add_argument("--tta", nargs="*", default=[], choices=["flip", "tencrop"])
    parser.add_argument("--write-metadata", action="store_true",
                        help="also write the figures into each model's metadata (weights/<name>.json and .onnx)")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"models": {}}
    results.update({"date": now_utc(), "hardware": hardware(onnxruntime=onnxruntime.__version__),
                    "command": "python benchmarks/eval_bundled.py [--models NAME ...] [--tta flip tencrop]"})
    for name in args.models:
        results["models"][name] = evaluate_bundled(name, args.data, args.tta)
        print(name, json.dumps(results["models"][name]), flush=True)
        if args.write_metadata:
            write_model_metrics(name, results["models"][name])
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
