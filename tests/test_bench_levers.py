"""benchmarks/bench_levers.py, issue #20's speed levers: each variant is the source network changed by exactly its
lever, and only a pruned one gets new BatchNorm statistics."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from torch import nn

from ferkit.constants import EMOTIONS
from ferkit.models import create_model
from ferkit.models.checkpoint import load_model, save_model
from ferkit.models.meta import ModelMeta

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def levers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """The script as a module, its source network a random `vgg` with BatchNorm statistics unlike plain faces'."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("bench_levers")
    torch.manual_seed(0)
    source = create_model("vgg").eval()
    for bn in (m for m in source.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    monkeypatch.setattr(module, "SOURCE", save_model(tmp_path / "vgg.pt", source,
                                                     ModelMeta("vgg", source.model_args, EMOTIONS)))
    return module


def _faces(size: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (32, size, size), dtype=np.uint8)


def test_the_unchanged_variant_is_the_source_network(levers: ModuleType, tmp_path: Path) -> None:
    model, _ = load_model(levers.build(levers.Lever(), _faces(48), tmp_path / "same.pt"))
    source, _ = load_model(levers.SOURCE)
    x = torch.rand(4, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(model(x), source(x))


def test_a_pruned_smaller_input_variant_has_its_widths_its_size_and_new_statistics(levers: ModuleType,
                                                                                  tmp_path: Path) -> None:
    lever = levers.Lever(width=0.75, size=40, crop=True)
    model, meta = load_model(levers.build(lever, _faces(40), tmp_path / "narrow.pt"))
    assert meta.preprocess.input_size == 40 and meta.model_args["widths"] == (48, 96, 192, 384)
    first = model.stages[0].convs[0][1]  # the first BatchNorm now describes its input on these faces
    x = torch.from_numpy(_faces(40)[:, None].astype(np.float32) / 255.0)
    with torch.inference_mode():
        conv_out = model.stages[0].convs[0][0](model.norm(x))
    torch.testing.assert_close(first.running_mean, conv_out.mean((0, 2, 3)), atol=1e-4, rtol=1e-3)
    assert model(x).shape == (32, 7)
