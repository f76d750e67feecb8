"""ferkit model files: weights plus everything needed to rebuild and use the model, in one `.pt` file.

A model file is a dict `{"format": "ferkit-model/1", **ModelMeta.to_dict(), "state_dict"}`. `load_model`
rebuilds the network from it alone (nanoGPT-style, as timm keeps `load_checkpoint` beside `create_model`), so
no caller ever has to know which architecture a file holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ferkit.errors import ModelError
from ferkit.files import atomic_path
from ferkit.models.meta import ModelMeta

if TYPE_CHECKING:  # torch is imported where a file is read or written: a run folder's paths need no torch
    import torch
    from torch import nn

FORMAT = "ferkit-model/1"
MODEL_FILE = "model.pt"  # the best model of a training run, in its run folder
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def save_model(path: str | Path, model: nn.Module, meta: ModelMeta) -> Path:
    """Write weights + meta atomically (a crash mid-write never leaves a corrupt file at `path`)."""
    import torch

    path = Path(path)
    state = {k: v.detach().cpu() for k, v in _unwrap(model).state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **meta.to_dict(), "state_dict": state}, tmp)
    return path


def resolve_model_path(path: str | Path) -> Path:
    """Accept a model file or a run directory (which holds `model.pt`); torch-free.

    Raises:
        ModelError: no such file, or a file that is no model file at all (an image, a CSV, ...), said in one
            line before torch would read it and answer with a page of advice.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    with path.open("rb") as f:
        if f.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
            raise ModelError(f"{path}: not a ferkit model file (a model is a bundled name, an .onnx file, a "
                             f"ferkit {MODEL_FILE} or a run folder)")
    return path


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, ModelMeta]:
    """Rebuild the model saved at `path` (a model file or a run directory), in eval mode.

    Raises:
        ModelError: the file is missing, not a ferkit model file, or its weights do not fit its architecture.
    """
    path = resolve_model_path(path)
    import torch

    from ferkit.models import create_model

    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a truncated or foreign file, with pages of advice
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(f"{path}: cannot read model file ({exc.__class__.__name__}: {first_line})") from exc
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
