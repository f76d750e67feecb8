"""int8 options for one float model (issue #20's speed levers): PublicTest accuracy and faces/s of each variant.

Variants of FLOAT.onnx (a `ferkit export` file): float32 as it is; static int8 (uint8 activations) with per-channel
int8 weights over every operator ONNX Runtime quantises; the same with 7-bit weights (`reduce_range`) or uint8
weights, the two ways around the saturation of ONNX Runtime's U8S8 kernels on x86 CPUs without VNNI; per-tensor
weights; only the convolutions quantised; dynamic (weights only). The hardware record says whether this CPU has
VNNI, since the same int8 file scores differently with and without it. Static variants are calibrated on
the same random Training faces. Speed: classifier faces/s at batch 1 and 64 on ONNX Runtime here, median of
repeated calls (benchmarks/timing.py); all variants in one run, so they compare on one machine and load.
Writes benchmarks/results/int8_options.json.

    python benchmarks/bench_int8.py FLOAT.onnx [--data ../shared/data/fer2013] [--calibration-faces 512]
        [--variants fp32 int8-8bit int8-7bit int8-u8u8 int8-per-tensor int8-conv-only int8-dynamic]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
from machine import hardware, now_utc, write_results
from timing import classifier_rate

from ferkit.data import DataConfig, load_split
from ferkit.export.quantize import quantize_int8
from ferkit.inference.classify import OnnxClassifier

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "int8_options.json"

# name -> (calibrated, quantize_int8 keyword arguments); None: the float file itself. All static variants have
# per-channel int8 weights over every operator unless their name says otherwise.
VARIANTS: dict[str, tuple[bool, dict] | None] = {
    "fp32": None,
    "int8-8bit": (True, {"reduce_range": False}),
    "int8-7bit": (True, {"reduce_range": True}),  # ferkit export's default
    "int8-u8u8": (True, {"reduce_range": False, "unsigned_weights": True}),
    "int8-per-tensor": (True, {"reduce_range": False, "per_channel": False}),
    "int8-conv-only": (True, {"reduce_range": False, "op_types": ("Conv",)}),
    "int8-dynamic": (False, {}),
}


def faces_of(model: OnnxClassifier, data: Path, split: str):
    return load_split(DataConfig.for_model(data, model.classes, model.preprocess), split)


def measure(path: Path, test) -> dict:
    model = OnnxClassifier(path)
    accuracy = float((model.predict(test.images).argmax(1) == test.labels).mean())
    return {"publictest_accuracy": round(accuracy, 4), "faces_per_s_batch1": classifier_rate(model, 1)[1],
            "faces_per_s_batch64": classifier_rate(model, 64)[1], "file_mb": round(path.stat().st_size / 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("onnx", type=Path, help="float32 ONNX file written by ferkit export")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fer2013")
    parser.add_argument("--calibration-faces", type=int, default=512)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()
    machine = hardware(onnxruntime=onnxruntime.__version__)
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    machine["cpu_vnni"] = "avx512_vnni" in flags or "avx_vnni" in flags
    model = OnnxClassifier(args.onnx)
    test, train = faces_of(model, args.data, "PublicTest"), faces_of(model, args.data, "train")
    pick = np.sort(np.random.default_rng(0).permutation(len(train))[: args.calibration_faces])
    report = {
        "benchmark": "int8 options: FER2013 PublicTest accuracy and ONNX Runtime classifier faces/s per variant",
        "model": str(args.onnx), "date": now_utc(), "hardware": machine, "split": "FER2013 PublicTest",
        "faces": len(test), "calibration_faces": len(pick),
        "command": "python benchmarks/bench_int8.py " + " ".join(sys.argv[1:]), "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            variant = VARIANTS[name]
            path = args.onnx
            if variant is not None:
                calibrated, options = variant
                path = Path(tmp) / f"{len(report['variants'])}.onnx"
                quantize_int8(args.onnx, path, train.images[pick] if calibrated else None, **options)
            report["variants"][name] = measure(path, test)
            print(name, json.dumps(report["variants"][name]), flush=True)
            write_results(args.out, report)  # after each variant, so an interrupted run keeps what it measured


if __name__ == "__main__":
    main()
