"""Run directories: finding the one a model file belongs to, reading its history.csv, and picking a fresh
output folder so that no earlier report is ever overwritten."""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path

import numpy as np

from ferkit.errors import DataError
from ferkit.train.checkpoint import HISTORY_FILE, RUN_CONFIG_FILE

log = logging.getLogger(__name__)


def find_run_dir(checkpoint: Path) -> Path | None:
    """The run directory of `checkpoint` (a run directory itself, or a model file inside one), else None."""
    checkpoint = Path(checkpoint)
    folder = checkpoint if checkpoint.is_dir() else checkpoint.parent
    return folder if any((folder / name).is_file() for name in (HISTORY_FILE, RUN_CONFIG_FILE)) else None


def load_history(run_dir: Path) -> dict[str, np.ndarray] | None:
    """The columns of `run_dir/history.csv` as float arrays (empty cells are NaN); None without the file.

    Raises:
        DataError: the file exists but has no `epoch` column or a cell that is not a number.
    """
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return None
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "epoch" not in rows[0]:
        raise DataError(f"{path}: expected a header with an 'epoch' column and at least one row")
    columns: dict[str, np.ndarray] = {}
    for name in rows[0]:
        try:
            columns[name] = np.array([float(r[name]) if r[name] not in ("", None) else math.nan for r in rows])
        except ValueError as exc:
            raise DataError(f"{path}: column '{name}' holds a value that is not a number ({exc})") from exc
    return columns


def free_dir(out_dir: Path, markers: tuple[str, ...]) -> Path:
    """`out_dir`, or `out_dir-2`, `-3`, ... when it already holds one of the `markers` files."""
    out_dir = Path(out_dir)
    candidate, n = out_dir, 1
    while any((candidate / name).exists() for name in markers):
        n += 1
        candidate = out_dir.with_name(f"{out_dir.name}-{n}")
    if candidate != out_dir:
        log.info("%s already holds a report; writing to %s", out_dir, candidate)
    return candidate
