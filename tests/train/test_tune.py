"""Hyperparameter search on synthetic faces: the study folder describes every trial, the best trial is the
best completed one and retrains from best.json, pruned trials stop after their first epoch, and the CLI
runs and resumes a study."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import optuna
import pytest

from ferkit.apps.cli import main
from ferkit.errors import ConfigError
from ferkit.train.augment import AugmentConfig
from ferkit.train.config import TrainConfig
from ferkit.train.optim import OptimConfig
from ferkit.train.run import train
from ferkit.train.tune import TuneConfig, load_best_config, prune_warmup_epochs, trial_train_config, tune


def _cfg(data: Path, study_dir: Path, **kw) -> TuneConfig:
    base = TuneConfig(data=data, study_dir=study_dir, model="test_tiny", accelerator="cpu", n_trials=3, epochs=2,
                      lr_range=(5e-3, 2e-2), batch_sizes=(32, 64), weight_decay_range=(1e-5, 1e-3))
    return dataclasses.replace(base, **kw)


def _trials(study_dir: Path) -> list[dict[str, str]]:
    with (study_dir / "trials.csv").open() as f:
        return list(csv.DictReader(f))


def test_search_writes_study_and_best_trial_retrains(synthetic_npz: Path, tmp_path: Path) -> None:
    study_dir = tmp_path / "study"
    result = tune(_cfg(synthetic_npz, study_dir))  # 3 trials, all start-up trials: none pruned

    assert (study_dir / "study.db").is_file()
    rows = _trials(study_dir)
    assert [r["state"] for r in rows] == ["COMPLETE"] * 3
    run_accs = [json.loads((Path(r["run_dir"]) / "train_metrics.json").read_text())["val_acc"] for r in rows]
    assert [float(r["val_acc"]) for r in rows] == pytest.approx(run_accs)

    best = json.loads((study_dir / "best.json").read_text())
    assert best["val_acc"] == pytest.approx(max(run_accs)) == pytest.approx(result.best_val_acc)
    assert "val=stratified 10% of faces.npz" in best["val_split"]
    assert best["params"] == result.best_params
    lines = result.summary_path.read_text().splitlines()
    first_row = lines[next(i for i, line in enumerate(lines) if line.startswith("|---")) + 1]
    assert first_row.startswith(f"| {best['trial']} | COMPLETE |")  # sorted by val_acc, best first

    cfg = load_best_config(study_dir)
    assert cfg == result.best_config
    assert (cfg.optim.lr, cfg.batch_size, cfg.optim.weight_decay) == (
        best["params"]["lr"], best["params"]["batch_size"], best["params"]["weight_decay"])
    again = train(dataclasses.replace(cfg, run_dir=tmp_path / "retrain", epochs=1))
    assert again.metrics["epochs_run"] == 1


def test_pruned_trials_stop_after_their_first_epoch(synthetic_npz: Path, tmp_path: Path) -> None:
    always = optuna.pruners.ThresholdPruner(upper=-1.0)  # every val_acc is above -1: prune at the first report
    result = tune(_cfg(synthetic_npz, tmp_path / "study", n_trials=2, epochs=3), pruner=always)

    rows = _trials(result.study_dir)
    assert [(r["state"], r["epochs_run"], r["pruned_at_epoch"]) for r in rows] == [("PRUNED", "1", "1")] * 2
    for r in rows:
        with (Path(r["run_dir"]) / "history.csv").open() as f:
            assert len(list(csv.DictReader(f))) == 1
    assert result.counts == {"COMPLETE": 0, "PRUNED": 2, "FAIL": 0}
    assert result.best_config is None and not (result.study_dir / "best.json").exists()
    assert "2 pruned" in result.summary_path.read_text()


def test_cli_runs_and_resumes_an_interrupted_study(synthetic_npz: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    study_dir = tmp_path / "study"
    common = ["tune", "--data", str(synthetic_npz), "--model", "test_tiny", "--accelerator", "cpu", "--epochs", "1",
              "--study-dir", str(study_dir), "--cache-dir", str(tmp_path / "cache")]
    assert main([*common, "--n-trials", "1"]) == 0
    out = capsys.readouterr().out
    assert "best val_acc=" in out and f"summary: {study_dir / 'summary.md'}" in out

    assert main([*common, "--n-trials", "2"]) == 2  # the study dir is taken: never overwritten
    assert "not empty" in capsys.readouterr().err
    # A search killed mid-trial leaves that trial RUNNING: resuming marks it FAIL and retries its parameters.
    study = optuna.load_study(study_name="tune", storage=f"sqlite:///{study_dir / 'study.db'}")
    killed = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
    assert main([*common, "--n-trials", "2", "--resume"]) == 0
    rows = _trials(study_dir)
    assert [(r["trial"], r["state"]) for r in rows] == [("0", "COMPLETE"), ("1", "FAIL"), ("2", "COMPLETE")]
    assert float(rows[2]["lr"]) == pytest.approx(killed.params["lr"])


def test_aug_strength_scales_every_magnitude_and_caps_erasing() -> None:
    base = TrainConfig(augment=AugmentConfig(flip=0.5, rotate=10.0, scale=0.1, shift=0.1, brightness=0.2,
                                             contrast=0.2, erase=0.8, mixup=0.2))
    params = {"lr": 0.01, "batch_size": 32, "weight_decay": 1e-4, "aug_strength": 1.5}
    cfg = trial_train_config(base, params, Path("trial"))
    aug = cfg.augment
    assert (aug.rotate, aug.scale, aug.shift) == pytest.approx((15.0, 0.15, 0.15))
    assert (aug.brightness, aug.contrast, aug.erase) == pytest.approx((0.3, 0.3, 1.0))
    assert (aug.flip, aug.mixup) == (0.5, 0.2)
    assert (cfg.optim.lr, cfg.batch_size, cfg.optim.weight_decay, cfg.run_dir) == (0.01, 32, 1e-4, Path("trial"))


@pytest.mark.parametrize("bad", [{"lr_range": (0.0, 0.1)}, {"weight_decay_range": (1e-3,)},
                                 {"aug_strength_range": (1.0, 0.5)}, {"batch_sizes": ()}, {"n_trials": 0}])
def test_bad_search_space_is_a_config_error(bad: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        TuneConfig(**bad)


def test_pruning_waits_one_epoch_past_the_recipes_lr_warmup() -> None:
    base = TrainConfig(optim=OptimConfig(warmup_epochs=3))
    assert prune_warmup_epochs(TuneConfig(), base) == 4
    assert prune_warmup_epochs(TuneConfig(), TrainConfig(optim=OptimConfig(warmup_epochs=0))) == 2
    assert prune_warmup_epochs(TuneConfig(prune_warmup_epochs=1), base) == 1
