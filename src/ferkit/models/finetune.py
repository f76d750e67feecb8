"""Model surgery for fine-tuning: a trained network made ready to train on another class list, as timm's
`_builder.load_pretrained` swaps the head of a pretrained model.

`fine_tune_start` takes the network a name or path stands for (`models.pretrained.load_pretrained`, the one
resolver), then in order: weights rebuilt from an ONNX file get their BatchNorms calibrated on training faces
(`models.onnx_import`), `prune_to` starts a narrower architecture from its most important channels
(`models.prune`), the head gets one row per class, keeping the trained rows of the classes the two lists share
(`swap_head`), and `freeze_backbone` leaves only the head to train. `ferkit train --init-from` is its caller.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ferkit.models import create_model
from ferkit.models.flops import count_parameters
from ferkit.models.meta import ModelMeta
from ferkit.models.onnx_import import calibrate_batchnorm
from ferkit.models.pretrained import load_pretrained
from ferkit.models.prune import prune_into

log = logging.getLogger(__name__)

# Faces whose BatchNorm statistics a model rebuilt from an ONNX file is calibrated on before fine-tuning
# (a random sample of the training faces): per-channel means and variances settle well before a thousand.
CALIBRATION_FACES = 2048


def fine_tune_start(source: str | Path, classes: tuple[str, ...], faces: np.ndarray, prune_to: str | None = None,
                    width: float | None = None, drop_rate: float | None = None,
                    freeze_backbone: bool = False) -> nn.Module:
    """The network `source` names (a bundled name, `large:0`, an `.onnx` file, a ferkit model file or run folder),
    in training mode, with an output row per name in `classes` (see the module docstring).

    Args:
        faces: the training faces (uint8 `[N, H, W]`) that calibrate the BatchNorms of weights rebuilt from ONNX.
        prune_to: an architecture to start from the network's most important channels (VGG family), or None.
        width: the channel multiplier of `prune_to` (None: the architecture's own), e.g. `vgg` at 0.75.
        drop_rate: dropout of the pruned network's head (None: the architecture's own).

    Raises:
        ModelError: `source` names nothing trainable, or the network cannot be pruned into `prune_to`.
    """
    pretrained = load_pretrained(source)
    model, meta = pretrained.model, pretrained.meta
    if pretrained.onnx_file is not None:
        pick = np.random.default_rng(0).permutation(len(faces))[:CALIBRATION_FACES]
        calibrate_batchnorm(model, faces[np.sort(pick)])
        log.info("fine-tuning %s: weights rebuilt from %s, BatchNorm calibrated on %d training faces", source,
                 pretrained.onnx_file, len(pick))
    if prune_to is not None:
        model, meta = _pruned(model, meta, prune_to, width, drop_rate)
    model.train()  # load_model returns inference mode; dropout and batch-norm statistics must train again
    if meta.classes != classes:
        swap_head(model, meta.classes, classes)
        log.info("fine-tuning %s: new head for classes %s (was %s)", meta.model_name, classes, meta.classes)
    if freeze_backbone:
        for p in model.backbone_parameters():
            p.requires_grad_(False)
    return model


def _pruned(model: nn.Module, meta: ModelMeta, name: str, width: float | None,
            drop_rate: float | None) -> tuple[nn.Module, ModelMeta]:
    """Architecture `name` at `width`, for `model`'s classes and input, filled with `model`'s most important
    channels."""
    narrow = create_model(name, num_classes=len(meta.classes), input_size=meta.preprocess.input_size,
                          width=width, drop_rate=drop_rate)
    pruned = prune_into(model, narrow)
    log.info("pruned %s into %s: %s of %s parameters kept", meta.model_name, name, f"{count_parameters(pruned):,}",
             f"{count_parameters(model):,}")
    return pruned, replace(meta, model_name=name, model_args=narrow.model_args)


@torch.no_grad()
def swap_head(model: nn.Module, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Give `model`, trained on classes `old`, a new output layer for classes `new`: the row of a class both lists
    hold keeps its trained weights, a class only `new` holds starts fresh."""
    old_fc = model.head.fc
    model.reset_classifier(len(new))
    for i, name in enumerate(new):
        if name in old:
            model.head.fc.weight[i] = old_fc.weight[old.index(name)]
            model.head.fc.bias[i] = old_fc.bias[old.index(name)]
    model.model_args = {**model.model_args, "num_classes": len(new)}
