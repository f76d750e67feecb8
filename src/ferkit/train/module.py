"""The LightningModule: loss, metrics and optimisation for one classifier. The model itself is plain torch.

It trains on the batches `FaceDataModule` delivers, already augmented (and mixed): augmentation has one owner,
the data module. A batch's targets are labels or, from FER+ votes, distributions over the classes; cross-entropy
takes either (with label smoothing and class weights alike), and `multi_target` swaps in the FERPlus reference's
multi-target loss. The loss's settings are `loss.LossConfig`, the optimiser's `optim.OptimConfig`.
"""

from __future__ import annotations

import random
from dataclasses import asdict

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from ferkit.train.augment import MixedTargets
from ferkit.train.distill import distillation_loss
from ferkit.train.loss import LossConfig
from ferkit.train.optim import OptimConfig, create_optimizer, create_scheduler

# The FERPlus reference adds this to every target of the multi-target loss, so that log() stays finite.
MULTI_TARGET_EPSILON = 0.001


def multi_target_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log max_c(t_c * p_c), where t is 1 on the classes the votes name (then eased by `MULTI_TARGET_EPSILON`):
    any one of the classes several annotators chose is an acceptable answer (the FERPlus reference `cost_func`)."""
    t = (1 - MULTI_TARGET_EPSILON) * (target > 0).float() + MULTI_TARGET_EPSILON
    return -(t.log() + logits.float().log_softmax(dim=1)).amax(dim=1).mean()


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
        """Against labels `[B]` or distributions `[B, C]`."""
        if self.loss.multi_target and y.is_floating_point():
            return multi_target_loss(logits, y)
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
        """`y` is the batch's labels, or its vote distributions (training accuracy counts their top class)."""
        x, y, *extra = batch  # see FaceDataModule.on_after_batch_transfer
        logits = self.model(x)
        loss = self._training_loss(logits, y, extra[0] if extra else None)
        self.train_acc(logits.detach().argmax(1), y if y.ndim == 1 else y.argmax(1))
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
