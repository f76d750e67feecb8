"""Structured pruning of VGG-style networks: the kept channels compute what they computed in the wider network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.models import create_model
from ferkit.models.prune import prune_into


def _trained_looking(name: str, seed: int = 0) -> nn.Module:
    """A network with BatchNorm statistics and scales as training leaves them (all different)."""
    torch.manual_seed(seed)
    model = create_model(name).eval()
    for bn in (m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))):
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
    return model


def test_pruning_into_the_same_widths_keeps_the_network():
    source = _trained_looking("vgg_slim")
    target = prune_into(source, create_model("vgg_slim").eval())
    x = torch.rand(4, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(target(x), source(x))


@pytest.mark.parametrize("target_name, width", [("vgg_slim", None), ("vgg", 0.75), ("vgg", 0.6)])
def test_the_channels_kept_are_the_strongest_and_compute_what_they_did(target_name: str, width: float | None):
    """Silence the surplus channels of each layer in the wide network (scale and shift 0: ReLU gives 0) and give
    them the smallest scales: the pruned network keeps exactly the others, so it computes the same output."""
    source, target = _trained_looking("vgg"), create_model(target_name, width=width).eval()
    generator = torch.Generator().manual_seed(1)
    for bn, narrow in zip(*[[m for m in net.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
                            for net in (source, target)], strict=True):
        silent = torch.randperm(bn.num_features, generator=generator)[: bn.num_features - narrow.num_features]
        bn.weight.data[silent] = 0.0
        bn.bias.data[silent] = 0.0
    prune_into(source, target)
    x = torch.rand(4, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(target(x), source(x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("source, target, message", [
    ("resnet18", "vgg_slim", "only VGG-style networks"),
    ("vgg_slim", "vgg", "does not narrow"),
    ("vgg", "cnn", "not one layout"),
])
def test_pruning_between_unlike_networks_is_refused(source: str, target: str, message: str):
    with pytest.raises(ModelError, match=message):
        prune_into(create_model(source).eval(), create_model(target).eval())
