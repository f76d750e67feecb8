"""Batch augmentation on the training device: uint8 faces in, augmented float 0..1 batches out.

Everything runs as a few tensor ops over the whole batch (one `affine_grid`/`grid_sample` for rotation,
scale, shift and flip together), so a GPU fed by 2 CPU cores is never waiting on per-image Python code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ferkit.config_fields import check_bounds, option
from ferkit.transforms.preprocess import to_model_input


@dataclass(frozen=True)
class AugmentConfig:
    """Strengths of each augmentation; 0 turns one off. `AugmentConfig.none()` is the identity.

    The defaults are a mild, CPU-friendly baseline (`ferkit train`'s defaults: `TrainConfig` nests this config as
    the `--aug-*` options); the recipes in `ferkit.train.recipes` set stronger ones."""

    flip: float = option(0.5, "horizontal flip probability", "[0, 1]")
    rotate: float = option(10.0, "max rotation, degrees (drawn from +-rotate)", "[0, 180]")
    scale: float = option(0.1, "max zoom in/out (factor drawn from 1 +- scale)", "[0, 1)")
    shift: float = option(0.1, "max shift, share of the image", "[0, 1]")
    brightness: float = option(0.2, "max brightness offset on the 0..1 scale", "[0, 1]")
    contrast: float = option(0.2, "max contrast change around each face's mean", "[0, 1)")
    erase: float = option(0.0, "random erasing probability (one rectangle)", "[0, 1]")
    erase_area: tuple[float, float] = option((0.02, 0.25), "smallest and largest erased share of the face", "[0, 1]")
    mixup: float = option(0.0, "mixup alpha (0 = off)", "[0, inf)")
    cutmix: float = option(0.0, "cutmix alpha (0 = off; with mixup on too, each batch picks one)", "[0, inf)")

    def __post_init__(self) -> None:
        check_bounds(self)

    @classmethod
    def none(cls) -> AugmentConfig:
        return cls(flip=0, rotate=0, scale=0, shift=0, brightness=0, contrast=0, erase=0, mixup=0, cutmix=0)

    def scaled(self, strength: float) -> AugmentConfig:
        """Every magnitude times `strength` (erasing capped at 1); flip, mixup and cutmix unchanged."""
        return replace(self, rotate=self.rotate * strength, scale=self.scale * strength, shift=self.shift * strength,
                       brightness=self.brightness * strength, contrast=self.contrast * strength,
                       erase=min(1.0, self.erase * strength))


@dataclass
class MixedTargets:
    """Targets of a mixed batch (labels `[B]` or distributions `[B, C]`): loss = lam * loss(y_a) + (1 - lam) *
    loss(y_b)."""

    y_a: torch.Tensor
    y_b: torch.Tensor
    lam: float


def augment_batch(faces: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 `[B, S, S]` -> augmented float `[B, 1, S, S]` on 0..1, on the tensor's device."""
    x = to_model_input(faces)
    b, dev = x.shape[0], x.device

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(b, device=dev, generator=generator) * (hi - lo) + lo

    if cfg.rotate or cfg.scale or cfg.shift or cfg.flip:
        angle = uniform(-cfg.rotate, cfg.rotate) * (math.pi / 180.0)
        zoom = uniform(1 - cfg.scale, 1 + cfg.scale)
        flip = torch.where(torch.rand(b, device=dev, generator=generator) < cfg.flip, -1.0, 1.0)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack(
            [
                torch.stack([cos * flip, -sin, uniform(-cfg.shift, cfg.shift) * 2], dim=1),
                torch.stack([sin * flip, cos, uniform(-cfg.shift, cfg.shift) * 2], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if cfg.contrast:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * uniform(1 - cfg.contrast, 1 + cfg.contrast).view(b, 1, 1, 1) + mean
    if cfg.brightness:
        x = x + uniform(-cfg.brightness, cfg.brightness).view(b, 1, 1, 1)
    x = x.clamp_(0.0, 1.0)
    if cfg.erase:
        x = _random_erase(x, cfg.erase, cfg.erase_area, generator)
    return x


def _random_erase(
    x: torch.Tensor, p: float, area: tuple[float, float], generator: torch.Generator | None
) -> torch.Tensor:
    """Fill one random rectangle per selected image with uniform noise (Zhong et al., 2020)."""
    b, _, h, w = x.shape
    dev = x.device
    rand = lambda: torch.rand(b, device=dev, generator=generator)  # noqa: E731
    share = rand() * (area[1] - area[0]) + area[0]
    log_ratio = (rand() * 2 - 1) * math.log(3.0)  # aspect ratio in [1/3, 3]
    ratio = torch.exp(log_ratio)
    eh = (torch.sqrt(share * ratio) * h).clamp(1, h)
    ew = (torch.sqrt(share / ratio) * w).clamp(1, w)
    top = rand() * (h - eh)
    left = rand() * (w - ew)
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    inside = (
        (rows >= top.view(b, 1, 1))
        & (rows < (top + eh).view(b, 1, 1))
        & (cols >= left.view(b, 1, 1))
        & (cols < (left + ew).view(b, 1, 1))
    )
    mask = (inside & (rand() < p).view(b, 1, 1)).unsqueeze(1)
    noise = torch.rand(x.shape, device=dev, generator=generator, dtype=x.dtype)
    return torch.where(mask, noise, x)


def mix_batch(
    x: torch.Tensor, y: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, MixedTargets | None]:
    """Apply mixup or cutmix to a batch (or neither when both are off). Returns the images and mixed targets."""
    if not (cfg.mixup or cfg.cutmix):
        return x, None
    use_cutmix = bool(cfg.cutmix) and (not cfg.mixup or torch.rand(1, generator=generator).item() < 0.5)
    alpha = cfg.cutmix if use_cutmix else cfg.mixup
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(x.shape[0], device=x.device)
    if use_cutmix:
        h, w = x.shape[-2:]
        ch, cw = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
        cy, cx = int(torch.randint(h, (1,))), int(torch.randint(w, (1,)))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        x = x.clone()
        x[:, :, y0:y1, x0:x1] = x[perm, :, y0:y1, x0:x1]
        lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
    else:
        x = lam * x + (1 - lam) * x[perm]
    return x, MixedTargets(y, y[perm], lam)
