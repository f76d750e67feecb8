"""Model registry: named architectures, created by name. Adding a model is one decorated function.

Example:
    >>> from ferkit.models import create_model, list_models
    >>> model = create_model("vgg", num_classes=7, in_chans=1, input_size=48)
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any

from torch import nn

from ferkit.constants import EMOTIONS, FER_IN_CHANS, FER_INPUT_SIZE
from ferkit.errors import ModelError
from ferkit.models.bundled import architecture_name

_MODELS: dict[str, Callable[..., nn.Module]] = {}
_COMPOSITE: set[str] = set()  # models built from other trained models (ensembles): not architectures to list


def register_model(fn: Callable[..., nn.Module] | None = None, *, composite: bool = False):
    """Decorator: register `fn` under its function name. A duplicate name is an error.

    `@register_model(composite=True)` registers a model made of other trained models: `create_model` and
    model files know it, but `list_models` (architectures to train and compare) leaves it out.
    """

    def register(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        name = fn.__name__
        if name in _MODELS:
            raise ModelError(f"model '{name}' is registered twice")
        _MODELS[name] = fn
        if composite:
            _COMPOSITE.add(name)
        return fn

    return register(fn) if fn is not None else register


def list_models(pattern: str = "*", include_test: bool = False) -> list[str]:
    """Registered architectures matching a shell pattern; `test_*` models (tiny, for tests) only on request."""
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern) and n not in _COMPOSITE
                  and (include_test or not n.startswith("test_")))


def is_model(name: str) -> bool:
    return architecture_name(name) in _MODELS


def create_model(
    name: str,
    num_classes: int = len(EMOTIONS),
    in_chans: int = FER_IN_CHANS,
    input_size: int = FER_INPUT_SIZE,
    **kwargs: Any,
) -> nn.Module:
    """Build architecture `name` (random weights). `None` kwargs are dropped so CLI defaults never override
    a model's own defaults. The model gets `model_name` and `model_args` attributes, which checkpoints save
    so the model can be rebuilt from the checkpoint alone; `model_args` holds every constructor argument
    (the variant's layout included), not just those given here.

    Raises:
        ModelError: unknown name (the message suggests close names), or an option the architecture lacks.
    """
    name = architecture_name(name)  # a model file or run config written before its architecture was renamed
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list(_MODELS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(list_models())}"
        raise ModelError(f"unknown model '{name}'{hint}")
    args = {"num_classes": num_classes, "in_chans": in_chans, "input_size": input_size}
    args.update({k: v for k, v in kwargs.items() if v is not None})
    try:
        model = _MODELS[name](**args)
    except TypeError as exc:  # an option this architecture lacks, such as `width` for a ResNet
        raise ModelError(f"model '{name}' cannot be built with {sorted(kwargs)}: {exc}") from exc
    model.model_name = name
    model.model_args = {**args, **getattr(model, "init_args", {})}
    return model
