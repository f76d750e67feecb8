"""The PyTorch side of evaluation: the device, a model file's network as a `Scorer`, its size and Grad-CAM.

Imported only when a PyTorch model (a ferkit model file or a run folder) is evaluated, so that scoring a shipped
or exported ONNX model needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ferkit.errors import ConfigError
from ferkit.evaluate.gradcam import gradcam
from ferkit.models.flops import count_parameters
from ferkit.transforms.preprocess import to_model_input

__all__ = ["TorchScorer", "count_parameters", "gradcam_maps", "select_device"]


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


@dataclass
class TorchScorer:
    """`model` (moved to `device`, in eval mode) as the numpy `Scorer` that `predict_probs` calls."""

    model: nn.Module
    device: torch.device

    def __post_init__(self) -> None:
        self.model = self.model.to(self.device).eval()

    @torch.inference_mode()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.model(torch.from_numpy(np.ascontiguousarray(x)).to(self.device)).float().cpu().numpy()


def gradcam_maps(scorer: TorchScorer, images: np.ndarray, targets: np.ndarray, batch_size: int) -> np.ndarray:
    """Grad-CAM maps `[N, S, S]` of output `targets[i]` for uint8 faces `images[i]`, in batches."""
    maps = []
    for start in range(0, len(images), batch_size):
        x = to_model_input(torch.from_numpy(images[start:start + batch_size]).to(scorer.device))
        target = torch.from_numpy(targets[start:start + batch_size]).to(scorer.device)
        maps.append(gradcam(scorer.model, x, target).cpu().numpy())
    return np.concatenate(maps)
