"""Accuracy and speed of the models shipped in the package, exactly as inference runs them (ONNX Runtime).

Evaluates each bundled `.onnx` on FER2013 PublicTest (../shared/data/fer2013/test, or --data) and writes
benchmarks/results/bundled_models.json with accuracy, macro-F1, per-class recall, calibration and faces/s.

    python benchmarks/eval_bundled.py [--data ../shared/data/fer2013] [--models base small]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import onnxruntime
from machine import hardware, now_utc

from ferkit.data import DataConfig, load_split
from ferkit.evaluate.metrics import compute_metrics
from ferkit.inference.classify import OnnxClassifier, bundled_models

RESULTS = Path(__file__).parent / "results" / "bundled_models.json"


def evaluate_bundled(name: str, data: Path) -> dict:
    classifier = OnnxClassifier(bundled_models()[name])
    pre = classifier.preprocess
    faces = load_split(DataConfig(path=data, classes=classifier.classes, input_size=pre.input_size, clahe=pre.clahe,
                                  cache_dir=Path.home() / ".cache" / "ferkit" / "data"), "PublicTest")
    start = time.perf_counter()
    probs = classifier.predict(faces.images)
    seconds = time.perf_counter() - start
    m = compute_metrics(faces.labels, probs, classifier.classes)
    return {
        "split": "FER2013 PublicTest", "faces": len(faces), "accuracy": round(m.accuracy, 4),
        "balanced_accuracy": round(m.balanced_accuracy, 4), "macro_f1": round(m.macro_f1, 4),
        "ece": round(m.ece, 4),
        "recall": {c: round(float(r), 4) for c, r in zip(classifier.classes, m.recall, strict=True)},
        "faces_per_s_whole_split": round(len(faces) / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fer2013")
    parser.add_argument("--models", nargs="+", default=sorted(bundled_models()))
    args = parser.parse_args()
    results = {"date": now_utc(), "hardware": hardware(onnxruntime=onnxruntime.__version__),
               "command": "python benchmarks/eval_bundled.py", "models": {}}
    for name in args.models:
        results["models"][name] = evaluate_bundled(name, args.data)
        print(name, json.dumps(results["models"][name]), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
