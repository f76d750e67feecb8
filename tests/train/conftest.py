"""Fixtures for training tests: a small synthetic face set whose classes a tiny model learns in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays


def synthetic_faces(n: int, size: int = 48, seed: int = 0, classes: tuple[str, ...] = EMOTIONS) -> FaceArrays:
    """Noise images with a bright horizontal band whose height encodes the class: learnable in a few epochs,
    and unchanged by horizontal flips."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    images = rng.integers(0, 120, size=(n, size, size), dtype=np.uint8)
    band = size // len(classes)
    for i, y in enumerate(labels):
        images[i, y * band:(y + 1) * band, size // 8:-size // 8] = 230
    return FaceArrays(images, labels.astype(np.int64), classes)


@pytest.fixture
def synthetic_npz(tmp_path: Path) -> Path:
    """A 448-face synthetic data set saved as a ferkit .npz (the training data path accepts it)."""
    return synthetic_faces(448).save(tmp_path / "faces.npz")
