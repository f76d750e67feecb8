"""ferkit model files: weights plus everything needed to rebuild and use the model, in one `.pt` file.

A model file is a dict `{"format": "ferkit-model/1", **ModelMeta.to_dict(), "state_dict"}`. `load_model`
rebuilds the network from it alone (nanoGPT-style, as timm keeps `load_checkpoint` beside `create_model`), so
no caller ever has to know which architecture a file holds.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.files import atomic_path
from ferkit.models.meta import ModelMeta

FORMAT = "ferkit-model/1"
MODEL_FILE = "model.pt"  # the best model of a training run, in its run folder


def save_model(path: str | Path, model: nn.Module, meta: ModelMeta) -> Path:
    """Write weights + meta atomically (a crash mid-write never leaves a corrupt file at `path`)."""
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in _unwrap(model).state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **meta.to_dict(), "state_dict": state}, tmp)
    return path


def resolve_model_path(path: str | Path) -> Path:
    """Accept a model file or a run directory (which holds `model.pt`)."""
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    return path


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, ModelMeta]:
    """Rebuild the model saved at `path` (a model file or a run directory), in eval mode.

    Raises:
        ModelError: the file is missing, not a ferkit model file, or its weights do not fit its architecture.
    """
    from ferkit.models import create_model

    path = resolve_model_path(path)
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise ModelError(f"{path}: cannot read model file ({exc.__class__.__name__}: {exc})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{path}: not a ferkit model file (expected format '{FORMAT}')")
    meta = ModelMeta.from_dict(blob)
    model = create_model(meta.model_name, **meta.model_args)
    try:
        model.load_state_dict(blob["state_dict"])
    except RuntimeError as exc:
        raise ModelError(f"{path}: weights do not match architecture '{meta.model_name}': {exc}") from exc
    return model.eval(), meta


def _unwrap(model: nn.Module) -> nn.Module:
    """The plain module under DDP / torch.compile wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)
