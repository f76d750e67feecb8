"""`--precision auto` follows the hardware: bf16 only where it is computed natively."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ferkit.train import precision
from ferkit.train.precision import cpu_has_native_bf16, resolve_precision


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bf16_on_cuda_whatever_the_cpu(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    assert resolve_precision("auto", on_cuda=True) == "bf16-mixed"


def test_auto_on_cpu_is_bf16_only_with_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", on_cuda=False) == "bf16-mixed"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", on_cuda=False) == "32-true"


@pytest.mark.parametrize(("given", "expected"), [("32", "32-true"), ("bf16-mixed", "bf16-mixed"),
                                                 ("16-mixed", "16-mixed")])
def test_an_explicit_precision_is_kept(given: str, expected: str) -> None:
    assert resolve_precision(given, on_cuda=False) == expected


def test_without_the_onednn_probe_the_kernels_cpu_flags_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> bool:
        raise AttributeError("no such op")

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", missing, raising=False)
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
    assert cpu_has_native_bf16() == ("avx512_bf16" in flags or "amx_bf16" in flags)
