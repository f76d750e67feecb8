"""Class probabilities of a model over a whole face set, in batches, with optional test-time augmentation.

Torch-free: a model is a `Scorer`, a function from a float input batch to its outputs, so an ONNX file is scored
without torch and a PyTorch model through `ferkit.evaluate.torch_model.TorchScorer`, with the same views.

TTA averages the softmax probabilities of several views of each face:
- "flip": the face and its mirror image (2 views);
- "tencrop": the face upscaled by `TENCROP_SCALE`, cropped back to its size at the four corners and the
  centre, plus the mirror of each crop (10 views), the classic multi-crop evaluation of FER papers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Literal

import numpy as np

from ferkit.progress import Progress
from ferkit.transforms.preprocess import to_model_input

Tta = Literal["none", "flip", "tencrop"]
Scorer = Callable[[np.ndarray], np.ndarray]  # float32 [B, 1, S, S] on 0..1 -> logits or log-probabilities [B, K]
TENCROP_SCALE = 1.125  # 48 px faces become 54 px before the 48 px crops: a shift of up to 6 px

log = logging.getLogger(__name__)


def predict_probs(score: Scorer, images: np.ndarray, batch_size: int = 256, tta: Tta = "none",
                  columns: np.ndarray | None = None, what: str = "scoring") -> np.ndarray:
    """Softmax probabilities float32 `[N, K]` for uint8 faces `[N, S, S]`, with a progress line every few
    seconds (`what` names the phase in it).

    `columns` restricts the model to some of its classes: the softmax is taken over those outputs only
    (in that order), which is the model's distribution renormalised over them, without underflow. Outputs of
    either kind (logits or log-probabilities) give the same softmax.

    Example:
        >>> probs = predict_probs(OnnxClassifier("small.onnx").outputs, faces.images, tta="flip")
    """
    if tta not in ("none", "flip", "tencrop"):
        raise ValueError(f"unknown test-time augmentation '{tta}' (expected none, flip or tencrop)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if len(images) == 0:
        raise ValueError("no faces to predict")
    progress, out = Progress(log, what, len(images)), []
    for start in range(0, len(images), batch_size):
        x = to_model_input(images[start:start + batch_size])
        views = tta_views(x, tta)  # one call over all views keeps the model busy
        logits = np.asarray(score(np.concatenate(views)), dtype=np.float32)
        if columns is not None:
            logits = logits[:, columns]
        out.append(_softmax(logits).reshape(len(views), len(x), -1).mean(axis=0))
        progress.add(len(x))
    return np.concatenate(out)


def tta_views(x: np.ndarray, tta: Tta) -> list[np.ndarray]:
    """The views of a float batch `[B, C, S, S]` that `tta` averages over (the batch itself for "none")."""
    if tta == "none":
        return [x]
    if tta == "flip":
        return [x, x[..., ::-1]]
    size = x.shape[-1]
    big = round(size * TENCROP_SCALE)
    resize = _bilinear_matrix(size, big)
    up = (resize @ x @ resize.T).astype(x.dtype)
    m, c = big - size, (big - size) // 2
    crops = [up[..., y:y + size, x0:x0 + size] for y, x0 in ((0, 0), (0, m), (m, 0), (m, m), (c, c))]
    return crops + [crop[..., ::-1] for crop in crops]


@cache
def _bilinear_matrix(size: int, out: int) -> np.ndarray:
    """`[out, size]` weights of bilinear resampling with pixel centres aligned (PyTorch's align_corners=False),
    applied to rows and columns in turn."""
    centre = np.clip((np.arange(out) + 0.5) * size / out - 0.5, 0, size - 1)
    low = np.floor(centre).astype(int)
    high = np.minimum(low + 1, size - 1)
    weights = np.zeros((out, size), dtype=np.float32)
    np.add.at(weights, (np.arange(out), low), 1 - (centre - low))
    np.add.at(weights, (np.arange(out), high), centre - low)
    return weights


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
