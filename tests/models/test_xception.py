"""mini-Xception matches the published model's size."""

from __future__ import annotations

import torch

from ferkit.models import create_model
from ferkit.models.flops import count_parameters


def test_parameter_count_is_near_the_papers_60k() -> None:
    # Arriaga et al. report ~60k; the pooled linear head here is smaller than their 3x3 conv classifier.
    assert 45_000 < count_parameters(create_model("mini_xception")) < 65_000


def test_every_module_halves_the_resolution() -> None:
    model = create_model("mini_xception")
    assert [module.shortcut[0].stride for module in model.stages] == [(2, 2)] * 4


def test_gradcam_layer_is_the_last_conv_before_the_final_pool() -> None:
    model = create_model("mini_xception").eval()
    seen: list[torch.Tensor] = []
    model.gradcam_layer.register_forward_hook(lambda _m, _i, out: seen.append(out))
    with torch.no_grad():
        assert model.forward_features(torch.rand(1, 1, 48, 48)).shape == (1, 128, 3, 3)
    assert seen[0].shape == (1, 128, 6, 6)
