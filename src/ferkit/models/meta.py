"""What travels with a model's weights, without torch: `ModelMeta`, the one reader of it for ferkit model files
(`ferkit.models.checkpoint`) and exported ONNX files (the sidecar `<name>.json` or the file's own metadata),
and the kind of output a model's graph returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ferkit.errors import ModelError
from ferkit.transforms.preprocess import PreprocessConfig

OutputKind = Literal["logits", "log_probs"]
ONNX_METADATA_KEY = "ferkit"  # key of the JSON metadata inside an exported ONNX file's custom metadata


@dataclass
class ModelMeta:
    """Everything needed to rebuild and use a model: architecture and its arguments, classes in output order,
    preprocessing, what its output is, metrics and the training config (also the ONNX metadata's core)."""

    model_name: str
    model_args: dict[str, Any]
    classes: tuple[str, ...]
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    metrics: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    output_kind: OutputKind = "logits"  # an ensemble returns the log of its averaged probabilities

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_args": dict(self.model_args),
            "classes": list(self.classes),
            "preprocess": self.preprocess.to_dict(),
            "metrics": dict(self.metrics),
            "train_config": dict(self.train_config),
            "output_kind": self.output_kind,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelMeta:
        """From `to_dict`'s form, or from an exported model's metadata (whose output kind sits in `output`)."""
        # Files written before the kind was recorded: an ensemble always returned log-probabilities.
        kind = d.get("output_kind") or ("log_probs" if d["model_name"] == "ensemble" else
                                        d.get("output", {}).get("kind", "logits"))
        if kind not in ("logits", "log_probs"):
            raise ModelError(f"unknown model output kind '{kind}' (expected logits or log_probs)")
        return cls(
            model_name=d["model_name"],
            model_args=dict(d["model_args"]),
            classes=tuple(d["classes"]),
            preprocess=PreprocessConfig.from_dict(d.get("preprocess", {})),
            metrics=dict(d.get("metrics", {})),
            train_config=dict(d.get("train_config", {})),
            output_kind=kind,
        )

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Class probabilities `[N, C]` from the model's raw outputs, by their kind: exactly one softmax."""
        if self.output_kind == "log_probs":
            return np.exp(outputs)
        z = outputs - outputs.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def read_onnx_metadata(path: Path, custom_metadata: Mapping[str, str]) -> dict[str, Any]:
    """The full ferkit metadata of an exported model: its sidecar `<name>.json` when present, else the entry in
    the file's custom metadata (`custom_metadata`, as ONNX Runtime or the onnx package reads it).

    Raises:
        ModelError: neither holds ferkit metadata with classes.
    """
    sidecar = path.with_suffix(".json")
    try:
        meta = json.loads(sidecar.read_text() if sidecar.is_file() else custom_metadata[ONNX_METADATA_KEY])
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{path}: no ferkit metadata (a sidecar .json or embedded '{ONNX_METADATA_KEY}' "
                         f"entry); export it with `ferkit export`") from exc
    if "classes" not in meta:
        raise ModelError(f"{path}: metadata lists no 'classes'")
    return meta
