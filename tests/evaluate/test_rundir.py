"""Run directories: finding them, reading history.csv, and never overwriting an earlier report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ferkit.errors import DataError
from ferkit.evaluate.rundir import find_run_dir, free_dir, load_history

from .conftest import save_tiny_model, write_history


def test_history_columns_are_floats_with_nan_for_empty_cells(tmp_path):
    write_history(tmp_path, [0.3, 0.45])
    history = load_history(tmp_path)
    np.testing.assert_array_equal(history["epoch"], [1, 2])
    np.testing.assert_allclose(history["val_acc"], [0.3, 0.45])
    assert all(math.isnan(v) for v in history["train_acc"])


def test_missing_and_malformed_history(tmp_path):
    assert load_history(tmp_path) is None
    (tmp_path / "history.csv").write_text("epoch,val_acc\n1,abc\n")
    with pytest.raises(DataError, match=r"history.csv: column 'val_acc'"):
        load_history(tmp_path)
    (tmp_path / "history.csv").write_text("step,val_acc\n1,0.5\n")
    with pytest.raises(DataError, match="'epoch' column"):
        load_history(tmp_path)


def test_find_run_dir(tmp_path):
    loose = save_tiny_model(tmp_path / "loose" / "model.pt")
    assert find_run_dir(loose) is None
    run = tmp_path / "run"
    model = save_tiny_model(run / "model.pt")
    write_history(run, [0.5])
    assert find_run_dir(model) == run
    assert find_run_dir(run) == run


def test_free_dir_numbers_up(tmp_path):
    out = tmp_path / "eval-val"
    assert free_dir(out, ("metrics.json",)) == out  # does not exist yet
    out.mkdir()
    assert free_dir(out, ("metrics.json",)) == out  # exists but holds no report
    (out / "metrics.json").write_text("{}")
    (tmp_path / "eval-val-2").mkdir()
    (tmp_path / "eval-val-2" / "metrics.json").write_text("{}")
    assert free_dir(out, ("metrics.json",)) == tmp_path / "eval-val-3"
