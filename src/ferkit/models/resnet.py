"""ResNet (He et al. 2016) adapted to 48x48 faces: a 3x3 stride-1 stem and no max-pool, so the four stages
run at 48, 24, 12 and 6 pixels instead of shrinking a small face to 2x2 as the ImageNet stem would."""

from __future__ import annotations

import torch
from torch import nn

from ferkit.models._registry import register_model
from ferkit.models.base import FerModel, check_input_size
from ferkit.models.layers import ClassifierHead, ConvBnAct, InputNorm


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers plus a shortcut (1x1 conv-BN when the shape changes), ReLU after the sum."""

    def __init__(self, in_chs: int, out_chs: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = ConvBnAct(in_chs, out_chs, 3, stride)
        self.conv2 = ConvBnAct(out_chs, out_chs, 3, act=False)
        self.shortcut = (
            ConvBnAct(in_chs, out_chs, 1, stride, act=False) if stride != 1 or in_chs != out_chs else nn.Identity()
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


class ResNet(FerModel):
    """ResNet with basic blocks.

    Args:
        num_classes: output units.
        in_chans: image channels.
        input_size: side of the square input (checked against the total stride).
        layers: blocks per stage; every stage after the first starts with a stride-2 block.
        widths: channels per stage (the stem has widths[0]).
        drop_rate: dropout before the output layer.
    """

    def __init__(
        self,
        num_classes: int = 7,
        in_chans: int = 1,
        input_size: int = 48,
        layers: tuple[int, ...] = (2, 2, 2, 2),
        widths: tuple[int, ...] = (64, 128, 256, 512),
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__()
        if len(layers) != len(widths):
            raise ValueError(f"layers {layers} and widths {widths} must have one entry per stage")
        check_input_size(type(self).__name__, input_size, 2 ** (len(widths) - 1))
        self.num_classes = num_classes
        self.norm = InputNorm()
        self.stem = ConvBnAct(in_chans, widths[0], 3)
        stages: list[nn.Module] = []
        prev = widths[0]
        for i, (num_blocks, width) in enumerate(zip(layers, widths, strict=True)):
            stride = 1 if i == 0 else 2
            blocks = [BasicBlock(prev, width, stride)] + [BasicBlock(width, width) for _ in range(num_blocks - 1)]
            stages.append(nn.Sequential(*blocks))
            prev = width
        self.stages = nn.Sequential(*stages)
        self.head = ClassifierHead(prev, num_classes, drop_rate=drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(self.norm(x)))

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.stages[-1][-1]


@register_model
def resnet18(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kwargs) -> ResNet:
    """ResNet-18 for 48x48: basic blocks [2, 2, 2, 2], widths 64-512, ~11M params."""
    args = dict(layers=(2, 2, 2, 2), widths=(64, 128, 256, 512))
    return ResNet(num_classes, in_chans, input_size, **{**args, **kwargs})
