"""Class probabilities of a model over a whole face set, in batches, with optional test-time augmentation.

TTA averages the softmax probabilities of several views of each face:
- "flip": the face and its mirror image (2 views);
- "tencrop": the face upscaled by `TENCROP_SCALE`, cropped back to its size at the four corners and the
  centre, plus the mirror of each crop (10 views), the classic multi-crop evaluation of FER papers.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ferkit.errors import ConfigError
from ferkit.transforms.preprocess import to_model_input

Tta = Literal["none", "flip", "tencrop"]
TENCROP_SCALE = 1.125  # 48 px faces become 54 px before the 48 px crops: a shift of up to 6 px


def select_device(device: str) -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cpu", "cuda", "cuda:1" as given.

    Raises:
        ConfigError: CUDA was asked for on a machine without it.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device '{device}' requested but CUDA is not available (use --device cpu or auto)")
    return torch.device(device)


@torch.inference_mode()
def predict_probs(model: nn.Module, images: np.ndarray, batch_size: int = 256,
                  device: str | torch.device = "cpu", tta: Tta = "none",
                  columns: np.ndarray | None = None) -> np.ndarray:
    """Softmax probabilities float32 `[N, num_classes]` for uint8 faces `[N, S, S]`.

    The model is moved to `device` and put in eval mode; faces travel there one batch at a time.
    `columns` restricts the model to some of its classes: the softmax is taken over those logits only
    (in that order), which is the model's distribution renormalised over them, without underflow.

    Example:
        >>> probs = predict_probs(model, faces.images, device="cuda", tta="flip")
    """
    if tta not in ("none", "flip", "tencrop"):
        raise ValueError(f"unknown test-time augmentation '{tta}' (expected none, flip or tencrop)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if len(images) == 0:
        raise ValueError("no faces to predict")
    device = torch.device(device)
    model = model.to(device).eval()
    keep = None if columns is None else torch.as_tensor(np.asarray(columns), dtype=torch.long, device=device)
    out = []
    for start in range(0, len(images), batch_size):
        x = to_model_input(torch.from_numpy(images[start:start + batch_size]).to(device))
        views = tta_views(x, tta)  # one forward pass over all views keeps the device busy
        logits = model(torch.cat(views)).float()
        if keep is not None:
            logits = logits[:, keep]
        out.append(logits.softmax(dim=1).view(len(views), len(x), -1).mean(dim=0).cpu().numpy())
    return np.concatenate(out)


def tta_views(x: torch.Tensor, tta: Tta) -> list[torch.Tensor]:
    """The views of a float batch `[B, C, S, S]` that `tta` averages over (the batch itself for "none")."""
    if tta == "none":
        return [x]
    if tta == "flip":
        return [x, x.flip(-1)]
    size = x.shape[-1]
    big = round(size * TENCROP_SCALE)
    up = F.interpolate(x, size=(big, big), mode="bilinear", align_corners=False)
    m, c = big - size, (big - size) // 2
    crops = [up[..., y:y + size, x0:x0 + size] for y, x0 in ((0, 0), (0, m), (m, 0), (m, m), (c, c))]
    return crops + [crop.flip(-1) for crop in crops]


class OnnxModule(nn.Module):
    """An exported model (`OnnxClassifier`) behind nn.Module's call, on the CPU, so that `predict_probs` and its
    TTA views score ONNX files and bundled models exactly as they score PyTorch ones. Its outputs keep their
    kind (logits or log-probabilities); the one softmax of `predict_probs` is right for both."""

    def __init__(self, classifier: Any) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.classifier.outputs(np.ascontiguousarray(x.cpu().numpy())))
