"""Callbacks that make a run self-describing and safe to kill: history.csv, model.pt at every new best epoch
(`EpochHistory.best`, by `rundir.best_epoch`), and checkpoints written atomically."""

from __future__ import annotations

import csv
import logging
import time
from typing import Any

import lightning as L
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from ferkit.files import atomic_path
from ferkit.models.checkpoint import save_model
from ferkit.models.meta import ModelMeta
from ferkit.train.rundir import RunDir, best_epoch

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_macro_f1", "lr", "images_per_s",
                   "time_s")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write each checkpoint to a temporary file and rename it into place: a kill mid-write leaves the
    previous checkpoint intact instead of a truncated one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)


def _value(metrics: dict[str, Any], *names: str) -> float | None:
    for name in names:
        if name in metrics:
            return float(metrics[name])
    return None


class EpochHistory(L.Callback):
    """Appends one row per epoch to the run's history.csv and logs it. The rows also live in every
    checkpoint, so a resumed run rewrites exactly the history of the epochs it resumed from."""

    def __init__(self, run: RunDir) -> None:
        self.path = run.history
        self.rows: list[dict[str, Any]] = []
        self._t_epoch = self._t_train = 0.0
        self._seen = 0
        self._t_run = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t_epoch = time.perf_counter()
        self._t_train = 0.0
        self._seen = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._seen += int(batch[1].shape[0])

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._t_train:  # the epoch's training phase ends where its first validation starts
            self._t_train = time.perf_counter() - self._t_epoch

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        m = trainer.callback_metrics
        train_time = self._t_train or (time.perf_counter() - self._t_epoch)
        world = trainer.world_size
        row = {
            "epoch": trainer.current_epoch + 1,
            "train_loss": _value(m, "train_loss_epoch", "train_loss"),
            "train_acc": _value(m, "train_acc"),
            "val_loss": _value(m, "val_loss"),
            "val_acc": _value(m, "val_acc"),
            "val_macro_f1": _value(m, "val_macro_f1"),
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            "images_per_s": round(self._seen * world / max(train_time, 1e-9), 1),
            "time_s": round(time.perf_counter() - self._t_epoch, 2),
        }
        self.rows.append(row)
        if trainer.is_global_zero:
            self._write()
            shown = " ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch" and v is not None)
            log.info("epoch %d/%d %s", row["epoch"], trainer.max_epochs, shown)

    @property
    def best(self) -> dict[str, Any] | None:
        """The row of the best epoch so far (`best_epoch`); None before any epoch was validated."""
        i = best_epoch([row["val_acc"] for row in self.rows])
        return None if i is None else self.rows[i]

    def _write(self) -> None:
        with atomic_path(self.path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)

    def state_dict(self) -> dict[str, Any]:
        return {"rows": list(self.rows)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = list(state_dict["rows"])
        self._write()


class BestModelExport(L.Callback):
    """Saves the run's model.pt (the ferkit model file) whenever `history` (listed before this callback, so its
    row for the epoch is in) finds the epoch just ended the best so far."""

    def __init__(self, run: RunDir, meta: ModelMeta, history: EpochHistory) -> None:
        self.path = run.model
        self.meta, self.history = meta, history

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = self.history.best
        if trainer.sanity_checking or best is None or best["epoch"] != trainer.current_epoch + 1:
            return
        self.meta.metrics = {"epoch": best["epoch"], **{k: v for k, v in best.items() if k.startswith("val_")}}
        if trainer.is_global_zero:
            save_model(self.path, pl_module.model, self.meta)
