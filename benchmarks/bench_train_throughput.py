"""Training throughput of every registered model: images/s for forward + backward + AdamW step.

Batch 128 of random 48x48 faces (the speed of a step does not depend on pixel values). Each device runs each
setting of `--settings`: `fp32`, `fp32+cl` (channels-last), `bf16` (autocast) and `bf16+cl`, so that the choice of
`ferkit train --precision auto` and `--channels-last` (`ferkit.train.precision`) rests on figures from the same run.
A warm-up step is excluded. Writes benchmarks/results/train_throughput.json with the hardware (including whether
the CPU has native bf16) and date.

    .venv/bin/python benchmarks/bench_train_throughput.py [--cpu-steps 3] [--cuda-steps 30] [--models vgg small]
        [--settings fp32 fp32+cl bf16 bf16+cl] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F
from machine import hardware, write_results

from ferkit.models import create_model, list_models
from ferkit.train.augment import augment_batch

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULT = REPO_ROOT / "benchmarks" / "results" / "train_throughput.json"
BATCH = 128
INPUT_SIZE = 48


SETTINGS = ("fp32", "fp32+cl", "bf16", "bf16+cl")


def images_per_second(name: str, device: torch.device, setting: str, steps: int, warmup: int) -> float:
    """Time `steps` optimiser steps of model `name` on `device` in `setting` after `warmup` untimed ones."""
    cuda = device.type == "cuda"
    channels_last, bf16 = setting.endswith("+cl"), setting.startswith("bf16")
    model = create_model(name).to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.rand(BATCH, 1, INPUT_SIZE, INPUT_SIZE, device=device)
    y = torch.randint(0, model.num_classes, (BATCH,), device=device)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    return steps * BATCH / (time.perf_counter() - start)


def train_hardware() -> dict:
    from ferkit.train.precision import cpu_has_native_bf16, resolve_precision

    info = hardware(torch=torch.__version__, torch_threads=str(torch.get_num_threads()))
    info["cpu_native_bf16"] = cpu_has_native_bf16()
    info["precision_auto_on_cpu"] = resolve_precision("auto", on_cuda=False)
    if torch.cuda.is_available():
        info["cuda_device"] = torch.cuda.get_device_name()
    return info


def augment_images_per_second(device: torch.device, steps: int) -> float:
    """Faces/s of the base recipe's batch augmentation alone (uint8 batch in, augmented float batch out)."""
    from ferkit.config_fields import from_flat
    from ferkit.train.config import TrainConfig
    from ferkit.train.recipes import get_recipe

    cfg = from_flat(TrainConfig, get_recipe("base")).augment
    faces = torch.randint(0, 256, (256, INPUT_SIZE, INPUT_SIZE), dtype=torch.uint8, device=device)
    augment_batch(faces, cfg)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        augment_batch(faces, cfg)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * len(faces) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list_models(), help="models to time (default: all)")
    parser.add_argument("--cpu-steps", type=int, default=3, help="timed steps per model on CPU (0 skips CPU)")
    parser.add_argument("--cuda-steps", type=int, default=30, help="timed steps per model on CUDA")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS,
                        help="precision and memory format settings to time")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()

    machine = train_hardware()  # before the runs, so the load average is other processes' share
    runs = {"cpu": (torch.device("cpu"), args.cpu_steps, 1)}
    if torch.cuda.is_available():
        runs["cuda"] = (torch.device("cuda"), args.cuda_steps, 5)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for label, (device, steps, warmup) in runs.items():
        if steps <= 0:
            continue
        results[label] = {}
        for name in args.models:
            results[label][name] = {}
            for setting in args.settings:
                torch.manual_seed(0)
                rate = round(images_per_second(name, device, setting, steps, warmup), 1)
                results[label][name][setting] = rate
                print(f"{label:5s} {name:16s} {setting:8s} {rate:10.1f} images/s", flush=True)
    augment = {label: round(augment_images_per_second(device, 20), 1) for label, (device, _, _) in runs.items()}
    print(f"augmentation alone: {augment} images/s", flush=True)

    report = {
        "benchmark": f"training throughput, images/s (forward + backward + AdamW step), batch {BATCH}, "
                     f"{INPUT_SIZE}x{INPUT_SIZE}x1, per device, model and setting (cl = channels-last, bf16 = "
                     "bf16 autocast)",
        "command": "python benchmarks/bench_train_throughput.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hardware": machine,
        "steps": {label: steps for label, (_, steps, _) in runs.items()},
        "images_per_s": results,
        "augment_images_per_s": augment,
    }
    write_results(args.out, report)


if __name__ == "__main__":
    main()
