"""Building blocks: shapes, shortcuts and head replacement."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ferkit.models.layers import ClassifierHead, InvertedResidual, SeparableConvBn, global_avg_pool


def test_global_avg_pool_is_the_spatial_mean() -> None:
    x = torch.randn(2, 3, 5, 7)
    torch.testing.assert_close(global_avg_pool(x), x.mean((2, 3), keepdim=True))


@pytest.mark.parametrize(("in_chs", "out_chs", "stride", "shortcut"), [(8, 8, 1, True), (8, 16, 1, False),
                                                                       (8, 8, 2, False)])
def test_inverted_residual_has_shortcut_only_when_shape_is_kept(in_chs: int, out_chs: int, stride: int,
                                                                shortcut: bool) -> None:
    block = InvertedResidual(in_chs, out_chs, stride, expand_ratio=2, se_ratio=0.25).eval()
    x = torch.randn(2, in_chs, 12, 12)
    assert block(x).shape == (2, out_chs, 12 // stride, 12 // stride)
    assert block.has_shortcut is shortcut
    if shortcut:  # with the projection's BN zeroed, the block is exactly its shortcut
        nn.init.zeros_(block.project[1].weight)
        torch.testing.assert_close(block(x), x)


def test_inverted_residual_without_expansion_is_depthwise_separable() -> None:
    block = InvertedResidual(8, 16, expand_ratio=1)
    assert isinstance(block.expand, nn.Identity)
    assert block.dw[0].groups == 8


def test_separable_conv_has_depthwise_then_pointwise_weights() -> None:
    conv = SeparableConvBn(4, 6)
    assert sum(p.numel() for p in conv.parameters()) == 4 * 9 + 4 * 6 + 2 * 6


def test_classifier_head_reset_replaces_only_the_output_layer() -> None:
    head = ClassifierHead(16, 7, hidden=(12,), drop_rate=0.5).eval()
    hidden_before = head.hidden[1].weight
    feats = torch.randn(2, 16, 3, 3)
    assert head(feats, pre_logits=True).shape == (2, 12)
    head.reset(3)
    assert head(feats).shape == (2, 3)
    assert head.hidden[1].weight is hidden_before
