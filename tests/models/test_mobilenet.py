"""`small` meets its real-time budget; `test_tiny` stays tiny."""

from __future__ import annotations

from ferkit.models import create_model
from ferkit.models.flops import count_flops, count_parameters


def test_small_is_under_1m_parameters_and_15m_multiply_adds() -> None:
    model = create_model("mobilenet_small")
    assert count_parameters(model) < 1_000_000
    assert count_flops(model, 48) <= 2 * 15_000_000


def test_small_stem_runs_at_full_resolution() -> None:
    assert create_model("mobilenet_small").stem[0].stride == (1, 1)


def test_test_tiny_has_a_few_thousand_parameters() -> None:
    assert count_parameters(create_model("test_tiny")) < 5_000
