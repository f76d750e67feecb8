"""ferkit model files: weights plus everything needed to rebuild and use the model, in one `.pt` file.

A model file is a dict `{"format": "ferkit-model/1", "model_name", "model_args", "classes",
"preprocess", "state_dict", "metrics", "train_config"}`. `load_model` rebuilds the network from it
alone (nanoGPT-style), so no caller ever has to know which architecture a file holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.transforms.preprocess import PreprocessConfig

FORMAT = "ferkit-model/1"
# The files of a run directory (written by `ferkit train`, read by evaluate/compare/tune).
MODEL_FILE = "model.pt"  # the best model, ferkit format
HISTORY_FILE = "history.csv"  # one row per epoch
RUN_CONFIG_FILE = "config.json"  # the resolved TrainConfig
RUN_METRICS_FILE = "metrics.json"  # best-epoch metrics, written when the run ends


@dataclass
class ModelMeta:
    """What travels with a model's weights (also written into ONNX metadata and the bundled .json)."""

    model_name: str
    model_args: dict[str, Any]
    classes: tuple[str, ...]
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    metrics: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_args": dict(self.model_args),
            "classes": list(self.classes),
            "preprocess": self.preprocess.to_dict(),
            "metrics": dict(self.metrics),
            "train_config": dict(self.train_config),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelMeta:
        return cls(
            model_name=d["model_name"],
            model_args=dict(d["model_args"]),
            classes=tuple(d["classes"]),
            preprocess=PreprocessConfig.from_dict(d.get("preprocess", {})),
            metrics=dict(d.get("metrics", {})),
            train_config=dict(d.get("train_config", {})),
        )


def save_model(path: str | Path, model: nn.Module, meta: ModelMeta) -> Path:
    """Write weights + meta atomically (a crash mid-write never leaves a corrupt file at `path`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in _unwrap(model).state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **meta.to_dict(), "state_dict": state}, tmp)
    tmp.replace(path)
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
