"""Run folders: finding them, reading history.csv, choosing the best epoch, the training and evaluation
metrics under their own names (and the shared metrics.json of older runs), and never overwriting an earlier
report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ferkit.errors import DataError
from ferkit.files import free_dir
from ferkit.models import create_model
from ferkit.models.checkpoint import save_model
from ferkit.models.meta import ModelMeta
from ferkit.train.callbacks import HISTORY_COLUMNS
from ferkit.train.rundir import RunDir, best_epoch


def _history(run, accs):
    run.path.mkdir(parents=True, exist_ok=True)
    rows = [",".join(str(i + 1) if c == "epoch" else str(a) if c == "val_acc" else "" for c in HISTORY_COLUMNS)
            for i, a in enumerate(accs)]
    run.history.write_text(",".join(HISTORY_COLUMNS) + "\n" + "\n".join(rows) + "\n")


def test_the_best_epoch_is_the_earliest_of_the_most_accurate_and_skips_unvalidated_ones():
    assert best_epoch([0.3, None, 0.5, math.nan, 0.5, 0.4]) == 2
    assert best_epoch([None, math.nan]) is None and best_epoch([]) is None


def test_history_columns_are_floats_with_nan_for_empty_cells(tmp_path):
    run = RunDir(tmp_path)
    _history(run, [0.3, 0.45])
    history = run.read_history()
    np.testing.assert_array_equal(history["epoch"], [1, 2])
    np.testing.assert_allclose(history["val_acc"], [0.3, 0.45])
    assert all(math.isnan(v) for v in history["train_acc"])


def test_missing_and_malformed_history(tmp_path):
    run = RunDir(tmp_path)
    assert run.read_history() is None
    run.history.write_text("epoch,val_acc\n1,abc\n")
    with pytest.raises(DataError, match=r"history.csv: column 'val_acc'"):
        run.read_history()
    run.history.write_text("step,val_acc\n1,0.5\n")
    with pytest.raises(DataError, match="'epoch' column"):
        run.read_history()


def test_a_run_is_found_from_its_folder_or_its_model_file(tmp_path):
    model = create_model("test_tiny")
    loose = save_model(tmp_path / "loose" / "model.pt", model, ModelMeta("test_tiny", model.model_args, ("a",) * 7))
    assert RunDir.of(loose) is None
    run = RunDir(tmp_path / "run")
    save_model(run.model, model, ModelMeta("test_tiny", model.model_args, ("a",) * 7))
    _history(run, [0.5])
    assert RunDir.of(run.model) == run and RunDir.of(run.path) == run


@pytest.mark.parametrize("legacy", [False, True], ids=["own names", "older runs' metrics.json"])
def test_training_and_evaluation_metrics_are_told_apart(tmp_path, legacy):
    run = RunDir(tmp_path)
    trained = tmp_path / ("metrics.json" if legacy else "train_metrics.json")
    trained.write_text(json.dumps({"val_acc": 0.6}))
    (tmp_path / "eval-val").mkdir()
    evaluation = tmp_path / "eval-val" / ("metrics.json" if legacy else "evaluation.json")
    evaluation.write_text(json.dumps({"accuracy": 0.61, "per_class": {}}))
    (tmp_path / "eval-empty").mkdir()
    assert run.train_metrics_file() == trained and run.evaluation_files() == [evaluation]


def test_free_dir_numbers_up(tmp_path):
    out = tmp_path / "eval-val"
    assert free_dir(out, ("evaluation.json",)) == out  # does not exist yet
    out.mkdir()
    assert free_dir(out, ("evaluation.json",)) == out  # exists but holds no report
    (out / "evaluation.json").write_text("{}")
    (tmp_path / "eval-val-2").mkdir()
    (tmp_path / "eval-val-2" / "evaluation.json").write_text("{}")
    assert free_dir(out, ("evaluation.json",)) == tmp_path / "eval-val-3"
