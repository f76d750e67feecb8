"""mini-Xception (Arriaga et al. 2017, "Real-time Convolutional Neural Networks for Emotion and Gender
Classification"): the ~60k-parameter model most FER libraries ship.

Differences from the Keras original, all to fit ferkit's model surface: 'same' padding in the stem (so
stages run at 48, 24, 12, 6, 3 pixels), and a pooled linear head instead of the original's final 3x3 conv to
`num_classes` followed by global pooling, so `reset_classifier` and `pre_logits` work as for every model.
"""

from __future__ import annotations

import torch
from torch import nn

from ferkit.models._registry import register_model
from ferkit.models.base import FerModel, check_input_size
from ferkit.models.layers import ClassifierHead, ConvBnAct, InputNorm, SeparableConvBn


class XceptionModule(nn.Module):
    """Two separable convs + 3x3/2 max-pool, added to a strided 1x1 conv-BN shortcut (halves the resolution)."""

    def __init__(self, in_chs: int, out_chs: int) -> None:
        super().__init__()
        self.shortcut = ConvBnAct(in_chs, out_chs, 1, stride=2, act=False)
        self.conv1 = SeparableConvBn(in_chs, out_chs)
        self.conv2 = SeparableConvBn(out_chs, out_chs, act=False)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv2(self.conv1(x))) + self.shortcut(x)


class MiniXception(FerModel):
    """Two plain 3x3 conv-BN-ReLU layers, then one `XceptionModule` per width, then a pooled linear head.

    Args:
        num_classes: output units.
        in_chans: image channels.
        input_size: side of the square input (checked against the total stride).
        stem_chs: channels of the two stem convs.
        widths: output channels of each module.
        drop_rate: dropout before the output layer (the original has none).
    """

    def __init__(
        self,
        num_classes: int = 7,
        in_chans: int = 1,
        input_size: int = 48,
        stem_chs: int = 8,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__()
        check_input_size(type(self).__name__, input_size, 2 ** len(widths))
        self.num_classes = num_classes
        self.norm = InputNorm()
        self.stem = nn.Sequential(ConvBnAct(in_chans, stem_chs), ConvBnAct(stem_chs, stem_chs))
        chs = (stem_chs, *widths)
        self.stages = nn.Sequential(*[XceptionModule(chs[i], chs[i + 1]) for i in range(len(widths))])
        self.head = ClassifierHead(chs[-1], num_classes, drop_rate=drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(self.norm(x)))

    @property
    def gradcam_layer(self) -> nn.Module:
        # The last conv before the final pool: a 6x6 map at 48x48 input rather than the module's 3x3 output.
        return self.stages[-1].conv2


@register_model
def mini_xception(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kwargs) -> MiniXception:
    """Arriaga et al. 2017 mini-Xception: stem 8, modules 16-32-64-128, ~50k params."""
    args = dict(stem_chs=8, widths=(16, 32, 64, 128))
    return MiniXception(num_classes, in_chans, input_size, **{**args, **kwargs})
