"""Batched prediction and test-time augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ferkit.errors import ConfigError
from ferkit.evaluate.predict import predict_probs, tta_views
from ferkit.evaluate.torch_model import TorchScorer, select_device
from ferkit.models import create_model
from ferkit.transforms.preprocess import to_model_input

CPU = torch.device("cpu")


class RowProfileNet(nn.Module):
    """Classifies the mean of each pixel row: mirror-symmetric by construction, yet input-dependent."""

    def __init__(self, size: int = 48, num_classes: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.mean(dim=3)[:, 0] * 10)


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(10, 48, 48), dtype=np.uint8)


def test_flip_on_a_symmetric_model_equals_no_tta(images):
    model = TorchScorer(RowProfileNet(), CPU)
    plain = predict_probs(model, images, tta="none")
    np.testing.assert_allclose(predict_probs(model, images, tta="flip"), plain, atol=1e-6)
    assert plain.std(axis=0).max() > 0.01  # the model does respond to its input


def test_flip_averages_the_probabilities_of_face_and_mirror(images):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48 * 48, 3)).eval()  # sees left and right differently
    x = to_model_input(torch.from_numpy(images))
    with torch.no_grad():
        expected = (model(x).softmax(1) + model(x.flip(-1)).softmax(1)).numpy() / 2
    flipped = predict_probs(TorchScorer(model, CPU), images, batch_size=4, tta="flip")
    np.testing.assert_allclose(flipped, expected, atol=1e-5)
    assert not np.allclose(flipped, predict_probs(TorchScorer(model, CPU), images, tta="none"), atol=1e-5)


def test_tencrop_views():
    x = np.random.default_rng(0).random((2, 1, 48, 48), dtype=np.float32)
    views = tta_views(x, "tencrop")
    assert len(views) == 10 and all(v.shape == x.shape for v in views)
    for crop, mirrored in zip(views[:5], views[5:], strict=True):
        np.testing.assert_array_equal(mirrored, crop[..., ::-1])
    assert len({tuple(v[0, 0, :3, :3].flatten().tolist()) for v in views[:5]}) == 5  # five different crops
    flat = np.full((1, 1, 48, 48), 0.25, dtype=np.float32)
    for view in tta_views(flat, "tencrop"):  # crops of a flat face are the flat face
        np.testing.assert_allclose(view, flat, rtol=1e-6)


def test_tencrop_upscales_as_pytorch_does():
    """The numpy resampling is PyTorch's bilinear, align_corners=False, so both frameworks score the same views."""
    x = np.random.default_rng(1).random((3, 1, 48, 48), dtype=np.float32)
    up = torch.nn.functional.interpolate(torch.from_numpy(x), size=(54, 54), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(tta_views(x, "tencrop")[4], up[..., 3:51, 3:51].numpy(), atol=1e-5)


def test_tencrop_probabilities_are_distributions(images):
    torch.manual_seed(0)
    probs = predict_probs(TorchScorer(create_model("test_tiny", num_classes=7), CPU), images, tta="tencrop")
    assert probs.shape == (10, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_batch_size_does_not_change_results(images):
    model = TorchScorer(RowProfileNet(), CPU)
    np.testing.assert_allclose(predict_probs(model, images, batch_size=3), predict_probs(model, images, batch_size=64),
                               atol=1e-6)


def test_bad_arguments(images):
    with pytest.raises(ValueError, match="unknown test-time augmentation"):
        predict_probs(TorchScorer(RowProfileNet(), CPU), images, tta="rotate")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no faces"):
        predict_probs(TorchScorer(RowProfileNet(), CPU), images[:0])


def test_columns_renormalise_over_a_subset_of_classes(images):
    model = TorchScorer(RowProfileNet(num_classes=5), CPU)
    full = predict_probs(model, images)
    subset = predict_probs(model, images, columns=np.array([3, 0]))
    np.testing.assert_allclose(subset, full[:, [3, 0]] / full[:, [3, 0]].sum(axis=1, keepdims=True), rtol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    assert select_device("auto") == torch.device("cpu")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        select_device("cuda")
