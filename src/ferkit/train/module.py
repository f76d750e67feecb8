"""The LightningModule: loss, metrics and optimisation for one classifier. The model itself is plain torch.

It trains on the batches `FaceDataModule` delivers, already augmented (and mixed): augmentation has one owner,
the data module.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from ferkit.train.augment import MixedTargets
from ferkit.train.distill import distillation_loss
from ferkit.train.optim import OptimConfig, create_optimizer, create_scheduler


@dataclass(frozen=True)
class LossConfig:
    """The training loss: cross-entropy with label smoothing and per-class weights (None: all 1), mixed with the
    distillation loss at `distill_weight` when batches carry a teacher's log-probabilities."""

    label_smoothing: float
    class_weights: tuple[float, ...] | None
    distill_weight: float
    distill_temperature: float


class FerModule(L.LightningModule):
    """Trains `model` with the `loss` and `optim` settings, which it records in every checkpoint
    (`hparams`), and logs train_loss/train_acc per epoch and val_loss/val_acc/val_macro_f1 per validation."""

    def __init__(self, model: nn.Module, loss: LossConfig, optim: OptimConfig) -> None:
        super().__init__()
        # Plain dicts, not the dataclasses, so checkpoints still load with torch.load(weights_only=True); not
        # logged, so the run folder gains no hparams.yaml.
        self.save_hyperparameters({"loss": asdict(loss), "optim": asdict(optim)}, logger=False)
        self.model, self.loss, self.optim = model, loss, optim
        weights = torch.tensor(loss.class_weights, dtype=torch.float32) if loss.class_weights is not None else None
        self.register_buffer("class_weights", weights, persistent=False)
        n = model.num_classes
        self.train_acc = MulticlassAccuracy(num_classes=n, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes=n, average="micro")
        self.val_f1 = MulticlassF1Score(num_classes=n, average="macro")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _cross_entropy(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), y, weight=self.class_weights,
                               label_smoothing=self.loss.label_smoothing)

    def _training_loss(self, logits: torch.Tensor, y: torch.Tensor,
                       extra: MixedTargets | torch.Tensor | None) -> torch.Tensor:
        """Cross-entropy on the labels (on both label sets of a mixed batch), mixed with the distillation loss
        when `extra` is the teacher's log-probabilities."""
        if isinstance(extra, MixedTargets):
            return (extra.lam * self._cross_entropy(logits, extra.y_a)
                    + (1 - extra.lam) * self._cross_entropy(logits, extra.y_b))
        loss = self._cross_entropy(logits, y)
        if extra is None:
            return loss
        w = self.loss.distill_weight
        return (1 - w) * loss + w * distillation_loss(logits, extra, self.loss.distill_temperature)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y, *extra = batch  # see FaceDataModule.on_after_batch_transfer
        logits = self.model(x)
        loss = self._training_loss(logits, y, extra[0] if extra else None)
        self.train_acc(logits.detach().argmax(1), y)
        # batch_size given: Lightning cannot count a batch that carries MixedTargets
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, sync_dist=True, batch_size=len(y))
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
        optimizer = create_optimizer(self.optim, [p for p in self.model.parameters() if p.requires_grad])
        steps_per_epoch = max(1, self.trainer.estimated_stepping_batches // max(1, self.trainer.max_epochs))
        scheduler = create_scheduler(self.optim, optimizer, steps_per_epoch)
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
