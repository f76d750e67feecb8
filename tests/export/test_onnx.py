from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from ferkit.constants import EMOTIONS, FER_MEAN, FER_STD
from ferkit.errors import ModelError
from ferkit.export.onnx import ExportResult, max_abs_diff
from ferkit.models.checkpoint import load_model
from ferkit.models.meta import ONNX_METADATA_KEY as METADATA_KEY


def test_onnx_matches_pytorch_on_the_same_inputs(exported: ExportResult, tiny_model_file: Path):
    assert exported.max_abs_diff < 1e-4
    model, _ = load_model(tiny_model_file)
    faces = torch.rand(7, 1, 48, 48, generator=torch.Generator().manual_seed(5))
    assert max_abs_diff(model, exported.onnx_path, faces) < 1e-4


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_batch_axis_is_dynamic(exported: ExportResult, batch: int):
    session = ort.InferenceSession(str(exported.onnx_path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": np.random.default_rng(0).random((batch, 1, 48, 48), np.float32)})
    assert logits.shape == (batch, len(EMOTIONS))


def test_metadata_is_embedded_and_written_beside_the_model(exported: ExportResult):
    sidecar = json.loads(exported.metadata_path.read_text())
    props = {p.key: p.value for p in onnx.load(str(exported.onnx_path)).metadata_props}
    assert json.loads(props[METADATA_KEY]) == sidecar
    assert sidecar["model_name"] == "test_tiny" and sidecar["classes"] == list(EMOTIONS)
    assert sidecar["preprocess"]["input_size"] == 48
    assert sidecar["normalization"] == {"mean": pytest.approx(FER_MEAN), "std": pytest.approx(FER_STD, abs=1e-5),
                                        "in_graph": True}
    assert sidecar["metrics"] == {"val_accuracy": 0.25} and sidecar["training_data"] == {"path": "fer2013"}
    assert sidecar["output"] == {"name": "logits", "kind": "logits"} and "output_kind" not in sidecar  # one owner


def test_missing_model_file_is_a_clear_error(tmp_path: Path):
    from ferkit.export.onnx import export_onnx

    with pytest.raises(ModelError, match="no such model file"):
        export_onnx(tmp_path / "nope.pt", tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_export_leaves_only_the_model_and_its_metadata(exported: ExportResult):
    assert sorted(p.name for p in exported.onnx_path.parent.iterdir()) == ["tiny.json", "tiny.onnx"]
