"""Resuming a run (`train.resume`): a run folder saved by an earlier version (flat optimiser and loss keys) still
resumes with its own values, now nested, and the resume checks run once, before the data is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ferkit.apps.cli import main
from ferkit.train.config import TrainConfig
from ferkit.train.resume import check_run_dir, resume_config

# The config.json of a FER+ fine-tuning run (the `ferplus` recipe, one epoch), as the code before the optimiser and
# loss settings were nested wrote it (flat keys); runs started then, and still running, must resume.
OLD_CONFIG = Path(__file__).parent / "fixtures" / "old_run_config.json"


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    """A folder holding only the old config.json (a run stopped before its first checkpoint), its paths moved here."""
    run = tmp_path / "run"
    run.mkdir()
    values = {**json.loads(OLD_CONFIG.read_text()), "data": str(tmp_path / "ferplus"),
              "cache_dir": str(tmp_path / "cache"), "run_dir": str(run)}
    (run / "config.json").write_text(json.dumps(values, indent=2))
    return run


def test_an_old_runs_config_resumes_with_its_own_values(old_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--resume", "--run-dir", str(old_run), "--print-config"]) == 0
    saved = json.loads((old_run / "config.json").read_text())
    added_since = {"width": None}  # options newer than the run, at their defaults
    assert json.loads(capsys.readouterr().out) == {**saved, **added_since, "resume": True}  # every key, every value
    cfg = resume_config(old_run, {})
    assert (cfg.optim.optimizer, cfg.optim.lr, cfg.optim.scheduler, cfg.optim.epochs) == ("sgd", 0.01, "onecycle", 1)
    assert (cfg.loss.label_smoothing, cfg.loss.class_weighting, cfg.loss.distill_weight) == (0.0, "none", 0.5)
    check_run_dir(cfg)  # its own options: nothing to refuse


def test_the_resume_checks_run_once_before_the_data_is_read(old_run: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    calls = []
    check = TrainConfig.resume_conflicts
    monkeypatch.setattr(TrainConfig, "resume_conflicts", lambda self, saved: calls.append(1) or check(self, saved))
    assert main(["train", "--resume", "--run-dir", str(old_run), "--no-progress"]) == 2
    assert "ferplus" in capsys.readouterr().err  # checked, then refused for its data (not here), nothing else
    assert len(calls) == 1
    assert sorted(p.name for p in old_run.iterdir()) == ["config.json"]
