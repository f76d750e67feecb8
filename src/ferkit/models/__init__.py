"""Model zoo: the registry, one module per architecture family, the model file (`meta`, `checkpoint`), and the way
from a trained network's name to one ready to fine-tune (`pretrained`, `finetune`).

The names below import the architectures (and with them torch) on first use, so that the torch-free parts of
this package, the model metadata in `ferkit.models.meta`, load where torch is not installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_model", "is_model", "list_models", "register_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ferkit.models import _registry, _zoo  # noqa: F401  (_zoo registers every architecture)

        return getattr(_registry, name)
    raise AttributeError(f"module 'ferkit.models' has no attribute '{name}'")
