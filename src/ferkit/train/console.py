"""What a training run prints: one stream, through ferkit's logging, with the numbers the run really uses.

Lightning gives its loggers a handler of their own, so each of its lines came out twice once the CLI had set up
logging; its informational lines (accelerators found, a cloud logger's advertisement, "loading the dataloader")
say nothing a ferkit user acts on, and a deprecation inside Lightning itself is not the user's to fix. Its
progress bar counts epochs from 0 ("Epoch 0/0") where ferkit's log says "epoch 1/1"; `progress_bar` counts
from 1 like the log.
"""

from __future__ import annotations

import logging
import warnings

from lightning.pytorch.callbacks import ProgressBar, RichProgressBar, TQDMProgressBar
from lightning.pytorch.utilities.imports import _RICH_AVAILABLE

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")


def quiet_lightning() -> None:
    """Route Lightning's logging through ferkit's handlers only, keep its warnings, drop its chatter."""
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logging.getLogger(f"{name}.utilities.rank_zero").setLevel(logging.WARNING)
    # Lightning's own use of a torch API that torch deprecated (lightning/pytorch/utilities/_pytree.py).
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*", category=FutureWarning)


class _RichEpochBar(RichProgressBar):
    def _get_train_description(self, current_epoch: int) -> str:
        return super()._get_train_description(current_epoch).replace(
            f"Epoch {current_epoch}/{(self.trainer.max_epochs or 0) - 1}",
            f"Epoch {current_epoch + 1}/{self.trainer.max_epochs}", 1)


class _TQDMEpochBar(TQDMProgressBar):
    def on_train_epoch_start(self, trainer, *args) -> None:  # type: ignore[no-untyped-def]
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(f"Epoch {trainer.current_epoch + 1}/{trainer.max_epochs}")


def progress_bar() -> ProgressBar:
    """Lightning's progress bar (rich where installed, as Lightning chooses), numbering epochs from 1 of N."""
    return _RichEpochBar() if _RICH_AVAILABLE else _TQDMEpochBar()
