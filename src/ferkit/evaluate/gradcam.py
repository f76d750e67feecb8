"""Grad-CAM (Selvaraju et al., 2017): where in the face a model looks when it scores a class.

The activations of `model.gradcam_layer` (every ferkit model names its last conv block) are weighted by
the spatial mean of the class score's gradient, summed over channels, rectified, upsampled to the face
size and scaled to 0..1 per face.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gradcam(model: nn.Module, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """Heatmaps float `[N, S, S]` in 0..1 for model inputs `x` `[N, C, S, S]` (0..1 pixels).

    Args:
        model: a ferkit model (it must expose `gradcam_layer`), in eval mode.
        x: a batch of model inputs on the model's device.
        target: class index per face `[N]`; default: the predicted class.

    A face whose map is zero everywhere (no positive evidence) gets an all-zero heatmap.
    """
    layer = getattr(model, "gradcam_layer", None)
    if not isinstance(layer, nn.Module):
        raise TypeError(f"{type(model).__name__} has no `gradcam_layer` module to take activations from")
    captured: list[torch.Tensor] = []

    def keep_activation(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        captured.append(output)
        return output.clone()  # later in-place ops (ReLU(inplace=True)) then cannot change `output`

    handle = layer.register_forward_hook(keep_activation)
    try:
        with torch.enable_grad():
            # Gradients flow through the input, so frozen weights (requires_grad=False) still work.
            logits = model(x.detach().clone().requires_grad_(True))
            if target is None:
                target = logits.argmax(dim=1)
            score = logits.gather(1, target.view(-1, 1).to(logits.device)).sum()
            (grads,) = torch.autograd.grad(score, captured[0])
    finally:
        handle.remove()
    acts = captured[0].detach()
    if acts.ndim != 4:
        raise ValueError(f"gradcam_layer output must be [N, C, H, W], got shape {tuple(acts.shape)}")
    cam = F.relu((grads.mean(dim=(2, 3), keepdim=True) * acts).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).amax(dim=1).view(-1, 1, 1)
    return torch.where(peak > 0, cam / peak.clamp_min(1e-12), torch.zeros_like(cam)).clamp_(0, 1)
