"""Fixtures for inference tests: the real YuNet file from ../shared, a tiny exported model, a stub classifier."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.inference import sample_image_path
from ferkit.models.meta import ModelMeta


@pytest.fixture(scope="session")
def sample_bgr() -> np.ndarray:
    return cv2.imread(str(sample_image_path()))


class StubClassifier:
    """Deterministic classifier: "happy" probability grows with a face's mean brightness. Records batch sizes."""

    def __init__(self) -> None:
        self.path = Path("stub.onnx")
        self.meta = ModelMeta("stub", {}, EMOTIONS)
        self.classes = self.meta.classes
        self.preprocess = self.meta.preprocess
        self.batches: list[int] = []

    def predict(self, faces: np.ndarray) -> np.ndarray:
        self.batches.append(len(faces))
        probs = np.full((len(faces), len(self.classes)), 0.1, np.float32)
        probs[:, self.classes.index("happy")] += faces.reshape(len(faces), -1).mean(1) / 255
        return probs / probs.sum(1, keepdims=True)

    def info(self) -> dict:
        return {"name": "stub", "classes": list(self.classes), "input_size": 48, "metrics": {}, "source": None}


@pytest.fixture
def stub_classifier() -> StubClassifier:
    return StubClassifier()
