"""Inference speed and memory on this machine: writes benchmarks/results/inference.json and inference.md.

Measures (the issue's "Speed and memory" list):
- classifier throughput (faces/s) at batch 1 and batch 64 on ONNX Runtime, and at batch 256 for each chunk
  size that `predict` may split a batch into (`ONNX_CHUNK`);
- detector time on one 640x480 frame (YuNet through OpenCV, and the Haar cascade);
- full pipeline frames/s (decode, detect, align, classify, track) on generated 640x480 videos with one and
  five moving faces;
- peak memory (max RSS) of `ferkit predict` on the bundled sample photo, as a fresh process;
- disk size of the inference-only install (ferkit's core dependencies, no extras), and that it has no torch.

Usage:
    .venv/bin/python benchmarks/bench_inference.py [--model base|large|small|file.onnx] [--yunet PATH]

Without a bundled model (`src/ferkit/weights/*.onnx`) and no --model, it exports the untrained `small`
architecture: the speed of a network does not depend on its weights, and the results say which model ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
from machine import hardware
from packaging.requirements import Requirement
from timing import classifier_rate, timed

from ferkit.inference import IoUTracker, Recognizer, classify, sample_image_path
from ferkit.inference.classify import OnnxClassifier
from ferkit.inference.detect import HaarDetector, YuNetDetector
from ferkit.inference.video import VideoSource
from ferkit.models.bundled import bundled_model_path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_YUNET = REPO.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
FRAME_SIZE = (640, 480)


def resolve_model(name: str | None, workdir: Path) -> tuple[Path, str]:
    """The ONNX file to benchmark and a description of it."""
    if name is not None:
        path = bundled_model_path(name) or Path(name)
        return path, f"{path.name}"
    default = bundled_model_path("base")
    if default is not None:
        return default, f"bundled 'base' ({default.name})"
    from ferkit.constants import EMOTIONS
    from ferkit.export.onnx import export_onnx
    from ferkit.models import create_model
    from ferkit.models.checkpoint import save_model
    from ferkit.models.meta import ModelMeta

    model = create_model("mobilenet_small")
    model_file = save_model(workdir / "small.pt", model, ModelMeta("small", model.model_args, EMOTIONS))
    path = export_onnx(model_file, workdir / "small.onnx").onnx_path
    return path, "untrained 'mobilenet_small' architecture (no bundled model yet; speed does not depend on weights)"


def bench_classifier(model: Path) -> dict:
    """faces/s at batch 1 and 64, and at batch 256 for each size of the chunks `predict` splits batches into
    (`classify.ONNX_CHUNK`, restored afterwards)."""
    clf = OnnxClassifier(model)
    out: dict = {}
    for batch in (1, 64):
        ms, rate = classifier_rate(clf, batch)
        out[f"batch_{batch}"] = {"ms_per_batch": ms, "faces_per_s": rate}
    shipped = classify.ONNX_CHUNK
    out["batch_256_by_chunk"] = {}
    try:
        for chunk in (8, 16, 32, 64):
            classify.ONNX_CHUNK = chunk
            out["batch_256_by_chunk"][chunk] = classifier_rate(clf, 256)[1]
    finally:
        classify.ONNX_CHUNK = shipped
    out["chunk_in_use"] = shipped
    return out


def _face_tile() -> np.ndarray:
    return cv2.resize(cv2.imread(str(sample_image_path()))[40:200, 145:300], (96, 100))


def _frame(n_faces: int, step: int) -> np.ndarray:
    """A 640x480 frame with `n_faces` copies of the sample face, each drifting with `step`."""
    w, h = FRAME_SIZE
    frame = np.full((h, w, 3), 100, np.uint8)
    tile = _face_tile()
    spots = [(60, 60), (400, 50), (230, 190), (70, 330), (430, 320)][:n_faces]
    for i, (x, y) in enumerate(spots):
        dx = (step * (2 + i)) % 80
        frame[y:y + tile.shape[0], x + dx:x + dx + tile.shape[1]] = tile if i % 2 == 0 else tile[:, ::-1]
    return frame


def bench_detectors(yunet: Path) -> dict:
    frame = _frame(1, 0)
    out = {}
    detectors = {"yunet_opencv": YuNetDetector(yunet), "yunet_onnxruntime": YuNetDetector(yunet, engine="onnxruntime"),
                 "haar": HaarDetector()}
    for name, detector in detectors.items():
        times = timed(lambda d=detector: d.detect(frame))
        out[name] = {"ms_median": round(statistics.median(times) * 1e3, 2),
                     "faces_found": len(detector.detect(frame))}
    return out


def bench_pipeline(model: Path, yunet: Path, workdir: Path, frames: int = 150, repeats: int = 3) -> dict:
    """Frames/s reading a video file and running detect -> align -> classify -> track on every frame."""
    out = {}
    for n_faces in (1, 5):
        video = workdir / f"faces{n_faces}.mp4"
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, FRAME_SIZE)
        for i in range(frames):
            writer.write(_frame(n_faces, i))
        writer.release()
        for detector in ("yunet", "yunet-ort"):
            recognizer = Recognizer(model, detector, yunet_path=yunet)
            runs = []
            for _ in range(repeats):
                with VideoSource(video) as source:
                    t0 = time.perf_counter()
                    found = [len(r.faces) for r in recognizer.stream(source, IoUTracker())]
                    runs.append(len(found) / (time.perf_counter() - t0))
            out[f"{n_faces}_face_{detector}"] = {"frames": frames, "frames_per_s": round(statistics.median(runs), 1),
                                                 "mean_faces_found": round(float(np.mean(found)), 2)}
    return out


def peak_memory_predict(model: Path, yunet: Path, runs: int = 5) -> dict:
    """Wall time (median of `runs` fresh processes) and peak RSS of `ferkit predict` on the sample photo, as each
    process reports it, with the peak of any child process it started (a worker pool, a resource tracker)."""
    argv = ["predict", "--sample", "--model", str(model), "--yunet-path", str(yunet), "--jsonl", os.devnull]
    # VmHWM (peak RSS of this process image): getrusage's ru_maxrss survives fork+exec, so a child of this
    # torch-loaded benchmark would report the benchmark's own peak. RUSAGE_CHILDREN: its own children's peak.
    code = ("import re, resource, sys; from pathlib import Path; from ferkit.apps.cli import main; "
            "code = main(sys.argv[1:]); "
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1); "
            "print(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 'torch' in sys.modules); "
            "sys.exit(code)")
    walls, peaks, children, torch_imported = [], [], [], False
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        own_kib, children_kib, torch_flag = done.stdout.split()[-3:]  # KiB on Linux
        peaks.append(int(own_kib) / 1024)
        children.append(int(children_kib) / 1024)
        torch_imported |= torch_flag == "True"
    return {"command": "ferkit predict --sample", "runs": runs, "wall_s": round(statistics.median(walls), 2),
            "wall_s_all": [round(w, 2) for w in walls], "peak_rss_mib": round(max(peaks), 1),
            "children_peak_rss_mib": round(max(children), 1),
            "process_tree_peak_mib": round(max(p + c for p, c in zip(peaks, children, strict=True)), 1),
            "torch_imported": torch_imported}


def _requirement_names(dist: str) -> set[str]:
    """The core requirements of `dist` that apply here (no extras; markers such as a Windows-only colorama
    for tqdm are evaluated, so a package this machine never installs is not looked for)."""
    names = set()
    for text in metadata.requires(dist) or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            names.add(req.name.lower().replace("_", "-"))
    return names


def install_size() -> dict:
    """Disk size of ferkit's core dependency closure, as installed in this environment."""
    seen: set[str] = set()
    todo = ["ferkit"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_requirement_names(name))
    sizes = {}
    for name in seen:
        files = metadata.distribution(name).files or []
        sizes[name] = sum(f.locate().stat().st_size for f in files if f.locate().is_file())
    top = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)
    return {"total_mib": round(sum(sizes.values()) / 2**20, 1), "packages": len(sizes),
            "torch_included": "torch" in seen,
            "largest_mib": {k: round(v / 2**20, 1) for k, v in top[:6]},
            "note": "ferkit (editable here) plus the dependency closure of its core requirements, no extras"}


def write_markdown(results: dict, path: Path) -> None:
    c, d, p = results["classifier"], results["detector_640x480"], results["pipeline_640x480"]
    lines = [
        "# Inference benchmark",
        "",
        f"{results['date']} on {results['hardware']['cpu']} ({results['hardware']['cores']} cores), "
        f"onnxruntime {results['hardware']['onnxruntime']}, OpenCV {results['hardware']['opencv']}.",
        f"Model: {results['model']}. Command: `{results['command']}`.",
        f"Load average (1/5/15 min) when it started: {results['load_average_1_5_15min_at_start']} "
        "(other processes on the machine slow every figure below).",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        f"| classifier, batch 1 | {c['batch_1']['faces_per_s']:,} faces/s ({c['batch_1']['ms_per_batch']} ms) | |",
        f"| classifier, batch 64 | {c['batch_64']['faces_per_s']:,} faces/s | > 5,000 (`small`) |",
        *(f"| classifier, batch 256 in chunks of {k}{' (in use)' if int(k) == c['chunk_in_use'] else ''} | "
          f"{v:,} faces/s | |" for k, v in c["batch_256_by_chunk"].items()),
        f"| YuNet (OpenCV) on 640x480 | {d['yunet_opencv']['ms_median']} ms | |",
        f"| YuNet (ONNX Runtime) on 640x480 | {d['yunet_onnxruntime']['ms_median']} ms | |",
        f"| Haar cascade on 640x480 | {d['haar']['ms_median']} ms | |",
        f"| full pipeline, 640x480, 1 face, yunet | {p['1_face_yunet']['frames_per_s']} frames/s | > 60 |",
        f"| full pipeline, 640x480, 1 face, yunet-ort | {p['1_face_yunet-ort']['frames_per_s']} frames/s | > 60 |",
        f"| full pipeline, 640x480, 5 faces, yunet | {p['5_face_yunet']['frames_per_s']} frames/s | |",
        f"| full pipeline, 640x480, 5 faces, yunet-ort | {p['5_face_yunet-ort']['frames_per_s']} frames/s | |",
        f"| `ferkit predict` on one photo, fresh process (median of {results['predict_memory']['runs']}) | "
        f"{results['predict_memory']['wall_s']} s | <= 0.8 s |",
        f"| peak memory of its process tree | {results['predict_memory']['process_tree_peak_mib']} MiB "
        f"(children {results['predict_memory']['children_peak_rss_mib']} MiB) | <= 200 MB |",
        f"| inference-only install | {results['install']['total_mib']} MiB, torch included: "
        f"{results['install']['torch_included']} | no torch |",
        "",
        "Largest packages of the inference install (MiB): "
        + ", ".join(f"{k} {v}" for k, v in results["install"]["largest_mib"].items()) + ".",
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="bundled model name or .onnx file (default: bundled 'base')")
    parser.add_argument("--yunet", type=Path, default=Path(os.environ.get("FERKIT_YUNET", DEFAULT_YUNET)))
    parser.add_argument("--frames", type=int, default=150, help="frames of each generated pipeline video")
    parser.add_argument("--repeats", type=int, default=3, help="pipeline runs per video (the median is kept)")
    parser.add_argument("--out", type=Path, default=RESULTS / "inference.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model, description = resolve_model(args.model, workdir)
        results = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "hardware": hardware(onnxruntime=onnxruntime.__version__, opencv=cv2.__version__),
            "load_average_1_5_15min_at_start": [round(x, 2) for x in os.getloadavg()],
            "model": description,
            "classifier": bench_classifier(model),
            "detector_640x480": bench_detectors(args.yunet),
            "pipeline_640x480": bench_pipeline(model, args.yunet, workdir, args.frames, args.repeats),
            "predict_memory": peak_memory_predict(model, args.yunet),
            "install": install_size(),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, args.out.with_suffix(".md"))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
