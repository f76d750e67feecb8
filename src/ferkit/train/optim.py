"""`OptimConfig`, the optimiser and learning-rate schedule of a run (nested in `TrainConfig`, shown flat: `--lr`,
`--optimizer`, ...), and the factories that build them from it: pure functions of those settings and the
parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import torch
from torch.optim.lr_scheduler import LambdaLR, OneCycleLR, ReduceLROnPlateau

from ferkit.config_fields import check_bounds, option

OptimizerName = Literal["adam", "adamw", "sgd"]
SchedulerName = Literal["none", "plateau", "cosine", "onecycle"]


@dataclass(frozen=True)
class OptimConfig:
    """What `create_optimizer` and `create_scheduler` need, the one owner of their defaults."""

    optimizer: OptimizerName = option("adam", "optimizer")
    lr: float = option(1e-3, "peak learning rate", "(0, inf)")
    weight_decay: float = option(1e-4, "weight decay", "[0, inf)")
    momentum: float = option(0.9, "SGD momentum (Nesterov)", "[0, 1)")
    scheduler: SchedulerName = option("plateau", "learning-rate schedule")
    warmup_epochs: int = option(0, "linear warm-up epochs before a cosine schedule", "[0, inf)")
    # Not an option of its own: `TrainConfig` sets it to the run's --epochs.
    epochs: int = option(30, "the length of the cosine and one-cycle schedules", "[1, inf)")

    def __post_init__(self) -> None:
        check_bounds(self)


def create_optimizer(cfg: OptimConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD with Nesterov momentum. Weight decay skips biases and norm weights (1-D params)."""
    params = list(params)
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    return torch.optim.Adam(groups, lr=cfg.lr)


def create_scheduler(cfg: OptimConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> dict | None:
    """A Lightning scheduler dict for `cfg.scheduler`, or None for a constant rate."""
    if cfg.scheduler == "plateau":
        return {"scheduler": ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=4),
                "monitor": "val_acc", "interval": "epoch"}
    if cfg.scheduler == "onecycle":
        return {"scheduler": OneCycleLR(optimizer, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch),
                "interval": "step"}
    if cfg.scheduler == "cosine":
        return {"scheduler": LambdaLR(optimizer, cosine_with_warmup(cfg.warmup_epochs * steps_per_epoch,
                                                                    cfg.epochs * steps_per_epoch)),
                "interval": "step"}
    return None


def cosine_with_warmup(warmup_steps: int, total_steps: int):
    """LR multiplier: linear warm-up from ~0 to 1, then cosine decay to 0 at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
