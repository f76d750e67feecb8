"""ResNet adapted to small faces."""

from __future__ import annotations

import pytest
import torch

from ferkit.models import create_model
from ferkit.models.flops import count_parameters


def test_stem_keeps_resolution_so_48_pixels_end_at_6x6() -> None:
    model = create_model("resnet18").eval()
    with torch.no_grad():
        assert model.forward_features(torch.rand(1, 1, 48, 48)).shape == (1, 512, 6, 6)


def test_resnet18_has_eight_basic_blocks_and_about_11m_parameters() -> None:
    model = create_model("resnet18")
    assert [len(stage) for stage in model.stages] == [2, 2, 2, 2]
    assert 10_500_000 < count_parameters(model) < 11_500_000


def test_widths_kwarg_narrows_the_network() -> None:
    model = create_model("resnet18", widths=(8, 16, 32, 64))
    assert model.head.fc.in_features == 64


def test_layers_and_widths_must_match() -> None:
    with pytest.raises(ValueError, match="one entry per stage"):
        create_model("resnet18", layers=(2, 2))
