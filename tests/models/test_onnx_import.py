"""Rebuilding trainable models from exported ONNX files: exact outputs, and BatchNorm ready to train."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.export.onnx import export_onnx
from ferkit.inference.classify import OnnxClassifier
from ferkit.models import create_model
from ferkit.models.bundled import bundled_model_path
from ferkit.models.checkpoint import load_model, save_model
from ferkit.models.ensemble import build_ensemble
from ferkit.models.meta import ModelMeta
from ferkit.models.onnx_import import calibrate_batchnorm, model_from_onnx
from ferkit.transforms.preprocess import to_model_input

FACES = np.random.default_rng(0).integers(0, 256, (512, 48, 48), dtype=np.uint8)


def _probs(model: nn.Module, faces: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(to_model_input(faces))).softmax(1).numpy()


def test_the_shipped_small_is_rebuilt_with_the_onnx_files_outputs():
    path = bundled_model_path("small")
    model, meta = model_from_onnx(path)
    assert meta["model_name"] == "small" and not model.training
    np.testing.assert_allclose(_probs(model, FACES[:32]), OnnxClassifier(path).predict(FACES[:32]), atol=1e-5)


def test_calibrated_batchnorm_keeps_the_function_and_follows_the_data_in_training_mode():
    model, _ = model_from_onnx(bundled_model_path("small"))
    before = _probs(model, FACES[:64])
    calibrate_batchnorm(model, FACES)
    np.testing.assert_allclose(_probs(model, FACES[:64]), before, atol=1e-5)
    model.train()
    for module in model.modules():  # dropout off: what is left is BatchNorm using the batch's statistics
        if isinstance(module, nn.Dropout):
            module.eval()
    with torch.no_grad():
        in_training = model(torch.from_numpy(to_model_input(FACES))).softmax(1).numpy()
    uncalibrated, _ = model_from_onnx(bundled_model_path("small"))
    uncalibrated.train()
    with torch.no_grad():
        raw = uncalibrated(torch.from_numpy(to_model_input(FACES))).softmax(1).numpy()
    eval_probs = _probs(model, FACES)
    assert np.abs(in_training - eval_probs).mean() < 0.2 * np.abs(raw - eval_probs).mean()


def test_an_ensemble_file_is_refused_with_what_can_be_fine_tuned():
    with pytest.raises(ModelError, match=r"ensemble of 3 networks cannot be fine-tuned as one.*large:0 \.\.\. large:2"):
        model_from_onnx(bundled_model_path("large"))


def _exported_ensemble(tmp_path: Path) -> tuple[Path, list[nn.Module]]:
    """Two `test_tiny` networks, BatchNorms set as training would, exported as one ensemble: their input
    normalisations are equal, so the exporter stores them once, as it does for `large`."""
    files = []
    for seed in range(2):
        torch.manual_seed(seed)
        model = create_model("test_tiny", num_classes=3).eval()
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            for tensor in (bn.weight.data, bn.bias.data, bn.running_mean, bn.running_var):
                tensor.copy_(torch.rand_like(tensor) + 0.5)
        files.append(save_model(tmp_path / f"m{seed}.pt", model, ModelMeta("test_tiny", model.model_args,
                                                                             ("angry", "happy", "sad"))))
    ensemble, meta = build_ensemble(files, flip_tta=True)
    save_model(tmp_path / "ens.pt", ensemble, meta)
    return export_onnx(tmp_path / "ens.pt", tmp_path / "ens.onnx").onnx_path, [load_model(f)[0] for f in files]


def test_each_member_of_an_exported_ensemble_is_rebuilt_exactly(tmp_path: Path):
    path, members = _exported_ensemble(tmp_path)
    x = torch.from_numpy(to_model_input(FACES[:16]))
    for i, original in enumerate(members):
        model, meta = model_from_onnx(path, member=i)
        assert meta["model_name"] == "test_tiny" and meta["model_args"] == json.loads(json.dumps(original.model_args))
        assert "metrics" not in meta and "output" not in meta  # the ensemble's, not the member's
        with torch.inference_mode():
            torch.testing.assert_close(model(x), original(x), atol=1e-5, rtol=1e-5)


def test_the_shipped_large_gives_up_its_three_networks():
    names = [model_from_onnx(bundled_model_path("large"), member=i)[1]["model_name"] for i in range(3)]
    assert names == ["vgg", "vgg", "resnet18"]


@pytest.mark.parametrize("name, member, message", [("large", 3, "no member 3: the file holds an ensemble of 3"),
                                                    ("small", 0, "no member 0: the file holds a single network")])
def test_a_member_the_file_lacks_is_named(name: str, member: int, message: str):
    with pytest.raises(ModelError, match=message):
        model_from_onnx(bundled_model_path(name), member=member)
