"""Accuracy and speed of the models shipped in the package, exactly as inference runs them (ONNX Runtime).

Evaluates each bundled `.onnx` on FER2013 PublicTest (../shared/data/fer2013/test, or --data) and writes
benchmarks/results/bundled_models.json with accuracy, macro-F1, per-class recall, calibration and faces/s.
With --tta it also scores test-time augmentation (flip, ten-crop: the views `ferkit evaluate --tta` uses) on the
same ONNX file. Each run updates the entries of the models it evaluated and keeps the others.

    python benchmarks/eval_bundled.py [--data ../shared/data/fer2013] [--models large small] [--tta flip tencrop]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from machine import hardware, now_utc

from ferkit.data import DataConfig, load_split
from ferkit.evaluate.metrics import Metrics, compute_metrics
from ferkit.evaluate.predict import predict_probs
from ferkit.inference.classify import OnnxClassifier, bundled_model_path, bundled_models

RESULTS = Path(__file__).parent / "results" / "bundled_models.json"


class _OnnxModule(torch.nn.Module):
    """An ONNX classifier behind nn.Module's call, so `predict_probs` builds its TTA views for the exported file."""

    def __init__(self, classifier: OnnxClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.classifier.outputs(np.ascontiguousarray(x.numpy())))


def _summary(m: Metrics, faces_per_s: float) -> dict:
    return {"accuracy": round(m.accuracy, 4), "balanced_accuracy": round(m.balanced_accuracy, 4),
            "macro_f1": round(m.macro_f1, 4), "ece": round(m.ece, 4), "faces_per_s_whole_split": round(faces_per_s, 1)}


def evaluate_bundled(name: str, data: Path, ttas: list[str]) -> dict:
    path = bundled_model_path(name)
    if path is None:
        raise SystemExit(f"no bundled model '{name}'; bundled: {', '.join(sorted(bundled_models()))}")
    classifier = OnnxClassifier(path)
    pre = classifier.preprocess
    faces = load_split(DataConfig(path=data, classes=classifier.classes, input_size=pre.input_size, clahe=pre.clahe,
                                  cache_dir=Path.home() / ".cache" / "ferkit" / "data"), "PublicTest")
    start = time.perf_counter()
    probs = classifier.predict(faces.images)
    seconds = time.perf_counter() - start
    m = compute_metrics(faces.labels, probs, classifier.classes)
    out = {"date": now_utc(), "split": "FER2013 PublicTest", "faces": len(faces), **_summary(m, len(faces) / seconds),
           "recall": {c: round(float(r), 4) for c, r in zip(classifier.classes, m.recall, strict=True)}}
    for tta in ttas:
        start = time.perf_counter()
        probs = predict_probs(_OnnxModule(classifier), faces.images, tta=tta)
        seconds = time.perf_counter() - start
        out.setdefault("tta", {})[tta] = _summary(compute_metrics(faces.labels, probs, classifier.classes),
                                                  len(faces) / seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fer2013")
    parser.add_argument("--models", nargs="+", default=sorted(bundled_models()))
    parser.add_argument("--tta", nargs="*", default=[], choices=["flip", "tencrop"])
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"models": {}}
    results.update({"date": now_utc(), "hardware": hardware(onnxruntime=onnxruntime.__version__),
                    "command": "python benchmarks/eval_bundled.py [--models NAME ...] [--tta flip tencrop]"})
    for name in args.models:
        results["models"][name] = evaluate_bundled(name, args.data, args.tta)
        print(name, json.dumps(results["models"][name]), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
