"""`TrainConfig` nests the optimiser's and the loss's settings, yet the command line, recipes and config.json keep
their flat names (`--lr`, `--label-smoothing`), and the schedule always lasts the run's epochs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ferkit.apps.cli import main
from ferkit.config_fields import from_flat
from ferkit.train.config import TrainConfig
from ferkit.train.loss import LossConfig
from ferkit.train.optim import OptimConfig


def test_the_schedule_lasts_the_runs_epochs() -> None:
    cfg = TrainConfig(epochs=5)
    assert cfg.optim.epochs == 5
    assert dataclasses.replace(cfg, epochs=120).optim.epochs == 120  # retraining a tuned config for longer
    assert from_flat(TrainConfig, {"epochs": 7, "lr": 0.1}).optim == OptimConfig(lr=0.1, epochs=7)


def test_optimiser_and_loss_options_keep_their_flat_names(capsys: pytest.CaptureFixture[str]) -> None:
    given = {"optimizer": "sgd", "lr": 0.05, "weight_decay": 0.01, "momentum": 0.8, "scheduler": "cosine",
             "warmup_epochs": 2, "label_smoothing": 0.1, "class_weighting": "sqrt", "distill_weight": 0.3,
             "distill_temperature": 2.0}
    argv = [arg for name, value in given.items() for arg in (f"--{name.replace('_', '-')}", str(value))]
    assert main(["train", *argv, "--epochs", "9", "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {name: printed[name] for name in given} == given and "optim" not in printed and "loss" not in printed
    cfg = TrainConfig.from_dict(printed)
    assert cfg.optim == OptimConfig("sgd", 0.05, 0.01, 0.8, "cosine", 2, 9)
    assert cfg.loss == LossConfig(label_smoothing=0.1, class_weighting="sqrt", distill_weight=0.3,
                                  distill_temperature=2.0)
