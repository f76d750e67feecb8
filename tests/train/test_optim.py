from __future__ import annotations

import math

import pytest
import torch

from ferkit.train.config import TrainConfig
from ferkit.train.optim import OptimConfig, cosine_with_warmup, create_optimizer


def test_cosine_with_warmup_shape() -> None:
    f = cosine_with_warmup(warmup_steps=10, total_steps=110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.5)
    assert f(110) == pytest.approx(0.0, abs=1e-12) and f(500) == pytest.approx(0.0, abs=1e-12)
    assert all(f(s) >= f(s + 1) for s in range(10, 109))
    assert math.isclose(cosine_with_warmup(0, 100)(0), 1.0)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_weight_decay_skips_biases_and_norms(name: str) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4))
    cfg = TrainConfig(optim=OptimConfig(optimizer=name, weight_decay=0.01))
    opt = create_optimizer(cfg.optim, model.parameters())
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.01 and [p.ndim for p in decayed["params"]] == [4]
    assert plain["weight_decay"] == 0.0 and all(p.ndim == 1 for p in plain["params"])
    if name == "sgd":
        assert opt.defaults["nesterov"] is True
