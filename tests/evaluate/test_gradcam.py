"""Grad-CAM: shapes and range on a real ferkit model, and the right place on a model whose answer is known."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ferkit.evaluate.gradcam import gradcam
from ferkit.models import create_model, list_models


class BrightnessNet(nn.Module):
    """Identity conv + ReLU, global average, then class 0 = brightness and class 1 = minus brightness."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, kernel_size=1)
        self.fc = nn.Linear(1, 2)
        with torch.no_grad():
            self.conv.weight.fill_(1.0)
            self.conv.bias.zero_()
            self.fc.weight.copy_(torch.tensor([[1.0], [-1.0]]))
            self.fc.bias.zero_()

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(nn.functional.relu(self.conv(x), inplace=True).mean(dim=(2, 3)))


def test_shape_and_range_on_test_tiny():
    torch.manual_seed(0)
    model = create_model("test_tiny", num_classes=7).eval()
    x = torch.rand(5, 1, 48, 48)
    maps = gradcam(model, x)
    assert maps.shape == (5, 48, 48) and maps.dtype == torch.float32
    assert maps.min() >= 0 and maps.max() <= 1
    peaks = maps.flatten(1).amax(dim=1)
    assert torch.all((peaks == 0) | torch.isclose(peaks, torch.tensor(1.0)))
    assert not model.gradcam_layer._forward_hooks  # the hook is removed again
    assert all(p.grad is None for p in model.parameters())  # no gradients left behind on the weights


@pytest.mark.parametrize("name", list_models(include_test=True))
def test_every_registered_model_names_a_usable_gradcam_layer(name):
    torch.manual_seed(0)
    maps = gradcam(create_model(name, num_classes=3).eval(), torch.rand(2, 1, 48, 48), torch.tensor([0, 2]))
    assert maps.shape == (2, 48, 48) and torch.isfinite(maps).all()
    assert maps.flatten(1).std(1).max() > 0.01  # a map that shows somewhere, not a blank or constant one


def test_heatmap_follows_the_evidence_for_the_target_class():
    x = torch.zeros(1, 1, 8, 8)
    x[..., :4] = 1.0  # bright left half
    model = BrightnessNet().eval()
    for_class_0 = gradcam(model, x, torch.tensor([0]))[0]
    assert torch.allclose(for_class_0[:, :3], torch.ones(8, 3))  # bright half: full evidence
    assert torch.allclose(for_class_0[:, 5:], torch.zeros(8, 3))  # dark half: none
    assert torch.equal(gradcam(model, x)[0], for_class_0)  # default target: the predicted class (0)
    assert torch.count_nonzero(gradcam(model, x, torch.tensor([1]))) == 0  # no positive evidence for class 1


def test_model_without_gradcam_layer_is_refused():
    with pytest.raises(TypeError, match="gradcam_layer"):
        gradcam(nn.Sequential(nn.Conv2d(1, 1, 1)), torch.rand(1, 1, 8, 8))
