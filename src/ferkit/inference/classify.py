"""Expression classifiers: prepared uint8 faces `[N, S, S]` in, class probabilities `[N, C]` out.

`OnnxClassifier` runs exported models on ONNX Runtime and needs no torch; `TorchClassifier` runs ferkit
model files (`.pt` or a run directory) and imports torch only when built. Both read the preprocessing
config that travels with the model, so inference prepares faces exactly as training did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ferkit.errors import ModelError
from ferkit.inference.runtime import create_session
from ferkit.models.bundled import bundled_model_path, bundled_names
from ferkit.models.meta import ModelMeta, read_onnx_metadata
from ferkit.transforms.preprocess import PreprocessConfig, resize_faces, to_model_input

# Faces per ONNX Runtime call: large batches are split so their activations stay in cache. The speed of each
# chunk size is measured by benchmarks/bench_inference.py (results/inference.md); with `small` on 2 cores,
# chunks of 16 to 64 lie within about 10% of each other, while 8 is clearly slower.
ONNX_CHUNK = 16

class Classifier(Protocol):
    """What the Recognizer, evaluation and distillation need from a model."""

    path: Path  # the file its weights were read from
    meta: ModelMeta  # architecture, classes, preprocessing, output kind and metrics
    classes: tuple[str, ...]  # meta.classes
    preprocess: PreprocessConfig  # meta.preprocess

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """uint8 faces `[N, H, W]` (from `ferkit.transforms.prepare_faces`; faces of another size than the model's
        `S x S` are resized as `prepare_faces` would) -> probabilities `[N, C]`."""
        ...

    def info(self) -> dict[str, Any]:
        """Name, classes, input size, metrics and source file, JSON-safe."""
        ...


def _describe(meta: ModelMeta, source: Path, backend: str) -> dict[str, Any]:
    return {
        "name": meta.model_name,
        "classes": list(meta.classes),
        "input_size": meta.preprocess.input_size,
        "preprocess": meta.preprocess.to_dict(),
        "metrics": meta.metrics,
        "source": str(source),
        "backend": backend,
    }


class OnnxClassifier:
    """An exported model on ONNX Runtime.

    Metadata (classes, preprocessing, output kind, metrics) comes from the sidecar `<model>.json` when present,
    else from the file's own custom metadata (`ferkit.models.meta.read_onnx_metadata`).
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self._session = create_session(self.path, threads)
        self._input = self._session.get_inputs()[0].name
        self.meta = ModelMeta.from_dict(
            read_onnx_metadata(self.path, self._session.get_modelmeta().custom_metadata_map))
        self.classes = self.meta.classes
        self.preprocess = self.meta.preprocess

    def predict(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        faces = resize_faces(faces, self.preprocess.input_size)
        return self.meta.probabilities(self.outputs(to_model_input(faces)))

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """Raw outputs `[N, C]` (of kind `meta.output_kind`) for model input float32 `[N, 1, S, S]` (see
        `to_model_input`), run `ONNX_CHUNK` faces at a time; for callers that build their own views of the faces,
        such as TTA, and turn them into probabilities with `meta.probabilities`."""
        return np.concatenate([self._session.run(None, {self._input: x[i:i + ONNX_CHUNK]})[0]
                               for i in range(0, len(x), ONNX_CHUNK)])

    def info(self) -> dict[str, Any]:
        return _describe(self.meta, self.path, "onnxruntime")


class TorchClassifier:
    """A ferkit model file (`.pt`, or a run directory holding `model.pt`) on PyTorch's CPU backend."""

    def __init__(self, path: str | Path) -> None:
        from ferkit.models.checkpoint import load_model, resolve_model_path

        self.path = resolve_model_path(path)  # a file that is no model file is refused before torch is needed
        try:
            import torch
        except ImportError as exc:
            raise ModelError(f"{path}: running a PyTorch model file needs torch (pip install 'ferkit[train]'); "
                             "or export it with `ferkit export` and use the .onnx file") from exc

        self._torch = torch
        self.model, self.meta = load_model(self.path)
        self.classes = self.meta.classes
        self.preprocess = self.meta.preprocess

    def predict(self, faces: np.ndarray) -> np.ndarray:
        if len(faces) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        faces = resize_faces(faces, self.preprocess.input_size)
        with self._torch.inference_mode():
            outputs = self.model(to_model_input(self._torch.from_numpy(faces)))
        return self.meta.probabilities(outputs.float().numpy())

    def info(self) -> dict[str, Any]:
        return _describe(self.meta, self.path, "torch")


def load_classifier(model: str | Path) -> Classifier:
    """A classifier from a bundled model name, an `.onnx` file, or a ferkit model file / run directory.

    Raises:
        ModelError: the name is neither bundled nor an existing path.
    """
    bundled = bundled_model_path(model) if isinstance(model, str) else None  # a bundled name wins over a path
    if bundled is not None:
        return OnnxClassifier(bundled)
    path = Path(model)
    if path.suffix == ".onnx":
        return OnnxClassifier(path)
    if path.exists():
        return TorchClassifier(path)
    names = ", ".join(bundled_names()) or "none installed"
    raise ModelError(f"unknown model '{model}': not a bundled model ({names}) and no such file")
