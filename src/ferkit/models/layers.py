"""Building blocks shared by several architectures."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ferkit.constants import FER_MEAN, FER_STD


class InputNorm(nn.Module):
    """Normalise 0..1 pixels with the training set's mean/std inside the graph (so ONNX carries it too)."""

    def __init__(self, mean: float = FER_MEAN, std: float = FER_STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)), persistent=True)
        self.register_buffer("inv_std", torch.tensor(1.0 / float(std)), persistent=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std


def global_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """Mean over height and width, [N, C, H, W] -> [N, C, 1, 1], at any input size.

    Written so both ONNX exporters give an opset-17 graph: the TorchScript exporter (tracing) turns adaptive
    pooling into GlobalAveragePool but cannot take a kernel size read from the input's shape, while the dynamo
    exporter turns adaptive pooling and `mean()` into ReduceMean, which torch 2.13 cannot bring down to opset 17,
    and exports an average pool over the whole map as AveragePool.
    """
    if torch.jit.is_tracing():
        return F.adaptive_avg_pool2d(x, 1)
    return F.avg_pool2d(x, kernel_size=x.shape[-2:])


class ConvBnAct(nn.Sequential):
    """Conv (no bias: BatchNorm follows) -> BatchNorm -> optional ReLU; 'same' padding for odd kernels."""

    def __init__(
        self, in_chs: int, out_chs: int, kernel_size: int = 3, stride: int = 1, groups: int = 1, act: bool = True
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_chs, out_chs, kernel_size, stride, padding=kernel_size // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_chs),
        ]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    """Channel attention (Hu et al. 2018): global pool -> bottleneck MLP -> sigmoid gate per channel."""

    def __init__(self, chs: int, rd_ratio: float = 0.25) -> None:
        super().__init__()
        rd_chs = max(8, int(chs * rd_ratio))
        self.reduce = nn.Conv2d(chs, rd_chs, 1)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(rd_chs, chs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(self.act(self.reduce(global_avg_pool(x))))
        return x * gate.sigmoid()


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand -> 3x3 depthwise (carries the stride) -> [SE] -> 1x1 linear project,
    with an identity shortcut when shape is kept. expand_ratio=1 skips the expansion (a depthwise-separable conv).
    """

    def __init__(
        self, in_chs: int, out_chs: int, stride: int = 1, expand_ratio: float = 4.0, se_ratio: float = 0.0
    ) -> None:
        super().__init__()
        mid_chs = round(in_chs * expand_ratio)
        self.expand = ConvBnAct(in_chs, mid_chs, 1) if mid_chs != in_chs else nn.Identity()
        self.dw = ConvBnAct(mid_chs, mid_chs, 3, stride, groups=mid_chs)
        self.se = SqueezeExcite(mid_chs, se_ratio) if se_ratio > 0 else nn.Identity()
        self.project = ConvBnAct(mid_chs, out_chs, 1, act=False)
        self.has_shortcut = stride == 1 and in_chs == out_chs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.se(self.dw(self.expand(x))))
        return x + out if self.has_shortcut else out


class ClassifierHead(nn.Module):
    """Global average pool -> [dropout -> dense -> BN -> ReLU] per hidden width -> dropout -> linear.

    Global pooling is what lets every ferkit model run at input sizes other than the one it was built for.
    """

    def __init__(self, in_features: int, num_classes: int, hidden: tuple[int, ...] = (), drop_rate: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [
                nn.Dropout(drop_rate),
                nn.Linear(in_features, width, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(inplace=True),
            ]
            in_features = width
        self.hidden = nn.Sequential(*layers)
        self.drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.hidden(global_avg_pool(x).flatten(1))
        return x if pre_logits else self.fc(self.drop(x))

    def reset(self, num_classes: int) -> None:
        """Replace the final linear layer (new, randomly initialised) for a different set of classes."""
        self.fc = nn.Linear(self.fc.in_features, num_classes)


class SeparableConvBn(nn.Sequential):
    """Keras-style SeparableConv2D (3x3 depthwise then 1x1 pointwise, nothing between) -> BN -> optional ReLU."""

    def __init__(self, in_chs: int, out_chs: int, act: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_chs, in_chs, 3, padding=1, groups=in_chs, bias=False),
            nn.Conv2d(in_chs, out_chs, 1, bias=False),
            nn.BatchNorm2d(out_chs),
        ]
        if act:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)
