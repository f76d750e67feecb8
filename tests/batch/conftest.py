"""Fixtures for batch runs: a folder of generated photos (faces, no faces, bad files) and the recognizer."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.inference import sample_image_path
from ferkit.inference.config import RecognizerConfig

BAD_FILES = ("broken.jpg", "empty.png", "text.jpg")


@pytest.fixture(scope="session")
def face() -> np.ndarray:
    return cv2.resize(cv2.imread(str(sample_image_path()))[40:200, 145:300], (78, 81))


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory: pytest.TempPathFactory, face: np.ndarray) -> Path:
    """97 photos in two subfolders, 2 of 3 with a face, plus the 3 `BAD_FILES`: 100 inputs."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(97):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(exist_ok=True)
        image = np.full((120, 160, 3), int(rng.integers(60, 200)), np.uint8)
        if i % 3:
            x, y = int(rng.integers(0, 80)), int(rng.integers(0, 38))
            image[y:y + 81, x:x + 78] = face
        cv2.imwrite(str(folder / f"photo{i:03d}.jpg"), image)
    (root / "a" / BAD_FILES[0]).write_bytes(b"\xff\xd8 truncated")
    (root / "a" / BAD_FILES[1]).write_bytes(b"")
    (root / "b" / BAD_FILES[2]).write_text("not an image")
    return root


@pytest.fixture
def recognizer(tiny_onnx: Path, yunet_path: Path) -> RecognizerConfig:
    return RecognizerConfig(model=str(tiny_onnx), detector="yunet-ort", yunet_path=yunet_path)
