"""What a training run prints: each line once, through ferkit's logging, no Lightning chatter, the progress bar
counting epochs as the log does, and the number of faces really trained on."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from ferkit.config_fields import from_flat
from ferkit.train.config import TrainConfig
from ferkit.train.console import progress_bar, quiet_lightning
from ferkit.train.run import train


def test_lightning_logs_once_through_ferkits_handlers_without_its_chatter(caplog: pytest.LogCaptureFixture,
                                                                         capsys: pytest.CaptureFixture[str]):
    quiet_lightning()
    assert not logging.getLogger("lightning.pytorch").handlers and logging.getLogger("lightning.pytorch").propagate
    from lightning.pytorch.utilities.rank_zero import rank_zero_info

    with caplog.at_level(logging.INFO):
        rank_zero_info("GPU available: False, used: False")
        logging.getLogger("lightning.pytorch.trainer").warning("a warning worth reading")
    assert "GPU available" not in caplog.text
    assert [r.getMessage() for r in caplog.records] == ["a warning worth reading"]  # once, through the root
    assert "a warning worth reading" not in capsys.readouterr().err  # no handler of Lightning's own printed it


def test_the_progress_bar_counts_epochs_from_one_of_n():
    bar = progress_bar()

    class Trainer:
        max_epochs = 3

    bar._trainer = Trainer()  # what Lightning sets when the bar is attached
    assert bar._get_train_description(0).strip() == "Epoch 1/3"


def test_a_limited_run_names_the_faces_it_trained_on_and_stores_its_data_path_absolute(
        synthetic_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from ferkit.apps.cli import main

    monkeypatch.chdir(synthetic_npz.parent)
    assert main(["train", "--data", synthetic_npz.name, "--model", "test_tiny", "--epochs", "1", "--limit", "60",
                 "--accelerator", "cpu", "--no-progress", "--run-dir", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "train_metrics.json").read_text())
    assert metrics["train_faces"] == 60 and re.search(r"\(60 of [0-9,]+, --limit\)", metrics["val_split"])
    assert f'"data": "{synthetic_npz.resolve()}"' in (tmp_path / "run" / "config.json").read_text()


def test_a_run_killed_in_its_first_epoch_resumes_from_the_beginning(synthetic_npz: Path, tmp_path: Path):
    cfg = from_flat(TrainConfig, {"data": synthetic_npz, "model": "test_tiny", "epochs": 1, "batch_size": 32,
                                  "accelerator": "cpu", "run_dir": tmp_path / "run", "progress": False})
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(cfg.to_dict()))  # what a kill in epoch 1 leaves
    result = train(replace(cfg, resume=True))
    assert result.metrics["epochs_run"] == 1 and (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
