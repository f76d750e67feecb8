"""Rebuilding trainable models from exported ONNX files: exact outputs, and BatchNorm ready to train."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.inference.classify import OnnxClassifier, bundled_model_path
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
    with pytest.raises(ModelError, match="ensemble of 3 networks is shipped for inference only"):
        model_from_onnx(bundled_model_path("large"))
