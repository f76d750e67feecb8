"""Which arithmetic a training run uses: `--precision auto` and `--channels-last`, decided by the hardware.

One VGG training step at batch 128: on an AMD EPYC with `avx512_bf16`, bf16 autocast with channels-last ran 6.4x the
images/s of float32 (issue #20's measurement); on an AMD EPYC without it (Zen 1, AVX2 only) bf16 is emulated and ran
at 1.4 images/s against float32's 19.7, while channels-last still gained (21.4; `small`: 212 -> 313)
(`benchmarks/bench_train_throughput.py`, `benchmarks/results/train_throughput*.json`). So `auto` picks bf16 only
where the CPU computes it natively (or on CUDA), and channels-last is the default on every device.
"""

from __future__ import annotations

from pathlib import Path

import torch


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX), as oneDNN sees them."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private oneDNN probe: fall back to the kernel's flags
        cpuinfo = Path("/proc/cpuinfo")
        flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
        return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, on_cuda: bool) -> str:
    """Lightning's precision for `--precision` (`auto`: bf16-mixed on CUDA and on CPUs with native bf16,
    else 32-true)."""
    if precision == "auto":
        return "bf16-mixed" if on_cuda or cpu_has_native_bf16() else "32-true"
    return {"32": "32-true"}.get(precision, precision)
