"""Fixtures for export tests: a seeded `test_tiny` model file and its ONNX export."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from ferkit.constants import EMOTIONS  # noqa: E402
from ferkit.export.onnx import ExportResult, export_onnx  # noqa: E402
from ferkit.models import create_model  # noqa: E402
from ferkit.models.checkpoint import save_model  # noqa: E402
from ferkit.models.meta import ModelMeta  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = create_model("test_tiny")
    meta = ModelMeta("test_tiny", model.model_args, EMOTIONS, metrics={"val_accuracy": 0.25},
                     train_config={"data": {"path": "fer2013"}})
    return save_model(tmp_path_factory.mktemp("model") / "model.pt", model, meta)


@pytest.fixture(scope="session")
def exported(tiny_model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    return export_onnx(tiny_model_file, tmp_path_factory.mktemp("onnx") / "tiny.onnx")
