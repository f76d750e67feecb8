"""Fixtures for training tests: a small synthetic face set whose classes a tiny model learns in seconds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays


def synthetic_faces(n: int, size: int = 48, seed: int = 0, classes: tuple[str, ...] = EMOTIONS) -> FaceArrays:
    """Noisy horizontal stripes whose period encodes the class: learnable by a tiny conv net in a few epochs,
    unchanged by horizontal flips and small rotations (so augmentation keeps labels valid)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    rows = np.arange(size, dtype=np.float64)[:, None]
    periods = 3.0 + 1.5 * labels
    phase = rng.uniform(0, 2 * np.pi, n)
    stripes = np.sin(2 * np.pi * rows[None] / periods[:, None, None] + phase[:, None, None])
    images = 128 + 90 * stripes + rng.normal(0, 25, (n, size, size))
    return FaceArrays(np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64), classes)


@pytest.fixture
def synthetic_npz(tmp_path: Path) -> Path:
    """A 280-face synthetic data set saved as a ferkit .npz (the training data path accepts it)."""
    return synthetic_faces(280).save(tmp_path / "faces.npz")


@pytest.fixture
def make_faces() -> Callable[..., FaceArrays]:
    """`synthetic_faces` itself, for tests that need several sizes or class lists."""
    return synthetic_faces
