"""Does eye-landmark alignment help, and which crop margin frames faces best? Writes
benchmarks/results/alignment.json and alignment.md.

Real faces with known labels: FER2013 PublicTest photos, each enlarged 3x and set in a replicated-edge
border (so the detector sees a face in a frame, not a tight crop), then tilted by 0, 15 or 30 degrees
(half of them clockwise). YuNet detects each face once; the crop is then taken with and without
alignment and with several margins, and classified by the same model. Accuracy counts only faces the
detector found (the same faces for every variant), so the variants are compared like for like.

Usage:
    .venv/bin/python benchmarks/bench_alignment.py --model large|small|file.onnx [--faces 3589]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from ferkit import env
from ferkit.data import DataConfig, load_split
from ferkit.inference.align import crop_face
from ferkit.inference.classify import OnnxClassifier
from ferkit.inference.detect import YuNetDetector
from ferkit.models.bundled import bundled_model_path
from ferkit.transforms.preprocess import prepare_faces

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FERKIT_SHARED", REPO.parent / "shared"))
ANGLES = (0, 15, 30)
MARGINS = (-0.05, 0.0, 0.05, 0.1, 0.2)
SCALE = 3


def staged_photo(face: np.ndarray, degrees: float) -> np.ndarray:
    """A 48x48 face enlarged, centred in a border twice its size, and rotated about its centre."""
    side = face.shape[0] * SCALE
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    framed = cv2.copyMakeBorder(big, side // 2, side // 2, side // 2, side // 2, cv2.BORDER_REPLICATE)
    matrix = cv2.getRotationMatrix2D((side, side), degrees, 1.0)
    return cv2.warpAffine(framed, matrix, (2 * side, 2 * side), borderMode=cv2.BORDER_REPLICATE)


def run(model: Path, yunet: Path, n_faces: int, seed: int) -> dict:
    clf = OnnxClassifier(model)
    pre = clf.preprocess
    data = DataConfig(path=SHARED / "data" / "fer2013", classes=clf.classes, clahe=pre.clahe, denoise=pre.denoise,
                      cache_dir=env.data_cache_dir())
    faces = load_split(data, "PublicTest")
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(faces))[:n_faces]
    detector = YuNetDetector(yunet, min_face=10)
    truth = np.array([clf.classes.index(c) for c in faces.classes])[faces.labels[pick]]
    results: dict = {}
    for angle in ANGLES:
        signs = rng.choice([-1, 1], size=len(pick))
        crops: dict[tuple[bool, float], list[np.ndarray]] = {(a, m): [] for a in (False, True) for m in MARGINS}
        found = []
        for k, (i, sign) in enumerate(zip(pick, signs, strict=True)):
            photo = staged_photo(faces.images[i], sign * angle)
            detections = detector.detect(cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR))
            if not detections:
                continue
            best = max(detections, key=lambda d: d.score)
            found.append(k)
            for (align, margin), bucket in crops.items():
                bucket.append(crop_face(photo, best, margin, align))
        row = {"faces": len(pick), "detected": len(found)}
        for (align, margin), bucket in crops.items():
            probs = clf.predict(prepare_faces(bucket, pre))
            accuracy = float((probs.argmax(1) == truth[found]).mean()) if found else float("nan")
            row[f"align={align} margin={margin}"] = round(accuracy, 4)
        results[f"{angle} deg"] = row
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="bundled model name or .onnx file")
    parser.add_argument("--yunet", type=Path, default=SHARED / "models" / "face_detection_yunet_2026may.onnx")
    parser.add_argument("--faces", type=int, default=3589, help="PublicTest faces sampled (seeded; all by default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--note", default="", help="what the model is (saved with the results)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "alignment.json")
    args = parser.parse_args()
    model = bundled_model_path(args.model) or Path(args.model)
    table = run(model, args.yunet, args.faces, args.seed)
    variants = [k for k in next(iter(table.values())) if k.startswith("align=")]
    mean = {v: round(float(np.mean([row[v] for row in table.values()])), 4) for v in variants}
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
              "model": str(model), "note": args.note, "accuracy_on_detected_faces": table, "mean_over_angles": mean,
              "best": max(mean, key=mean.__getitem__)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# Alignment and crop margin", "", f"{report['date']}, model `{model.name}`, "
             f"{args.faces} FER2013 PublicTest faces staged as photos (see the script's docstring).",
             f"Command: `{report['command']}`. {args.note}", "",
             "| tilt | detected | " + " | ".join(variants) + " |", "|---|---:|" + "---:|" * len(variants)]
    for angle, row in table.items():
        lines.append(f"| {angle} | {row['detected']}/{row['faces']} | "
                     + " | ".join(f"{row[v]:.3f}" for v in variants) + " |")
    lines += ["| mean | | " + " | ".join(f"{mean[v]:.3f}" for v in variants) + " |", "",
              f"Best: {report['best']}.", ""]
    args.out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
