"""Parameter and FLOP counting against hand-computed values."""

from __future__ import annotations

from torch import nn

from ferkit.models import list_models
from ferkit.models.flops import count_flops, count_parameters, model_table


def test_one_conv_counts_are_exact() -> None:
    conv = nn.Conv2d(1, 4, kernel_size=3, padding=1, bias=False)
    assert count_parameters(conv) == 4 * 9
    # 4 output channels x 8x8 positions x 9 multiply-adds each, and 2 FLOPs per multiply-add.
    assert count_flops(conv, input_size=8, in_chans=1) == 2 * 4 * 64 * 9


def test_conv_then_linear_counts_add_up() -> None:
    model = nn.Sequential(nn.Conv2d(2, 3, kernel_size=1), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    assert count_parameters(model) == (2 * 3 + 3) + (48 * 5 + 5)
    assert count_flops(model, input_size=4, in_chans=2) == 2 * (3 * 16 * 2) + 2 * (48 * 5)


def test_count_flops_restores_training_mode() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).train()
    count_flops(model, input_size=8)
    assert model.training


def test_model_table_has_one_row_per_model() -> None:
    rows = model_table(include_test=True)
    assert [name for name, _, _ in rows] == list_models(include_test=True)
    assert all(params > 0 and mflops > 0 for _, params, mflops in rows)
