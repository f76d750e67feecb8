"""Plain VGG-style CNNs: stages of (conv3x3-BN-ReLU) x depth -> maxpool -> dropout, then a pooled dense head.

`cnn` and `dcnn` are the Keras-style baselines of classic FER2013 studies (conv-BN-ReLU-maxpool-dropout
blocks, then dense layers); `dcnn` is the deeper, wider one. Here their Flatten becomes global average
pooling, so they accept any input size.

`vgg` follows the network behind the best single-network FER2013 result (Khanzada et al. 2021, "Facial
Expression Recognition with Deep Learning", 73.28% PrivateTest): 4 stages of 2 convs, widths 64..512. Global
average pooling replaces their 4096-unit dense layers, so the model stays ~5M parameters and runs at any input size.

Every variant takes `width`, a channel multiplier (`vgg` at `width=0.75` has a quarter fewer channels in every
layer, about 0.56x the FLOPs): the narrower networks that `--prune` fills from a trained wider one.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.models._registry import register_model
from ferkit.models.base import FerModel, check_input_size
from ferkit.models.layers import ClassifierHead, ConvBnAct, InputNorm


class Vgg(FerModel):
    """One class for every plain conv-stack variant; see the entrypoints below for the argument sets.

    Args:
        num_classes: output units.
        in_chans: image channels (1 for grayscale).
        input_size: side of the square input the model is built for (checked against the total stride).
        widths: output channels of each stage; each stage halves the resolution with a 2x2 max-pool.
        depth: conv-BN-ReLU layers per stage.
        stage_drop_rate: dropout after each stage's pool (the Keras FER2013 recipe); 0 disables it.
        head_hidden: widths of the dense layers between global pooling and the output layer.
        drop_rate: dropout before each dense layer of the head.
    """

    def __init__(
        self,
        num_classes: int = 7,
        in_chans: int = 1,
        input_size: int = 48,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        depth: int = 2,
        stage_drop_rate: float = 0.0,
        head_hidden: tuple[int, ...] = (256,),
        drop_rate: float = 0.5,
    ) -> None:
        super().__init__()
        check_input_size(type(self).__name__, input_size, 2 ** len(widths))
        self.num_classes = num_classes
        self.norm = InputNorm()
        stages: list[nn.Module] = []
        prev = in_chans
        for width in widths:
            convs = nn.Sequential(*[ConvBnAct(prev if i == 0 else width, width) for i in range(depth)])
            stage = OrderedDict(convs=convs, pool=nn.MaxPool2d(2), drop=nn.Dropout(stage_drop_rate))
            stages.append(nn.Sequential(stage))
            prev = width
        self.stages = nn.Sequential(*stages)
        self.head = ClassifierHead(prev, num_classes, hidden=tuple(head_hidden), drop_rate=drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.norm(x))

    @property
    def gradcam_layer(self) -> nn.Module:
        # The last conv before the final pool: twice the resolution of the pooled feature map.
        return self.stages[-1].convs[-1]


@register_model
def vgg(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, width: float = 1.0, **kwargs) -> Vgg:
    """Khanzada et al. 2021 VGG variant, GAP head: 4 x (2 conv) widths 64-128-256-512, ~5M params."""
    args = dict(widths=(64, 128, 256, 512), depth=2, head_hidden=(256,), drop_rate=0.5)
    return Vgg(num_classes, in_chans, input_size, **{**_scaled(args, width), **kwargs})


@register_model
def cnn(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, width: float = 1.0, **kwargs) -> Vgg:
    """Keras-style FER2013 baseline: 4 blocks of one conv (64-128-512-512), dense 256-512, ~3.3M params."""
    args = dict(widths=(64, 128, 512, 512), depth=1, stage_drop_rate=0.25, head_hidden=(256, 512), drop_rate=0.25)
    return Vgg(num_classes, in_chans, input_size, **{**_scaled(args, width), **kwargs})


@register_model
def dcnn(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, width: float = 1.0, **kwargs) -> Vgg:
    """Deeper Keras-style baseline: 4 blocks of three convs (64-128-256-512), dense 512-256, ~8.2M params."""
    args = dict(widths=(64, 128, 256, 512), depth=3, stage_drop_rate=0.3, head_hidden=(512, 256), drop_rate=0.4)
    return Vgg(num_classes, in_chans, input_size, **{**_scaled(args, width), **kwargs})


@register_model
def vgg_slim(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, width: float = 1.0, **kwargs) -> Vgg:
    """`vgg` at half width (32-64-128-256), ~1.2M params, a quarter of the FLOPs: a CPU-speed student for
    distillation (`benchmarks/accuracy_speed.py --candidate` measures an exported one's speed)."""
    args = dict(widths=(32, 64, 128, 256), depth=2, head_hidden=(128,), drop_rate=0.3)
    return Vgg(num_classes, in_chans, input_size, **{**_scaled(args, width), **kwargs})


def _scaled(args: dict, width: float) -> dict:
    """A variant's arguments with every conv and dense layer `width` times as wide, rounded to a multiple of 8
    (the SIMD width the CPU kernels fill). A model file records the scaled widths too, so it rebuilds as saved."""
    if width <= 0:
        raise ModelError(f"width must be positive, got {width}")
    if width == 1.0:
        return args

    def scale(channels: int) -> int:
        return max(8, round(channels * width / 8) * 8)

    return {**args, "widths": tuple(map(scale, args["widths"])), "head_hidden": tuple(map(scale, args["head_hidden"]))}
