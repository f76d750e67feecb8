"""Building blocks shared by several architectures."""

from __future__ import annotations

import torch
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
