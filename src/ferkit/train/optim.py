"""Optimizer and learning-rate schedule factories: pure functions of the config and the parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR, OneCycleLR, ReduceLROnPlateau

from ferkit.train.config import TrainConfig


def create_optimizer(cfg: TrainConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
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


def create_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> dict | None:
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
