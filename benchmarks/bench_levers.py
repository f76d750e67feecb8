"""Issue #20's speed levers on `base`'s network, before any recovery training: each lever's cost in PublicTest
accuracy and its gain in faces/s, all in one run, so they compare on one machine and load.

Each variant is `large:0` (the VGG that `base` ships in int8) changed by one lever or two:
- fewer channels: its strongest channels kept (`models.prune`, what `ferkit train --model vgg --width W
  --init-from large:0 --prune` starts from), 25% or 40% fewer in every layer;
- a smaller input: the same weights (the network ends in global pooling, so any size runs) on 44 or 40 px faces,
  either the whole face resized (what ferkit's preprocessing would do at `--input-size 40`) or the centre crop of
  the 48 px face (the "40 px crops" of the best FER2013 recipes; ferkit's preprocessing has no crop yet).
A pruned variant's BatchNorm statistics are estimated again on 2,048 Training faces: without it, it computes with
statistics of channels it no longer has. The others keep the statistics training left (on augmented faces):
estimating them again on plain faces lowers large:0 itself (the variant `large:0+bn-reestimated` measures by how
much). No weight is trained: the accuracy here is
where a recovery training (`--recipe base_distill` with `--width` or `--input-size`) starts, the speed is final
(it depends on the graph, not on the weights). int8 is what `ferkit export --int8` ships: static, per-channel,
7-bit weights, calibrated on 512 of those Training faces.

    python benchmarks/bench_levers.py [--data ../shared/data/fer2013] [--variants NAME ...]

Writes benchmarks/results/speed_levers.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from machine import hardware, now_utc, write_results
from timing import classifier_rate
from torch import nn

from ferkit.data import DataConfig, load_split
from ferkit.export.onnx import at_input_size, export_onnx
from ferkit.export.quantize import quantize_int8
from ferkit.inference.classify import OnnxClassifier
from ferkit.models import create_model
from ferkit.models.checkpoint import save_model
from ferkit.models.flops import count_flops, count_parameters
from ferkit.models.pretrained import load_pretrained
from ferkit.models.prune import prune_into
from ferkit.transforms.preprocess import to_model_input

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "speed_levers.json"
SOURCE = "large:0"
BN_FACES, CALIBRATION_FACES = 2048, 512


@dataclass(frozen=True)
class Lever:
    width: float = 1.0  # channel multiplier of the pruned network
    size: int = 48  # input side, pixels
    crop: bool = False  # the centre of the 48 px face, not the whole face resized
    reestimate: bool | None = None  # BatchNorm statistics measured again (None: when channels were removed)

    @property
    def reestimates(self) -> bool:
        return self.width != 1.0 if self.reestimate is None else self.reestimate


VARIANTS = {
    "large:0": Lever(),
    "large:0+bn-reestimated": Lever(reestimate=True),
    "width-0.75": Lever(width=0.75),
    "width-0.6": Lever(width=0.6),
    "input-44-resized": Lever(size=44),
    "input-40-resized": Lever(size=40),
    "input-44-crop": Lever(size=44, crop=True),
    "input-40-crop": Lever(size=40, crop=True),
    "width-0.75+input-40-crop": Lever(width=0.75, size=40, crop=True),
}


def faces(data: Path, split: str, lever: Lever) -> tuple[np.ndarray, np.ndarray]:
    """uint8 faces `[N, S, S]` and labels of `split`, as the variant sees them."""
    size = 48 if lever.crop else lever.size
    arrays = load_split(DataConfig(path=data, input_size=size), split)
    images = arrays.images
    if lever.crop:
        start = (48 - lever.size) // 2
        images = np.ascontiguousarray(images[:, start:start + lever.size, start:start + lever.size])
    return images, arrays.labels


@torch.no_grad()
def reestimate_batchnorm(model: nn.Module, images: np.ndarray) -> None:
    """Every BatchNorm's running mean and variance measured anew over `images` (a cumulative average), the rest
    of the network in evaluation mode. Unlike `models.onnx_import.calibrate_batchnorm`, which keeps what a
    BatchNorm computes, this changes it: the statistics of the wider network no longer describe the pruned one."""
    model.eval()
    for bn in (m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    for start in range(0, len(images), 256):
        model(torch.from_numpy(to_model_input(images[start:start + 256])))
    model.eval()


def build(lever: Lever, train_images: np.ndarray, out: Path) -> Path:
    """The variant as a ferkit model file."""
    pretrained = load_pretrained(SOURCE)
    model, meta = pretrained.model, pretrained.meta
    if lever.width != 1.0:
        narrow = create_model(meta.model_name, num_classes=len(meta.classes), width=lever.width).eval()
        model, meta = prune_into(model, narrow), replace(meta, model_args=narrow.model_args)
    if lever.size != meta.preprocess.input_size:
        model, meta = at_input_size(model, meta, lever.size)  # what `ferkit export --input-size` does
    if lever.reestimates:
        reestimate_batchnorm(model, train_images)
    return save_model(out, model, meta)


def accuracy(path: Path, images: np.ndarray, labels: np.ndarray) -> float:
    return round(float((OnnxClassifier(path).predict(images).argmax(1) == labels).mean()), 4)


def speeds(path: Path) -> dict[str, int]:
    model = OnnxClassifier(path)
    return {"batch1": classifier_rate(model, 1)[1], "batch64": classifier_rate(model, 64)[1]}


def measure(name: str, lever: Lever, data: Path, tmp: Path) -> dict:
    train_images, _ = faces(data, "train", lever)
    pick = np.sort(np.random.default_rng(0).permutation(len(train_images))[:BN_FACES])
    test_images, test_labels = faces(data, "PublicTest", lever)
    model_file = build(lever, train_images[pick], tmp / f"{name}.pt")
    fp32, int8 = tmp / f"{name}.onnx", tmp / f"{name}.int8.onnx"
    export_onnx(model_file, fp32)
    quantize_int8(fp32, int8, train_images[pick[:CALIBRATION_FACES]])
    network = load_pretrained(model_file).model
    return {
        "width": lever.width, "input_size": lever.size, "input": "centre crop" if lever.crop else "resized",
        "batchnorm_reestimated": lever.reestimates,
        "params": count_parameters(network), "mflops": round(count_flops(network, lever.size) / 1e6, 1),
        "publictest_accuracy": {"fp32": accuracy(fp32, test_images, test_labels),
                                "int8": accuracy(int8, test_images, test_labels)},
        "faces_per_s": {"fp32": speeds(fp32), "int8": speeds(int8)},
        "int8_file_mb": round(int8.stat().st_size / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fer2013")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()
    report = {
        "benchmark": f"speed levers on {SOURCE} before recovery training: FER2013 PublicTest accuracy and ONNX "
                     "Runtime classifier faces/s (median of repeated calls) per variant",
        "date": now_utc(), "hardware": hardware(onnxruntime=onnxruntime.__version__, torch=torch.__version__),
        "split": "FER2013 PublicTest", "batchnorm_faces": BN_FACES, "calibration_faces": CALIBRATION_FACES,
        "command": "python benchmarks/bench_levers.py " + " ".join(sys.argv[1:]), "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.variants:
            report["variants"][name] = measure(name, VARIANTS[name], args.data, Path(tmp))
            print(name, json.dumps(report["variants"][name]), flush=True)
            write_results(args.out, report)  # after each variant, so an interrupted run keeps what it measured


if __name__ == "__main__":
    main()
