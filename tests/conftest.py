"""Shared test options: slow tests run only with --runslow; ../shared is found from the repo root; ferkit's cache
is a temporary folder of the session, so tests write only under temporary folders, never into ~/.cache/ferkit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
