"""`RunDir`: the folder of one training run, the one owner of its layout. `ferkit train` writes it (`train.resume`
creates it, or checks it before a resume), `ferkit evaluate` adds `eval-<split>/` folders to it, `compare` and
`tune` read it:

    config.json          the resolved TrainConfig (written once, never by a resume)
    history.csv          one row per epoch
    train_metrics.json   best-epoch metrics, written when the run ends
    model.pt             the best model (ferkit model file, `ferkit.models.checkpoint`)
    checkpoints/         last.ckpt (for --resume) and best.ckpt
    eval-<split>/        evaluation.json and report.html of each `ferkit evaluate`

The best epoch, whose figures train_metrics.json and model.pt hold, is chosen by `best_epoch` alone.

Runs made before the training and evaluation metrics had their own names hold `metrics.json` for both; the
readers here still find them (an evaluation's has per-class figures, the run's has not).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ferkit.errors import DataError
from ferkit.files import FolderEntry, atomic_write
from ferkit.models.checkpoint import MODEL_FILE

EVALUATION_FILE = "evaluation.json"  # an evaluation folder's figures (`ferkit evaluate`)
REPORT_FILE = "report.html"  # an evaluation folder's report
LEGACY_METRICS_FILE = "metrics.json"  # either kind of metrics, in folders written before they had their own names
LAST_CHECKPOINT = Path("checkpoints", "last.ckpt")  # what a resumable run folder holds
CONFIG_FILE = "config.json"  # the first file a run writes


@dataclass(frozen=True)
class RunDir:
    """One run folder; its attributes name its files (`FolderEntry`), the methods read and write them."""

    path: Path

    config = FolderEntry(CONFIG_FILE)
    history = FolderEntry("history.csv")
    train_metrics = FolderEntry("train_metrics.json")
    model = FolderEntry(MODEL_FILE)
    checkpoints = FolderEntry("checkpoints")
    last_checkpoint = FolderEntry(LAST_CHECKPOINT)

    @classmethod
    def of(cls, path: str | Path) -> RunDir | None:
        """The run folder `path` is (or whose model file it is), else None."""
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        run = cls(folder)
        return run if run.history.is_file() or run.config.is_file() else None

    def read_config(self) -> dict[str, Any]:
        return read_json(self.config)

    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write(self.config, json.dumps(config, indent=2))

    def write_train_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write(self.train_metrics, json.dumps(metrics, indent=2))

    def train_metrics_file(self) -> Path | None:
        """The best-epoch metrics `ferkit train` wrote at the end of the run: `train_metrics.json`, or an older
        run's `metrics.json`; None for a run that has not ended."""
        if self.train_metrics.is_file():
            return self.train_metrics
        legacy = self.path / LEGACY_METRICS_FILE
        return legacy if legacy.is_file() and "per_class" not in read_json(legacy) else None

    def evaluation_files(self) -> list[Path]:
        """The figures of every `ferkit evaluate` of this run (its `eval-*` folders)."""
        found = (evaluation_file(folder) for folder in sorted(self.path.glob("eval-*")) if folder.is_dir())
        return [f for f in found if f is not None]

    def read_history(self) -> dict[str, np.ndarray] | None:
        """The columns of history.csv as float arrays (empty cells are NaN); None without the file.

        Raises:
            DataError: the file exists but has no `epoch` column or a cell that is not a number.
        """
        if not self.history.is_file():
            return None
        with self.history.open(newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or "epoch" not in rows[0]:
            raise DataError(f"{self.history}: expected a header with an 'epoch' column and at least one row")
        columns: dict[str, np.ndarray] = {}
        for name in rows[0]:
            try:
                columns[name] = np.array([float(r[name]) if r[name] not in ("", None) else math.nan for r in rows])
            except ValueError as exc:
                raise DataError(f"{self.history}: column '{name}' holds a value that is not a number ({exc})") from exc
        return columns


def best_epoch(val_acc: Sequence[float | None]) -> int | None:
    """The index of the best epoch: the highest validation accuracy, the earliest of equals (as for
    `ModelCheckpoint`'s best.ckpt); epochs without one (None, NaN) never count. None when no epoch has one."""
    best = None
    for i, acc in enumerate(val_acc):
        if acc is not None and not math.isnan(acc) and (best is None or acc > val_acc[best]):
            best = i
    return best


def evaluation_file(folder: Path) -> Path | None:
    """An evaluation folder's figures: `evaluation.json`, or an older evaluation's `metrics.json`."""
    if (folder / EVALUATION_FILE).is_file():
        return folder / EVALUATION_FILE
    legacy = folder / LEGACY_METRICS_FILE
    return legacy if legacy.is_file() and "per_class" in read_json(legacy) else None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file's object; {} when the file does not exist.

    Raises:
        DataError: the file is not valid JSON.
    """
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
