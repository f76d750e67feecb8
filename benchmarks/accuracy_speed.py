"""Accuracy against speed (issue #12's figure for the model card): writes benchmarks/results/accuracy_speed.json
and accuracy_speed.png.

Speed is measured here: classifier faces/s at batch 64 on ONNX Runtime on this machine, timed as
bench_inference.py times it (timing.classifier_rate). Accuracy is never measured here: it is FER2013
PublicTest accuracy from each model's own evaluation. A bundled model's comes from the metrics in its metadata
(`src/ferkit/weights/<name>.json`, written by benchmarks/eval_bundled.py); a candidate's is given on the command
line, as a fraction, from that candidate's evaluation. The `fer` package's mini-Xception is drawn as a fixed
reference point, with its source named, and is not measured by this script.

Usage:
    .venv/bin/python benchmarks/accuracy_speed.py [--candidate NAME=PATH.onnx:ACCURACY ...] [--bundled NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import onnxruntime
from machine import hardware, now_utc
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter
from timing import classifier_rate

from ferkit.evaluate.figures import save_png
from ferkit.inference.classify import OnnxClassifier
from ferkit.models.bundled import bundled_models

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
BATCH = 64  # issue #12's batched speed target is stated at batch 64
SPLIT = "FER2013 PublicTest"

# Issue #20's targets for the single-network `base` (issue #12's were 72.5%, now #20's stretch): at least 71.5% on
# PublicTest and at least 1,000 faces/s at batch 64 on 2 cores; the figure shades the region that meets both.
TARGET_ACCURACY = 0.715
TARGET_FACES_PER_S = 1000


@dataclass(frozen=True)
class Point:
    """One model on the figure: its PublicTest accuracy and classifier speed, each with where it came from."""

    name: str
    kind: str  # "bundled", "candidate" or "reference"
    accuracy: float  # FER2013 PublicTest, a fraction
    accuracy_source: str
    faces_per_s: float
    speed_source: str
    ms_per_batch: float | None = None  # None for the reference, whose speed is not measured here
    file: str | None = None


# The `fer` package's mini-Xception (Keras). No benchmark result or document in this repository holds its
# figures, so they and their source are the text of issue #12: "65.2% PublicTest, about 1,100 faces/s on this
# machine's Keras path".
FER_REFERENCE = Point(
    name="fer mini-Xception (reference)", kind="reference", accuracy=0.652,
    accuracy_source="issue #12 (65.2% on FER2013 PublicTest); not measured by this script",
    faces_per_s=1100.0,
    speed_source="issue #12 (about 1,100 faces/s on this machine's Keras path); not measured by this script",
)


def measure(name: str, kind: str, path: Path, accuracy: float, accuracy_source: str,
            min_time_s: float = 2.0, min_runs: int = 10) -> Point:
    """`path`'s faces/s at batch `BATCH` on ONNX Runtime here, paired with an accuracy measured elsewhere."""
    ms, rate = classifier_rate(OnnxClassifier(path), BATCH, min_time_s, min_runs)
    file = path.resolve()
    return Point(name, kind, accuracy, accuracy_source, rate,
                 f"measured by this script: ONNX Runtime, batch {BATCH}, median of repeated calls", ms,
                 str(file.relative_to(REPO)) if file.is_relative_to(REPO) else str(file))


def bundled_point(name: str, min_time_s: float = 2.0, min_runs: int = 10) -> Point:
    """A bundled model, its accuracy taken from the PublicTest metrics in its metadata file.

    Raises:
        SystemExit: the model is not bundled, or its metadata holds no PublicTest accuracy.
    """
    bundled = bundled_models()
    if name not in bundled:
        raise SystemExit(f"no bundled model '{name}'; bundled: {', '.join(sorted(bundled))}")
    meta_file = bundled[name].with_suffix(".json")
    metrics = json.loads(meta_file.read_text()).get("metrics", {})
    if metrics.get("split") != SPLIT or "accuracy" not in metrics:
        raise SystemExit(f"{meta_file}: its metrics hold no {SPLIT} accuracy; run benchmarks/eval_bundled.py")
    source = f"src/ferkit/weights/{meta_file.name} metrics, measured by {metrics.get('measured_by', 'unknown')}"
    return measure(name, "bundled", bundled[name], float(metrics["accuracy"]), source, min_time_s, min_runs)


def parse_candidate(text: str) -> tuple[str, Path, float]:
    """`NAME=PATH.onnx:ACCURACY` -> (name, path, accuracy as a fraction)."""
    name, sep, rest = text.partition("=")
    path, colon, accuracy = rest.rpartition(":")
    if not (name and sep and colon and path.endswith(".onnx")):
        raise argparse.ArgumentTypeError(f"'{text}': expected NAME=PATH.onnx:ACCURACY")
    try:
        value = float(accuracy)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': accuracy '{accuracy}' is not a number") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}': give the PublicTest accuracy as a fraction (0.725, not 72.5)")
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"'{text}': no such file {path}")
    return name, Path(path), value


def plot(points: list[Point]) -> Figure:
    """Accuracy (y) against faces/s on a log scale (x), one labelled point per model, issue #20's target shaded.
    Candidates are labelled on one line to the left of their point, the rest to the right: a candidate is usually
    a variant of a shipped model at about its speed."""
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    rates = [p.faces_per_s for p in points] + [TARGET_FACES_PER_S]
    accs = [p.accuracy for p in points] + [TARGET_ACCURACY]
    left, right = min(rates) / 2.5, max(rates) * 2.5
    bottom, top = min(accs) - 0.015, max(accs) + 0.015
    ax.set_xscale("log")
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.fill_between([TARGET_FACES_PER_S, right], TARGET_ACCURACY, top, color="tab:green", alpha=0.1, lw=0,
                    label=f"issue #20 target for base: ≥{TARGET_ACCURACY:.1%}, ≥{TARGET_FACES_PER_S:,} faces/s")
    style = {"bundled": ("o", "tab:blue"), "candidate": ("s", "tab:orange"), "reference": ("D", "tab:gray")}
    for kind, (marker, color) in style.items():
        group = [p for p in points if p.kind == kind]
        if not group:
            continue
        label = {"bundled": "shipped (speed measured here)", "candidate": "candidate (speed measured here)",
                 "reference": "reference (not measured here)"}[kind]
        ax.scatter([p.faces_per_s for p in group], [p.accuracy for p in group], marker=marker, s=45,
                   color="none" if kind == "reference" else color, edgecolors=color, label=label, zorder=3)
        offset = {"reference": (6, -22), "candidate": (-8, 0)}.get(kind, (6, 4))
        for p in group:
            sep = ": " if kind == "candidate" else "\n"  # one line: candidates sit close together
            ax.annotate(f"{p.name}{sep}{p.accuracy:.2%}, {p.faces_per_s:,.0f}/s", (p.faces_per_s, p.accuracy),
                        xytext=offset, textcoords="offset points", fontsize=8,
                        ha="right" if kind == "candidate" else "left",
                        va="center" if kind == "candidate" else "baseline")
    ax.set_xlabel(f"classifier faces/s at batch {BATCH} (log scale)")
    ax.set_ylabel(f"{SPLIT} accuracy")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=1))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="center left", fontsize=8)
    return fig


def write_results(points: list[Point], out: Path, command: str, load_at_start: list[float]) -> dict:
    """`out` (JSON: machine, load, date, command, every point) and the figure beside it as `<out stem>.png`."""
    results = {
        "date": now_utc(),
        "command": command,
        "hardware": hardware(onnxruntime=onnxruntime.__version__),
        "load_average_1_5_15min_at_start": load_at_start,
        "load_average_1_5_15min_at_end": [round(x, 2) for x in os.getloadavg()],
        "speed": f"classifier faces/s at batch {BATCH} on ONNX Runtime on this machine (other jobs slow it: "
                 "see the load average)",
        "accuracy": f"{SPLIT}, from each model's own evaluation; none is measured by this script",
        "target_issue_20": {"accuracy": TARGET_ACCURACY, "faces_per_s": TARGET_FACES_PER_S},
        "points": [asdict(p) for p in points],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    save_png(plot(points), out.with_suffix(".png"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundled", nargs="*", default=sorted(bundled_models()),
                        help="bundled models to measure (default: all of them)")
    parser.add_argument("--candidate", type=parse_candidate, action="append", default=[],
                        help="NAME=PATH.onnx:ACCURACY, the accuracy on FER2013 PublicTest as a fraction, from that "
                             "candidate's evaluation (repeatable)")
    parser.add_argument("--min-time-s", type=float, default=2.0, help="least timing time per model")
    parser.add_argument("--out", type=Path, default=RESULTS / "accuracy_speed.json")
    args = parser.parse_args()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    points = [bundled_point(name, args.min_time_s) for name in args.bundled]
    points += [measure(name, "candidate", path, accuracy, "given with --candidate (the candidate's evaluation)",
                       args.min_time_s) for name, path, accuracy in args.candidate]
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    results = write_results([*points, FER_REFERENCE], args.out, command, load_at_start)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
