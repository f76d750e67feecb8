"""`ferkit models`: the shipped models (from their metadata, torch-free), then every registered architecture with
its parameter count and cost per image (which needs torch: without it, one line says so)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ferkit.constants import FER_INPUT_SIZE
from ferkit.models.bundled import bundled_metadata, bundled_models

# Speeds measured by `benchmarks/accuracy_speed.py`; the folder exists in a checkout (or an editable install) only.
SPEEDS_FILE = Path(__file__).resolve().parents[4] / "benchmarks" / "results" / "accuracy_speed.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-size", type=int, default=FER_INPUT_SIZE,
                        help=f"side of the square input the FLOPs are counted at (default: {FER_INPUT_SIZE})")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of tables")


def run(args: argparse.Namespace) -> int:
    shipped = shipped_models()
    architectures, why_not = _architectures(args.input_size)
    if args.json:
        print(json.dumps({"shipped": shipped, "architectures": architectures, "architectures_note": why_not},
                         indent=2))
        return 0
    print(f"{'shipped model':<16}{'classes':>8}{'accuracy':>10}  {'split':<20}{'FER+ maj.':>10}{'faces/s':>13}"
          f"{'file MB':>9}")
    for m in shipped:
        accuracy = "-" if m["accuracy"] is None else f"{m['accuracy']:.4f}"
        ferplus = "-" if m["ferplus_majority_accuracy"] is None else f"{m['ferplus_majority_accuracy']:.4f}"
        speed = "not measured" if m["faces_per_s"] is None else f"{m['faces_per_s']:,}"
        print(f"{m['name']:<16}{len(m['classes']):>8}{accuracy:>10}  {m['split'] or '-':<20}{ferplus:>10}{speed:>13}"
              f"{m['file_bytes'] / 1e6:>9.1f}")
    print("(FER+ maj.: accuracy against the FER+ annotators' majority vote on FER2013Valid, the PublicTest faces)")
    if SPEEDS_FILE.is_file():
        print(f"(faces/s: ONNX Runtime, batch 64, from {SPEEDS_FILE.name})")
    print()
    if why_not:
        print(f"architectures: {why_not}")
        return 0
    print(f"{'architecture':<16}{'params':>12}{'MFLOPs':>12}   (FLOPs = 2 x multiply-adds, one {args.input_size}x"
          f"{args.input_size} image)")
    for row in architectures:
        print(f"{row['name']:<16}{row['params']:>12,}{row['mflops']:>12.1f}")
    return 0


def shipped_models() -> list[dict[str, Any]]:
    """Name, classes, accuracy and its split, accuracy against the FER+ majority vote, speed (None: not measured)
    and file size of each shipped model."""
    speeds = _measured_speeds()
    rows = []
    for name, path in sorted(bundled_models().items()):
        meta = bundled_metadata(name)
        metrics = meta.get("metrics") or {}
        rows.append({"name": name, "classes": meta.get("classes", []),
                     "accuracy": metrics.get("accuracy"), "split": metrics.get("split"),
                     "ferplus_majority_accuracy": (meta.get("metrics_ferplus") or {}).get("majority_accuracy"),
                     "faces_per_s": speeds.get(name), "file_bytes": path.stat().st_size})
    return rows


def _measured_speeds() -> dict[str, int]:
    """Faces/s of each shipped model in the accuracy-speed benchmark, when its results are at hand."""
    if not SPEEDS_FILE.is_file():
        return {}
    points = json.loads(SPEEDS_FILE.read_text()).get("points", [])
    return {p["name"]: p["faces_per_s"] for p in points if p.get("kind") == "bundled" and p.get("faces_per_s")}


def _architectures(input_size: int) -> tuple[list[dict[str, Any]], str | None]:
    """(architecture rows, None), or ([], why they cannot be listed here)."""
    try:
        from ferkit.models.flops import model_table  # imports torch
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        return [], "listing them needs torch: pip install 'ferkit[train]'"
    return [{"name": n, "params": p, "mflops": f} for n, p, f in model_table(input_size=input_size)], None
