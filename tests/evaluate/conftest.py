"""Fixtures for the evaluation tests: a tiny saved model, a small synthetic face set and fake run folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays
from ferkit.models import create_model
from ferkit.models.checkpoint import save_model
from ferkit.models.meta import ModelMeta
from ferkit.train.callbacks import HISTORY_COLUMNS
from ferkit.train.rundir import RunDir

DATA_CLASSES = ("happy", "sad", "neutral")


def save_tiny_model(path: Path, train_config: dict | None = None, seed: int = 0) -> Path:
    """A randomly initialised 7-class `test_tiny` model saved as a ferkit model file."""
    torch.manual_seed(seed)
    model = create_model("test_tiny", num_classes=len(EMOTIONS))
    return save_model(path, model, ModelMeta("test_tiny", model.model_args, EMOTIONS,
                                             train_config=dict(train_config or {})))


def write_history(run_dir: Path, val_acc: list[float]) -> Path:
    """A history.csv as `ferkit train` writes it, with one row per entry of `val_acc` (train_acc left empty)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = RunDir(run_dir).history
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        for epoch, acc in enumerate(val_acc, start=1):
            writer.writerow({"epoch": epoch, "train_loss": 2.0 / epoch, "train_acc": "", "val_loss": 1.9 / epoch,
                             "val_acc": acc, "val_macro_f1": acc - 0.05, "lr": 1e-3, "images_per_s": 500.0,
                             "time_s": 30.0})
    return path


def write_json(path: Path, content: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


@pytest.fixture
def tiny_model_file(tmp_path: Path) -> Path:
    return save_tiny_model(tmp_path / "tiny.pt")


@pytest.fixture
def faces_npz(tmp_path: Path) -> Path:
    """150 random faces of three classes (50 each) as a ferkit .npz: the data layer holds out 15 for "val"."""
    rng = np.random.default_rng(0)
    labels = np.arange(150) % len(DATA_CLASSES)
    images = rng.integers(0, 256, size=(150, 48, 48), dtype=np.uint8)
    return FaceArrays(images, labels.astype(np.int64), DATA_CLASSES).save(tmp_path / "faces.npz")
