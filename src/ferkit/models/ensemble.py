"""`ensemble`: several trained ferkit models (and optionally their mirror images) averaged in one graph.

The members' softmax probabilities are averaged and `forward` returns their log, so softmax(output) is
the averaged distribution: an ensemble evaluates, exports to one ONNX file and serves like any single
model. It is built from trained model files (`build_ensemble`), never trained itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.models._registry import create_model, register_model


class Ensemble(nn.Module):
    """Average of `members`' probabilities, over the face and its mirror image when `flip_tta` is set."""

    def __init__(self, members: Sequence[nn.Module], flip_tta: bool = True) -> None:
        super().__init__()
        if not members or len({m.num_classes for m in members}) != 1:
            raise ModelError("an ensemble needs at least one member, all with the same number of classes")
        self.members = nn.ModuleList(members)
        self.flip_tta = flip_tta
        self.num_classes = members[0].num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = [x, x.flip(-1)] if self.flip_tta else [x]
        probs = [m(v).float().softmax(dim=1) for m in self.members for v in views]
        return torch.stack(probs).mean(dim=0).clamp_min(1e-12).log()

    @property
    def gradcam_layer(self) -> nn.Module:
        return self.members[0].gradcam_layer


@register_model(composite=True)
def ensemble(members: Sequence[dict[str, Any]] = (), flip_tta: bool = True, num_classes: int = 7, in_chans: int = 1,
             input_size: int = 48) -> Ensemble:
    """`members`: one `{"model_name": ..., "model_args": {...}}` per member, as ferkit model files store them."""
    return Ensemble([create_model(m["model_name"], **m["model_args"]) for m in members], flip_tta=flip_tta)


def build_ensemble(model_files: Sequence[str | Path], flip_tta: bool = True):
    """Combine trained model files into one ensemble model and its ModelMeta (ready for `save_model`).

    Raises:
        ModelError: fewer than one file, or members trained on different classes or input sizes.
    """
    from ferkit.models.checkpoint import load_model
    from ferkit.models.meta import ModelMeta

    loaded = [load_model(f) for f in model_files]
    if not loaded:
        raise ModelError("build_ensemble needs at least one model file")
    metas = [meta for _, meta in loaded]
    for f, meta in zip(model_files, metas, strict=True):
        if meta.classes != metas[0].classes or meta.preprocess != metas[0].preprocess:
            raise ModelError(f"{f}: classes/preprocessing differ from {model_files[0]}'s")
    specs = [{"model_name": m.model_name, "model_args": dict(m.model_args)} for m in metas]
    args = {"members": specs, "flip_tta": flip_tta, "num_classes": len(metas[0].classes),
            "in_chans": metas[0].model_args.get("in_chans", 1), "input_size": metas[0].preprocess.input_size}
    model = Ensemble([model for model, _ in loaded], flip_tta=flip_tta).eval()
    model.model_name, model.model_args = "ensemble", args
    meta = ModelMeta(model_name="ensemble", model_args=args, classes=metas[0].classes, preprocess=metas[0].preprocess,
                     output_kind="log_probs",
                     train_config={"members": [str(f) for f in model_files],
                                   "member_train_configs": [m.train_config for m in metas]})
    return model, meta
