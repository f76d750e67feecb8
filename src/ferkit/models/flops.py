"""Model size and cost: parameter counts and FLOPs per image, measured by tracing one forward pass."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ferkit.constants import FER_IN_CHANS, FER_INPUT_SIZE
from ferkit.models import create_model, list_models  # the package API: it registers every architecture


def count_parameters(model: nn.Module) -> int:
    """All parameters, trainable or not (buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, input_size: int = FER_INPUT_SIZE, in_chans: int = FER_IN_CHANS) -> int:
    """FLOPs of one forward pass on one `in_chans` x `input_size` x `input_size` image, in eval mode.

    FLOPs = 2 x multiply-accumulates (PyTorch's FlopCounterMode convention), counted for convolutions, matrix
    products and similar ops; element-wise ops (BatchNorm, ReLU, pooling, additions) are not counted.
    """
    was_training = model.training
    model.eval()
    x = torch.zeros(1, in_chans, input_size, input_size)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops()


def model_table(input_size: int = FER_INPUT_SIZE, include_test: bool = False) -> list[tuple[str, int, float]]:
    """One `(name, parameters, MFLOPs per image)` row per registered model, at `input_size` x `input_size`."""
    rows = []
    for name in list_models(include_test=include_test):
        model = create_model(name, input_size=input_size)
        rows.append((name, count_parameters(model), count_flops(model, input_size) / 1e6))
    return rows
