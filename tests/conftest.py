"""Shared test options: slow tests run only with --runslow; ../shared is found from the repo root."""

from __future__ import annotations

import os
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
    from ferkit.train.checkpoint import ModelMeta, save_model

    torch.manual_seed(0)
    model = create_model("test_tiny")
    folder = tmp_path_factory.mktemp("tiny")
    model_file = save_model(folder / "model.pt", model, ModelMeta("test_tiny", model.model_args, EMOTIONS))
    return export_onnx(model_file, folder / "model.onnx").onnx_path
