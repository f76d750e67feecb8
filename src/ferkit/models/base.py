"""The surface every ferkit model shares, so training, transfer learning, Grad-CAM and export never
special-case an architecture."""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.models.layers import ClassifierHead


class FerModel(nn.Module, ABC):
    """Base class: a backbone (`forward_features`) plus a `ClassifierHead` stored as `self.head`.

    Subclasses implement `forward_features` (starting with `InputNorm`) and `gradcam_layer`; they set
    `self.head` and `self.num_classes` in `__init__`.

    Every instance records its full constructor arguments, defaults included, as `init_args`: model files
    store them, so a saved network is rebuilt exactly even after a registered variant's defaults change.
    """

    head: ClassifierHead
    num_classes: int
    init_args: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        init, signature = cls.__init__, inspect.signature(cls.__init__)

        @functools.wraps(init)
        def recording_init(self: FerModel, *args: Any, **kw: Any) -> None:
            init(self, *args, **kw)
            if type(self) is cls:  # the most derived class records; its parents' calls are part of it
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                self.init_args = {k: v for k, v in bound.arguments.items() if k != "self"}

        cls.__init__ = recording_init  # type: ignore[method-assign]

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """0..1 pixels [N, C, S, S] -> feature map [N, F, s, s]."""

    def forward_head(self, feats: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Feature map -> logits, or the pooled features before the final linear layer if `pre_logits`."""
        return self.head(feats, pre_logits=pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """0..1 pixels -> logits (no softmax: the loss and the predictor apply their own)."""
        return self.forward_head(self.forward_features(x))

    def reset_classifier(self, num_classes: int) -> None:
        """New, randomly initialised output layer with `num_classes` units (fine-tuning on other labels)."""
        self.head.reset(num_classes)
        self.num_classes = num_classes

    @property
    @abstractmethod
    def gradcam_layer(self) -> nn.Module:
        """The last conv module/block whose 4D output Grad-CAM should weight."""

    def head_parameters(self) -> Iterator[nn.Parameter]:
        return self.head.parameters()

    def backbone_parameters(self) -> Iterator[nn.Parameter]:
        """Every parameter outside the head (what transfer learning freezes)."""
        head_ids = {id(p) for p in self.head.parameters()}
        return (p for p in self.parameters() if id(p) not in head_ids)


def check_input_size(name: str, input_size: int, reduction: int) -> None:
    """Raise if `input_size` is too small for a backbone that downsamples `reduction` times overall."""
    if input_size < reduction:
        raise ModelError(f"{name}: input_size {input_size} is smaller than the network's total stride {reduction}")
