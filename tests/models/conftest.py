"""Fixtures for the model tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run torch single-threaded: these tensors are tiny, and on a busy 2-core machine two OpenMP threads
    spin-wait on each other (a 1 s test took 15 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
