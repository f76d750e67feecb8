"""Fixtures for inference tests: the real YuNet file from ../shared, a tiny exported model, a stub classifier."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.inference import sample_image_path
from ferkit.transforms.preprocess import PreprocessConfig

YUNET_FILE = "face_detection_yunet_2026may.onnx"


@pytest.fixture(scope="session")
def yunet_path(shared_dir: Path) -> Path:
    path = shared_dir / "models" / YUNET_FILE
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `test_tiny` architecture (random weights, seeded) exported with ferkit's exporter."""
    torch = pytest.importorskip("torch")
    from ferkit.export.onnx import export_onnx
    from ferkit.models import create_model
    from ferkit.train.checkpoint import ModelMeta, save_model

    torch.manual_seed(0)
    model = create_model("test_tiny")
    folder = tmp_path_factory.mktemp("tiny")
    model_file = save_model(folder / "model.pt", model, ModelMeta("test_tiny", model.model_args, EMOTIONS))
    return export_onnx(model_file, folder / "model.onnx").onnx_path


@pytest.fixture(scope="session")
def sample_bgr() -> np.ndarray:
    return cv2.imread(str(sample_image_path()))


class StubClassifier:
    """Deterministic classifier: "happy" probability grows with a face's mean brightness. Records batch sizes."""

    def __init__(self) -> None:
        self.classes = EMOTIONS
        self.preprocess = PreprocessConfig()
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
