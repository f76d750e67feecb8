"""Shared test options: slow tests run only with --runslow; ../shared is found from the repo root; ferkit's cache
is a temporary folder of the session, so tests write only under temporary folders, never into ~/.cache/ferkit;
`ferplus_data` writes a tiny FER+ set in both of its layouts, for the data, training and evaluation tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def ferkit_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$FERKIT_CACHE for every test and the processes it starts (data sets are decoded once per session)."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("ferkit-cache")
        patch.setenv("FERKIT_CACHE", str(path))
        yield path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repo (or $FERKIT_SHARED); tests that need it skip when it is absent."""
    path = Path(os.environ.get("FERKIT_SHARED", REPO_ROOT.parent / "shared"))
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


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
    from ferkit.models.checkpoint import save_model
    from ferkit.models.meta import ModelMeta

    torch.manual_seed(0)
    model = create_model("test_tiny")
    folder = tmp_path_factory.mktemp("tiny")
    model_file = save_model(folder / "model.pt", model, ModelMeta("test_tiny", model.model_args, EMOTIONS))
    return export_onnx(model_file, folder / "model.onnx").onnx_path


def write_png_header(path: Path, width: int, height: int) -> Path:
    """A small, valid-looking PNG whose header claims `width` x `height` RGB pixels (a decompression bomb when
    large): signature, IHDR, one IDAT of a few zero rows, IEND."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * (3 * width + 1) * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def png_header() -> object:
    """`write_png_header` as a fixture, for tests in any folder."""
    return write_png_header


# FER+ votes of the tiny data set `ferplus_data` writes, in FER+'s column order (neutral, happiness, surprise,
# sadness, anger, disgust, fear, contempt, unknown, NF): per split, two (train) or one (val) clear face per emotion
# (8 votes for it, 2 for the next one), one face without a majority, one mostly unknown or not a face.
_NO_MAJORITY = (4, 3, 2, 1, 0, 0, 0, 0, 0, 0)  # single vote dropped: neutral 4/9, happiness 3/9, surprise 2/9
_CLEAR = tuple(tuple(8 if i == c else 2 if i == (c + 1) % 8 else 0 for i in range(10)) for c in range(8))
FERPLUS_VOTES: dict[str, tuple[tuple[int, ...], ...]] = {
    "Training": (*_CLEAR, *_CLEAR, _NO_MAJORITY, (4, 0, 0, 0, 0, 0, 0, 0, 6, 0)),
    "PublicTest": (*_CLEAR, _NO_MAJORITY, (0, 0, 0, 0, 0, 0, 0, 0, 1, 9)),
}


@dataclass(frozen=True)
class FerPlusData:
    """The same tiny FER+ set in both layouts: `root` (FER2013Train/, FER2013Valid/ with PNGs and label.csv) and
    `votes_csv` (fer2013new.csv beside a fer2013.csv holding the pixels, plus a row without an image name)."""

    root: Path
    votes_csv: Path


def ferplus_face(votes: tuple[int, ...], seed: int) -> np.ndarray:
    """A 48x48 face whose stripe period encodes the plurality vote, so a tiny network can learn it."""
    rng = np.random.default_rng(seed)
    rows = np.arange(48, dtype=np.float64)[:, None]
    stripes = np.sin(2 * np.pi * rows / (3.0 + 1.5 * int(np.argmax(votes))) + rng.uniform(0, 6.3))
    return np.clip(128 + 90 * stripes + rng.normal(0, 20, (48, 48)), 0, 255).astype(np.uint8)


@pytest.fixture
def ferplus_data(tmp_path: Path) -> FerPlusData:
    import cv2

    folders = {"Training": "FER2013Train", "PublicTest": "FER2013Valid"}
    pixel_lines, vote_lines, number = ["emotion,pixels,Usage"], ["Usage,Image name," + ",".join(
        ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"))], 0
    for usage, rows in FERPLUS_VOTES.items():
        folder = tmp_path / "ferplus" / folders[usage]
        folder.mkdir(parents=True)
        labels = []
        for votes in rows:
            name, face = f"fer{number:07d}.png", ferplus_face(votes, number)
            cv2.imwrite(str(folder / name), face)
            counts = ",".join(map(str, votes))
            labels.append(f'{name},"(0, 0, 48, 48)",{counts}')
            pixel_lines.append(f"0,{' '.join(map(str, face.ravel()))},{usage}")
            vote_lines.append(f"{usage},{name},{counts}")
            number += 1
        (folder / "label.csv").write_text("\n".join(labels) + "\n")
    pixel_lines.append(f"0,{' '.join(['0'] * 48 * 48)},Training")  # FER+ found no face here: no image name
    vote_lines.append("Training,,0,0,0,0,0,0,0,0,0,10")
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "fer2013.csv").write_text("\n".join(pixel_lines) + "\n")
    (csv_dir / "fer2013new.csv").write_text("\n".join(vote_lines) + "\n")
    return FerPlusData(tmp_path / "ferplus", csv_dir / "fer2013new.csv")
