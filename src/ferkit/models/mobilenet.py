"""MobileNetV2-style networks (Sandler et al. 2018) sized for real-time CPU inference on 48x48 faces.

The stem keeps full resolution: a stride-2 stem would throw away half of a 48x48 face's detail before any
feature is computed, while a narrow full-resolution conv costs little. Inverted-residual stages then halve
the resolution (48 -> 24 -> 12 -> 6) while widening.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ferkit.models._registry import register_model
from ferkit.models.base import FerModel, check_input_size
from ferkit.models.layers import ClassifierHead, ConvBnAct, InputNorm, InvertedResidual

# One stage: (out_chs, num_blocks, stride of the first block, expand_ratio).
StageArgs = tuple[int, int, int, float]


class MobileNet(FerModel):
    """Stem conv -> inverted-residual stages -> optional 1x1 conv to `head_chs` -> pooled linear head.

    Args:
        num_classes: output units.
        in_chans: image channels.
        input_size: side of the square input (checked against the total stride).
        stem_chs: channels of the full-resolution 3x3 stem conv.
        stages: one `(out_chs, num_blocks, stride, expand_ratio)` tuple per stage.
        se_ratio: squeeze-excite bottleneck ratio inside every block; 0 disables SE.
        head_chs: channels of a final 1x1 conv-BN-ReLU before pooling; 0 skips it.
        drop_rate: dropout before the output layer.
    """

    def __init__(
        self,
        num_classes: int = 7,
        in_chans: int = 1,
        input_size: int = 48,
        stem_chs: int = 16,
        stages: tuple[StageArgs, ...] = ((16, 1, 1, 1), (32, 1, 2, 1), (48, 2, 2, 3), (128, 2, 2, 3)),
        se_ratio: float = 0.0,
        head_chs: int = 256,
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__()
        check_input_size(type(self).__name__, input_size, math.prod(stride for _, _, stride, _ in stages))
        self.num_classes = num_classes
        self.norm = InputNorm()
        self.stem = ConvBnAct(in_chans, stem_chs, 3)
        blocks: list[nn.Module] = []
        prev = stem_chs
        for out_chs, num_blocks, stride, expand_ratio in stages:
            blocks.append(_stage(prev, out_chs, num_blocks, stride, expand_ratio, se_ratio))
            prev = out_chs
        self.stages = nn.Sequential(*blocks)
        self.conv_head = ConvBnAct(prev, head_chs, 1) if head_chs else nn.Identity()
        self.head = ClassifierHead(head_chs or prev, num_classes, drop_rate=drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_head(self.stages(self.stem(self.norm(x))))

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.conv_head if isinstance(self.conv_head, ConvBnAct) else self.stages[-1][-1]


def _stage(
    in_chs: int, out_chs: int, num_blocks: int, stride: int, expand_ratio: float, se_ratio: float
) -> nn.Sequential:
    """`num_blocks` inverted residuals; the first changes width and resolution, the rest keep them."""
    first = InvertedResidual(in_chs, out_chs, stride, expand_ratio, se_ratio)
    rest = [InvertedResidual(out_chs, out_chs, 1, expand_ratio, se_ratio) for _ in range(num_blocks - 1)]
    return nn.Sequential(first, *rest)


@register_model
def mobilenet_small(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kwargs) -> MobileNet:
    """Real-time CPU model: ~190k params, ~13M multiply-accumulates per 48x48 face.

    Resolution 48 -> 24 -> 12 -> 6. Expanded (inverted-residual) blocks start only when the map is 24x24 or
    smaller: on a CPU the cost of a 48x48 layer is memory traffic, so full resolution gets just the stem and one
    depthwise-separable conv, and the channels go where the map is small (128 at 6x6, then a 1x1 conv to 256).
    """
    args = dict(stem_chs=16, stages=((16, 1, 1, 1), (32, 1, 2, 1), (48, 2, 2, 3), (128, 2, 2, 3)), head_chs=256)
    return MobileNet(num_classes, in_chans, input_size, **{**args, **kwargs})


@register_model
def test_tiny(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kwargs) -> MobileNet:
    """A few thousand parameters, for fast tests only (exercises expansion, SE and a head conv)."""
    args = dict(stem_chs=8, stages=((12, 1, 2, 1), (24, 1, 2, 2)), se_ratio=0.25, head_chs=32)
    return MobileNet(num_classes, in_chans, input_size, **{**args, **kwargs})
