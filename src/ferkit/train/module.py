"""The LightningModule: loss, metrics and optimisation for one classifier. The model itself is plain torch."""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from ferkit.train.augment import AugmentConfig, mix_batch
from ferkit.train.config import TrainConfig
from ferkit.train.distill import distillation_loss
from ferkit.train.optim import create_optimizer, create_scheduler


class FerModule(L.LightningModule):
    """Trains `model` with cross-entropy (optional label smoothing and class weights), mixed with a
    distillation loss when batches carry a teacher's log-probabilities, and logs train_loss/train_acc per
    epoch and val_loss/val_acc/val_macro_f1 per validation."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, class_weights: np.ndarray | None = None) -> None:
        super().__init__()
        self.model, self.cfg = model, cfg
        self.augment: AugmentConfig = cfg.augment()
        weights = torch.as_tensor(class_weights, dtype=torch.float32) if class_weights is not None else None
        self.register_buffer("class_weights", weights, persistent=False)
        n = model.num_classes
        self.train_acc = MulticlassAccuracy(num_classes=n, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes=n, average="micro")
        self.val_f1 = MulticlassF1Score(num_classes=n, average="macro")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), y, weight=self.class_weights, label_smoothing=self.cfg.label_smoothing)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y, *teacher = batch
        x, mixed = mix_batch(x, y, self.augment)
        logits = self.model(x)
        if mixed is None:
            loss = self._loss(logits, y)
        else:
            loss = mixed.lam * self._loss(logits, mixed.y_a) + (1 - mixed.lam) * self._loss(logits, mixed.y_b)
        if teacher:
            w = self.cfg.distill_weight
            loss = (1 - w) * loss + w * distillation_loss(logits, teacher[0], self.cfg.distill_temperature)
        self.train_acc(logits.detach().argmax(1), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, sync_dist=True)
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        x, y = batch
        logits = self.model(x)
        preds = logits.argmax(1)
        self.val_acc(preds, y)
        self.val_f1(preds, y)
        self.log("val_loss", F.cross_entropy(logits.float(), y), on_epoch=True, prog_bar=True, sync_dist=True)
        self.log("val_acc", self.val_acc, on_epoch=True, prog_bar=True)
        self.log("val_macro_f1", self.val_f1, on_epoch=True)

    def configure_optimizers(self):
        optimizer = create_optimizer(self.cfg, [p for p in self.model.parameters() if p.requires_grad])
        steps_per_epoch = max(1, self.trainer.estimated_stepping_batches // max(1, self.trainer.max_epochs))
        scheduler = create_scheduler(self.cfg, optimizer, steps_per_epoch)
        return optimizer if scheduler is None else {"optimizer": optimizer, "lr_scheduler": scheduler}

    # Random-number state travels with each checkpoint so that --resume continues exactly where it stopped.
    # Stored as tensors and plain values only, so checkpoints load with torch.load(weights_only=True).
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        checkpoint["rng_states"] = {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": [name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
            "python": random.getstate(),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        states = checkpoint.get("rng_states")
        if not states:
            return
        torch.set_rng_state(states["torch"])
        if states["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states["cuda"])
        name, keys, pos, has_gauss, cached = states["numpy"]
        np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        random.setstate(states["python"])
