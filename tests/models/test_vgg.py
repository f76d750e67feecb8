"""Vgg family: the variants' shapes and sizes."""

from __future__ import annotations

import pytest
import torch

from ferkit.errors import ModelError
from ferkit.models import create_model
from ferkit.models.flops import count_parameters


def test_gradcam_layer_sees_twice_the_final_resolution() -> None:
    model = create_model("vgg").eval()
    seen: list[torch.Tensor] = []
    model.gradcam_layer.register_forward_hook(lambda _m, _i, out: seen.append(out))
    with torch.no_grad():
        feats = model.forward_features(torch.rand(1, 1, 48, 48))
    assert feats.shape == (1, 512, 3, 3)
    assert seen[0].shape == (1, 512, 6, 6)


@pytest.mark.parametrize("name", ["cnn", "dcnn", "vgg"])
def test_keras_style_models_stay_under_10m_parameters(name: str) -> None:
    assert count_parameters(create_model(name)) < 10_000_000


def test_dcnn_is_deeper_and_wider_than_cnn() -> None:
    cnn, dcnn = create_model("cnn"), create_model("dcnn")
    assert len(dcnn.stages[0].convs) > len(cnn.stages[0].convs)
    assert count_parameters(dcnn) > count_parameters(cnn)


def test_input_smaller_than_total_stride_is_refused() -> None:
    with pytest.raises(ModelError, match="input_size 8"):
        create_model("vgg", input_size=8)


@pytest.mark.parametrize("width, widths, flops_ratio", [
    (0.75, (48, 96, 192, 384), 0.56),
    (0.6, (40, 80, 152, 304), 0.36),  # channels rounded to multiples of 8
])
def test_width_narrows_every_layer_and_the_model_file_rebuilds_it(width: float, widths: tuple[int, ...],
                                                                  flops_ratio: float) -> None:
    from ferkit.models.flops import count_flops

    narrow = create_model("vgg", width=width)
    assert narrow.model_args["widths"] == widths and narrow.model_args["width"] == width
    assert count_flops(narrow) / count_flops(create_model("vgg")) == pytest.approx(flops_ratio, abs=0.02)
    rebuilt = create_model("vgg", **narrow.model_args)  # what loading its model file or ONNX metadata does
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in narrow.parameters()]


def test_a_width_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ModelError, match="width must be positive"):
        create_model("vgg_slim", width=0.0)
