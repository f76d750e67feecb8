"""`ferkit compare` on two fake run folders: one evaluated, one with only its training metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferkit.apps.cli import main
from ferkit.errors import DataError
from ferkit.evaluate.compare import CompareConfig, compare_runs, load_run_summary

from .conftest import save_tiny_model, write_history, write_json


def _evaluated_run(root: Path, split: str = "val", legacy: bool = False) -> Path:
    """A run with an evaluation; `legacy` writes both metrics files under the old shared name metrics.json."""
    run = root / "cnn"
    write_history(run, [0.40, 0.55, 0.61])
    write_json(run / "config.json", {"data": "data/fer2013", "model": "cnn"})
    write_json(run / ("metrics.json" if legacy else "train_metrics.json"),
               {"val_acc": 0.61, "val_macro_f1": 0.57, "epochs_run": 3})
    write_json(run / f"eval-{split}" / ("metrics.json" if legacy else "evaluation.json"), {
        "split": split, "data": "data/fer2013", "num_params": 1_500_000, "accuracy": 0.6123, "macro_f1": 0.5871,
        "per_class": {"happy": {"recall": 0.85}, "sad": {"recall": 0.5}, "disgust": {"recall": None}},
    })
    return run


def _trained_run(root: Path, legacy: bool = False) -> Path:
    run = root / "dcnn"
    write_history(run, [0.45, 0.62, 0.66, 0.68])
    write_json(run / "config.json", {"data": "data/fer2013", "model": "test_tiny"})
    write_json(run / ("metrics.json" if legacy else "train_metrics.json"),
               {"val_acc": 0.68, "val_macro_f1": 0.64, "epochs_run": 4})
    save_tiny_model(run / "model.pt")
    return run


@pytest.mark.parametrize("legacy", [False, True], ids=["train_metrics.json + evaluation.json", "old metrics.json"])
def test_summaries(tmp_path, legacy: bool):
    evaluated = load_run_summary(_evaluated_run(tmp_path, legacy=legacy))
    assert (evaluated.accuracy, evaluated.macro_f1, evaluated.num_params) == (0.6123, 0.5871, 1_500_000)
    assert evaluated.recall == {"happy": 0.85, "sad": 0.5, "disgust": None}
    assert (evaluated.epochs, evaluated.train_time_s, evaluated.measured_on) == (3, 90.0, "fer2013 [val]")

    folder = load_run_summary(tmp_path / "cnn" / "eval-val")  # an evaluation folder names its run's parent
    assert (folder.name, folder.accuracy, folder.epochs) == ("cnn/eval-val", 0.6123, 3)

    trained = load_run_summary(_trained_run(tmp_path, legacy=legacy))
    assert (trained.accuracy, trained.macro_f1, trained.recall) == (0.68, 0.64, {})
    assert trained.epochs == 4 and trained.train_time_s == 120.0
    assert trained.num_params > 0  # counted from model.pt
    assert trained.source.endswith(("metrics.json" if legacy else "train_metrics.json") + " (best epoch)")


def test_compare_writes_table_and_figure(tmp_path):
    result = compare_runs(CompareConfig(runs=(_evaluated_run(tmp_path), _trained_run(tmp_path)),
                                        out=tmp_path / "cmp"))
    assert not result.mixed_splits
    table = result.markdown_path.read_text()
    assert "| cnn | fer2013 [val] | 0.6123 | 0.5871 | 0.8500 | 0.5000 | \u2013 | 1,500,000 | 3 | 1.5 min |" in table
    assert "| dcnn | fer2013 [val] | 0.6800 | 0.6400 |" in table
    assert "Warning" not in table
    assert result.png_path.read_bytes().startswith(b"\x89PNG")
    assert "data:image/png;base64," in result.html_path.read_text()


def test_runs_on_different_splits_are_flagged(tmp_path, capsys):
    a, b = _evaluated_run(tmp_path / "a", split="test"), _trained_run(tmp_path / "b")
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "different data, splits or TTA" in out and str(tmp_path / "cmp" / "compare.html") in out
    table = (tmp_path / "cmp" / "compare.md").read_text()
    assert "Warning: these runs were measured on different data, splits or test-time augmentation" in table


def test_a_runs_val_and_an_evaluations_publictest_of_fer2013_compare(tmp_path):
    """On FER2013 `val` is PublicTest: the same 3,589 faces, whichever name each figure was recorded under."""
    evaluated, trained = _evaluated_run(tmp_path / "a", split="PublicTest"), _trained_run(tmp_path / "b")
    result = compare_runs(CompareConfig(runs=(evaluated, trained), out=tmp_path / "cmp"))
    assert not result.mixed_splits and "Warning" not in result.markdown_path.read_text()


def test_split_option_and_missing_metrics(tmp_path):
    run = _evaluated_run(tmp_path)
    with pytest.raises(DataError, match="no evaluation of split 'test'"):
        load_run_summary(run, split="test")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is this a ferkit run directory"):
        load_run_summary(tmp_path / "empty")
    assert main(["compare", str(tmp_path / "nowhere")]) == 2


def test_run_stopped_before_its_end_is_summarised_from_its_history(tmp_path):
    run = tmp_path / "stopped"
    write_history(run, [0.40, 0.66, 0.62])  # no train_metrics.json: the run was killed before it finished
    write_json(run / "config.json", {"data": "data/fer2013", "model": "cnn"})
    summary = load_run_summary(run)
    assert (summary.accuracy, summary.epochs) == (0.66, 3)
    assert abs(summary.macro_f1 - 0.61) < 1e-9
    assert summary.source.endswith("history.csv (best epoch)")
