"""Tiny data-set fixtures written into tmp_path: a FER2013-format CSV, Kaggle-layout and CK+-named folders.

Faces are real FER2013 crops from ../shared when it is there (so the CSV is byte-for-byte the real
format), else seeded synthetic 48x48 images; every test below passes with either.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.constants import EMOTIONS

SHARED = Path(os.environ.get("FERKIT_SHARED", Path(__file__).resolve().parents[2] / ".." / "shared"))
FER2013_FOLDERS = SHARED / "data" / "fer2013"

# (emotion index, Usage) of the rows of the small CSV: every class in Training and PublicTest, two PrivateTest.
CSV_ROWS: tuple[tuple[int, str], ...] = (
    *((e, "Training") for e in range(7)),
    *((e, "Training") for e in (3, 4, 6)),
    *((e, "PublicTest") for e in range(7)),
    (0, "PrivateTest"),
    (3, "PrivateTest"),
)


@pytest.fixture(scope="session")
def faces() -> dict[str, list[np.ndarray]]:
    """Three 48x48 uint8 faces per canonical class: real FER2013 crops when available, else synthetic."""
    if FER2013_FOLDERS.is_dir():
        return {name: [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
                       for f in sorted((FER2013_FOLDERS / "train" / name).iterdir())[:3]] for name in EMOTIONS}
    rng = np.random.default_rng(0)
    return {name: [rng.integers(0, 256, (48, 48), dtype=np.uint8) for _ in range(3)] for name in EMOTIONS}


def csv_line(emotion: int | str, pixels: np.ndarray | str, usage: str) -> str:
    text = pixels if isinstance(pixels, str) else " ".join(map(str, np.asarray(pixels).ravel()))
    return f"{emotion},{text},{usage}"


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[Sequence[str], str], Path]:
    """Write `emotion,pixels,Usage` + the given lines to tmp_path/<name>."""
    def write(lines: Sequence[str], name: str = "fer2013.csv", header: str = "emotion,pixels,Usage") -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *lines]) + "\n")
        return path
    return write


@pytest.fixture
def fer_csv(write_csv, faces) -> Path:
    """A 19-row fer2013.csv: 10 Training, 7 PublicTest, 2 PrivateTest rows (see CSV_ROWS)."""
    return write_csv([csv_line(e, faces[EMOTIONS[e]][i % 3], usage) for i, (e, usage) in enumerate(CSV_ROWS)])


def write_images(folder: Path, images: Sequence[np.ndarray], prefix: str = "", suffix: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = folder / f"{prefix}{i:04d}{suffix}"
        if not cv2.imwrite(str(path), image):
            raise OSError(f"cv2.imwrite failed for {path}")
        paths.append(path)
    return paths


@pytest.fixture
def kaggle_folder(tmp_path: Path, faces) -> Path:
    """train/<class>/Training_*.jpg (3 per class) and test/<class>/PublicTest_*.jpg (1 per class)."""
    root = tmp_path / "fer2013"
    for name in EMOTIONS:
        write_images(root / "train" / name, faces[name], "Training_")
        write_images(root / "test" / name, faces[name][:1], "PublicTest_")
    return root


CKPLUS_COUNTS = {"anger": 10, "contempt": 5, "disgust": 10, "fear": 8, "happy": 20, "sadness": 6, "surprise": 11}


@pytest.fixture
def ckplus_folder(tmp_path: Path) -> Path:
    """CK+48 folder names (anger, contempt, sadness, ...) with no split; 70 PNG faces in all."""
    root = tmp_path / "CK+48"
    rng = np.random.default_rng(1)
    for name, count in CKPLUS_COUNTS.items():
        write_images(root / name, [rng.integers(0, 256, (48, 48), dtype=np.uint8) for _ in range(count)],
                     suffix=".png")
    return root
