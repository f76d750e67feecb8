"""Accuracy and speed of the models shipped in the package, exactly as inference runs them (ONNX Runtime).

Scores each bundled model on FER2013 PublicTest (../shared/data/fer2013/test, or --data) with `ferkit evaluate
--model NAME` (`ferkit.evaluate.run.evaluate`: the same report code as for any run), and writes
benchmarks/results/bundled_models.json with accuracy, macro-F1, per-class recall, calibration and the faces/s
of the whole evaluation. With --tta it also scores test-time augmentation (flip, ten-crop) on the same ONNX
file, and (with FER+ beside FER2013, `--ferplus-data`) against the annotators' votes on FER2013Valid: majority
accuracy and agreement with the crowd, so that every model is scored on both label sets. Each run updates the
entries of the models it evaluated and keeps the others. With --write-metadata the figures also become the
`metrics` (and `metrics_ferplus`) of each model's metadata (`src/ferkit/weights/<name>.json` and the copy inside
the `.onnx` file), which `ferkit models`, the model card and the accuracy-speed figure read.

    python benchmarks/eval_bundled.py [--data ../shared/data/fer2013] [--models large small] [--tta flip tencrop]
        [--label-sets fer2013 ferplus] [--write-metadata]
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
from ferkit.evaluate.report import EvalReport
from ferkit.evaluate.run import EvalConfig, evaluate
from ferkit.models.bundled import bundled_metadata, bundled_model_path, bundled_models

RESULTS = Path(__file__).parent / "results" / "bundled_models.json"


def _summary(m: Metrics, faces_per_s: float) -> dict:
    return {"accuracy": round(m.accuracy, 4), "balanced_accuracy": round(m.balanced_accuracy, 4),
            "macro_f1": round(m.macro_f1, 4), "ece": round(m.ece, 4), "faces_per_s_whole_split": round(faces_per_s, 1)}


def _evaluate(name: str, data: Path, split: str, tta: str = "none") -> tuple[EvalReport, float]:
    """(report, faces/s of the whole evaluation) of `ferkit evaluate --model NAME --data DATA --split SPLIT`."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = evaluate(EvalConfig(model=name, data=data, split=split, tta=tta, out_dir=Path(out),
                                     gradcam_per_class=0, mistakes=0, cache_dir=Path.home() / ".cache/ferkit/data"))
        seconds = time.perf_counter() - start
    return report, report.metrics.num_faces / seconds


def _score(name: str, data: Path, tta: str) -> tuple[Metrics, float]:
    """(metrics, faces/s) of `ferkit evaluate --model NAME --split PublicTest`."""
    report, rate = _evaluate(name, data, "PublicTest", tta)
    return report.metrics, rate


def evaluate_ferplus(name: str, data: Path) -> dict:
    """`name` scored against the FER+ annotators on FER2013Valid (the PublicTest faces): accuracy against the
    majority vote (Barsoum et al.'s metric) and the agreement figures of `ferkit.evaluate.votes`."""
    report, _ = _evaluate(name, data, "val")
    votes = report.votes.to_dict()
    return {"date": now_utc(), "split": "FER+ FER2013Valid", "majority_faces": votes["majority_faces"],
            "majority_accuracy": votes["majority_accuracy"], "macro_f1": round(report.metrics.macro_f1, 4),
            **{k: votes[k] for k in ("left_out_majority", "plurality_faces", "plurality_accuracy", "vote_probability",
                                      "vote_agreement", "vote_cross_entropy")}}


def evaluate_bundled(name: str, data: Path, ttas: list[str]) -> dict:
    if bundled_model_path(name) is None:
        raise SystemExit(f"no bundled model '{name}'; bundled: {', '.join(sorted(bundled_models()))}")
    m, rate = _score(name, data, "none")
    out = {"date": now_utc(), "split": "FER2013 PublicTest", "faces": m.num_faces, **_summary(m, rate),
           "recall": {c: round(float(r), 4) for c, r in zip(m.classes, m.recall, strict=True)}}
    for tta in ttas:
        out.setdefault("tta", {})[tta] = _summary(*_score(name, data, tta))
    return out


def write_model_metrics(name: str, scored: dict, ferplus: dict | None) -> None:
    """Record `scored` (an `evaluate_bundled` entry) as the `metrics` of bundled model `name`'s metadata, and
    `ferplus` (an `evaluate_ferplus` entry) as its `metrics_ferplus`."""
    from ferkit.export.onnx import read_metadata, write_metadata

    path = bundled_model_path(name)
    measured_by = "python benchmarks/eval_bundled.py (ONNX Runtime, this file)"
    metrics = {"split": scored["split"], "faces": scored["faces"],
               **{k: scored[k] for k in ("accuracy", "balanced_accuracy", "macro_f1", "ece", "recall")},
               "measured_by": measured_by, **({"date": scored["date"]} if "date" in scored else {})}
    meta = {**read_metadata(path), "metrics": metrics}
    if ferplus is not None:
        meta["metrics_ferplus"] = {**ferplus, "measured_by": measured_by}
    write_metadata(path, meta)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fer2013")
    parser.add_argument("--ferplus-data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared/data/ferplus",
                        help="FER+ votes to score against (--label-sets ferplus)")
    parser.add_argument("--models", nargs="+", default=sorted(bundled_models()))
    parser.add_argument("--label-sets", nargs="+", default=["fer2013", "ferplus"], choices=["fer2013", "ferplus"],
                        help="score against FER2013's labels (PublicTest), the FER+ votes (FER2013Valid), or both")
    parser.add_argument("--tta", nargs="*", default=[], choices=["flip", "tencrop"])
    parser.add_argument("--write-metadata", action="store_true",
                        help="also write the figures into each model's metadata (weights/<name>.json and .onnx)")
    args = parser.parse_args()
    if "ferplus" in args.label_sets and not args.ferplus_data.is_dir():
        parser.error(f"--ferplus-data {args.ferplus_data}: no such folder (or leave ferplus out of --label-sets)")
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"models": {}}
    results.update({"date": now_utc(), "hardware": hardware(onnxruntime=onnxruntime.__version__),
                    "command": "python benchmarks/eval_bundled.py [--models NAME ...] [--tta flip tencrop]"})
    for name in args.models:
        if "fer2013" in args.label_sets:
            results["models"][name] = evaluate_bundled(name, args.data, args.tta)
        else:  # the FER2013 figures the model's metadata already holds, measured by an earlier run of this script
            results["models"][name] = {**bundled_metadata(name)["metrics"], **results["models"].get(name, {})}
        ferplus = evaluate_ferplus(name, args.ferplus_data) if "ferplus" in args.label_sets else None
        if ferplus is not None:
            results["models"][name]["ferplus"] = ferplus
        print(name, json.dumps(results["models"][name]), flush=True)
        if args.write_metadata:
            write_model_metrics(name, results["models"][name], ferplus)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
