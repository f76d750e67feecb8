"""Throughput of batch inference: images/s over a few thousand photos, for the sequential path `ferkit predict`
had before issue #14 (one process, one image at a time), the local engine (worker processes) and Ray, in one
run on one machine. Writes benchmarks/results/batch.json with the hardware, load, date and command.

The photos are generated once into a temporary folder: scenes of 320x240 to 1280x960 pixels, grey noise
and gradients, holding 0 to 3 copies of the bundled sample face (cropped, scaled and mirrored at random), as
JPEG. Each engine writes its own results table (Parquet), which is counted to check every photo got rows.

    .venv/bin/python benchmarks/bench_batch.py [--photos 2000] [--model small] [--engines sequential,local,ray]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
from machine import hardware, now_utc, write_results

from ferkit.inference import sample_image_path
from ferkit.inference.config import RecognizerConfig
from ferkit.inference.images import load_image
from ferkit.jobs import BatchConfig, run

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_YUNET = REPO_ROOT / ".." / "shared" / "models" / "face_detection_yunet_2026may.onnx"
RESULT = REPO_ROOT / "benchmarks" / "results" / "batch.json"


def make_photos(folder: Path, count: int, seed: int = 0) -> int:
    """`count` JPEG scenes with 0-3 faces each; returns the number of faces placed."""
    rng = np.random.default_rng(seed)
    face = cv2.imread(str(sample_image_path()))[30:210, 135:310]
    placed = 0
    for i in range(count):
        width = int(rng.integers(320, 1281))
        height = width * 3 // 4
        ramp = np.linspace(rng.integers(40, 120), rng.integers(120, 220), width, dtype=np.float32)
        scene = np.clip(ramp[None, :, None] + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
        for _ in range(int(rng.integers(0, 4))):
            side = int(rng.integers(max(40, width // 12), max(41, width // 4)))
            x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
            patch = cv2.resize(face, (side, side))
            scene[y:y + side, x:x + side] = patch[:, ::-1] if rng.random() < 0.5 else patch
            placed += 1
        cv2.imwrite(str(folder / f"photo{i:05d}.jpg"), scene, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return placed


def sequential(folder: Path, recognizer: RecognizerConfig) -> int:
    """The pre-#14 `ferkit predict` loop: one process, each image read, then its faces found and classified."""
    rec = recognizer.build()
    faces = 0
    for path in sorted(folder.glob("*.jpg")):
        faces += len(rec.predict(load_image(path)))
    return faces


def engine(folder: Path, recognizer: RecognizerConfig, out: Path, cfg: BatchConfig) -> int:
    """Faces found by a batch run of `cfg`'s engine (rows with status ok)."""
    import pyarrow.dataset as ds

    summary = run([str(folder)], recognizer, out, cfg, progress=False)
    assert summary.failed == 0, summary.failures
    table = ds.dataset(out / "predictions", format="parquet").to_table(columns=["status"])
    return sum(1 for status in table.column("status").to_pylist() if status == "ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--model", default="small")
    parser.add_argument("--yunet", type=Path, default=DEFAULT_YUNET)
    parser.add_argument("--engines", default="sequential,local,ray")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()
    recognizer = RecognizerConfig(model=args.model, detector="yunet-ort", yunet_path=args.yunet)
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        placed = make_photos(photos, args.photos)
        results: dict[str, dict] = {}
        for name in args.engines.split(","):
            start = time.perf_counter()
            if name == "sequential":
                found = sequential(photos, recognizer)
            else:
                cfg = BatchConfig(engine=name, workers=workers)
                found = engine(photos, recognizer, Path(tmp) / name, cfg)
            elapsed = time.perf_counter() - start
            results[name] = {"seconds": round(elapsed, 1), "images_per_s": round(args.photos / elapsed, 1),
                             "faces_found": found, "workers": 1 if name == "sequential" else workers}
            print(name, results[name], flush=True)
    base = results.get("sequential", {}).get("images_per_s")
    for value in results.values():
        if base:
            value["speedup_over_sequential"] = round(value["images_per_s"] / base, 2)
    report = {
        "benchmark": "batch inference throughput: photos of 320x240-1280x960 with 0-3 faces, JPEG, from disk; "
                     "every time includes start-up (workers, Ray) and writing the table",
        "date": now_utc(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "hardware": hardware(onnxruntime=onnxruntime.__version__, opencv=cv2.__version__),
        "model": args.model, "detector": "yunet-ort", "photos": args.photos, "faces_placed": placed,
        "results": results,
    }
    write_results(args.out, report)


if __name__ == "__main__":
    main()
