"""`tune(cfg)`: hyperparameter search over `train()` with Optuna, pruning trials that fall behind.

Each trial is one short training run of a recipe with four settings drawn from the search space:
learning rate, batch size, weight decay and one augmentation strength that scales all of the recipe's
geometric and photometric augmentations together. Trials are ranked by their best validation accuracy
(the data set's validation split, for FER2013 PublicTest; never a test split). A study folder holds:

    study.db       the Optuna study (SQLite), so `resume=True` continues an interrupted search
    trials/NNN/    each trial's run folder (`RunDir`: config.json, history.csv, train_metrics.json, model.pt)
    trials.csv     one row per trial: state, val_acc, epochs run, pruned-at epoch, parameters
    best.json      the best trial: parameters, val accuracy and split, the full TrainConfig it trained with
    summary.md     the trials as a table, best first, with parameter importances
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import lightning as L
import optuna
from optuna.trial import FrozenTrial, TrialState

from ferkit.config_fields import check_bounds, flat_fields, from_flat, option
from ferkit.errors import ConfigError
from ferkit.files import prepare_output_dir
from ferkit.train.config import TrainConfig
from ferkit.train.recipes import get_recipe
from ferkit.train.run import train
from ferkit.train.rundir import RunDir

log = logging.getLogger(__name__)

STUDY_DB = "study.db"
STUDY_NAME = "tune"  # one study per study.db; a fixed name keeps a moved or renamed study folder resumable
TRIALS_CSV = "trials.csv"
BEST_JSON = "best.json"
SUMMARY_MD = "summary.md"
PARAMS = ("lr", "batch_size", "weight_decay", "aug_strength")
TRIAL_COLUMNS = ("trial", "state", "val_acc", "epochs_run", "pruned_at_epoch", *PARAMS, "duration_s", "run_dir")
# TrainConfig fields a search hands to every trial
_PASSED = ("data", "classes", "cache_dir", "limit", "model", "accelerator", "precision")

_TRAIN_FIELDS = {leaf.name: leaf.field for leaf in flat_fields(TrainConfig)}


def _passed(name: str) -> Any:
    """A TrainConfig option handed to every trial; unset, the trial keeps the recipe's (or TrainConfig's) value."""
    return option(None, f"{_TRAIN_FIELDS[name].metadata['help']}; unset: the recipe's or `ferkit train`'s default")


@dataclass(frozen=True)
class TuneConfig:
    """One hyperparameter search: what to train, the search space, and how many trials for how long."""

    recipe: str | None = option(None, "recipe every trial starts from (see `ferkit train --recipe`); unset: defaults")
    n_trials: int = option(20, "finished trials the study should hold (a resumed study counts its earlier ones)")
    timeout_s: float = option(0.0, "stop starting new trials after this many seconds (0 = no limit)", "[0, inf)")
    epochs: int = option(10, "epochs per trial (short runs rank settings; retrain the best with the recipe's epochs)")
    study_dir: Path | None = option(None, "output folder (default: runs/tune/<time>-<model>; never overwritten)")
    resume: bool = option(False, "continue the study in --study-dir; trials a crash left running are retried")
    seed: int = option(0, "seed of the sampler and of every trial's training")
    # search space
    lr_range: tuple[float, ...] = option((1e-4, 1e-1), "learning-rate range, sampled log-uniformly")
    batch_sizes: tuple[int, ...] = option((32, 64, 128), "batch sizes to choose from")
    weight_decay_range: tuple[float, ...] = option((1e-5, 1e-1), "weight-decay range, sampled log-uniformly")
    aug_strength_range: tuple[float, ...] = option(
        (0.0, 1.5), "range of the factor on the recipe's rotation, scale, shift, brightness, contrast and erasing")
    # pruning (Optuna's MedianPruner on each epoch's val_acc)
    prune_startup_trials: int = option(3, "trials that always run to the end before any is pruned", "[0, inf)")
    prune_warmup_epochs: int | None = option(
        None, "epochs every trial runs before it can be pruned (unset: the recipe's LR warm-up + 1, at least 2)",
        "[0, inf)")
    # passed through to every trial
    data: Path | None = _passed("data")
    classes: tuple[str, ...] | None = _passed("classes")
    cache_dir: Path | None = _passed("cache_dir")
    limit: int | None = _passed("limit")
    model: str | None = _passed("model")
    accelerator: Literal["auto", "cpu", "cuda", "gpu", "mps"] | None = _passed("accelerator")
    precision: Literal["auto", "32", "bf16-mixed", "16-mixed"] | None = _passed("precision")

    def __post_init__(self) -> None:
        check_bounds(self)
        for name, log_scale in (("lr_range", True), ("weight_decay_range", True), ("aug_strength_range", False)):
            low_high = getattr(self, name)
            if len(low_high) != 2 or low_high[0] < 0 or low_high[0] > low_high[1] or (log_scale and low_high[0] == 0):
                bound = "0 < low <= high" if log_scale else "0 <= low <= high"
                raise ConfigError(f"{name}: expected two numbers low,high with {bound}, got {low_high}")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ConfigError(f"batch_sizes must be positive integers, got {self.batch_sizes}")
        for name in ("n_trials", "epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class TuneResult:
    study_dir: Path
    summary_path: Path
    counts: dict[str, int]  # finished trials by state: COMPLETE, PRUNED, FAIL
    best_val_acc: float | None  # None when no trial completed
    best_params: dict[str, Any]
    best_config: TrainConfig | None


class ReportToTrial(L.Callback):
    """Reports each epoch's val_acc to an Optuna trial and ends the run with `optuna.TrialPruned` when the
    pruner says the trial is behind (what optuna-integration's Lightning callback does, without the package)."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or "val_acc" not in trainer.callback_metrics:
            return
        epoch = trainer.current_epoch + 1
        self.trial.report(float(trainer.callback_metrics["val_acc"]), step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch}")


def base_train_config(cfg: TuneConfig) -> TrainConfig:
    """The TrainConfig every trial starts from: TrainConfig defaults < recipe < the pass-through fields.
    One trial uses one device, so trials never spawn DDP workers."""
    values = get_recipe(cfg.recipe) if cfg.recipe else {}
    values.update({name: getattr(cfg, name) for name in _PASSED if getattr(cfg, name) is not None})
    values.update(epochs=cfg.epochs, seed=cfg.seed, devices="1", progress=False)
    return from_flat(TrainConfig, values)


def trial_train_config(base: TrainConfig, params: dict[str, Any], run_dir: Path) -> TrainConfig:
    """`base` with one trial's parameters; `aug_strength` scales every augmentation magnitude of the base
    (flip and mixup/cutmix stay as they are; erasing is a probability, so it is capped at 1)."""
    optim = dataclasses.replace(base.optim, lr=params["lr"], weight_decay=params["weight_decay"])
    return dataclasses.replace(base, optim=optim, batch_size=params["batch_size"],
                               augment=base.augment.scaled(params["aug_strength"]), run_dir=run_dir)


def prune_warmup_epochs(cfg: TuneConfig, base: TrainConfig) -> int:
    """Epochs before pruning may stop a trial. By default one past the LR warm-up: during warm-up trials differ
    more in how fast they warm up than in where they end (docs/TUNING.md, trials 6 and 10 of our search)."""
    if cfg.prune_warmup_epochs is not None:
        return cfg.prune_warmup_epochs
    return max(2, base.optim.warmup_epochs + 1)


def _suggest(trial: optuna.Trial, cfg: TuneConfig) -> dict[str, Any]:
    return {
        "lr": trial.suggest_float("lr", *cfg.lr_range, log=True),
        "batch_size": trial.suggest_categorical("batch_size", list(cfg.batch_sizes)),
        "weight_decay": trial.suggest_float("weight_decay", *cfg.weight_decay_range, log=True),
        "aug_strength": trial.suggest_float("aug_strength", *cfg.aug_strength_range),
    }


def create_study_dir(cfg: TuneConfig, model: str) -> Path:
    """--study-dir as given (new, or holding a study when resuming), else runs/tune/<time>-<model>, numbered up
    so an earlier study is never overwritten."""
    return prepare_output_dir(cfg.study_dir, cfg.resume, STUDY_DB, "runs/tune", model, "--study-dir")


def _open_study(cfg: TuneConfig, study_dir: Path, pruner: optuna.pruners.BasePruner) -> optuna.Study:
    """Create (or load, when resuming) the SQLite-backed study. A resumed study's sampler is seeded past the
    trials it already holds, so it does not replay their random start-up points; trials a killed process
    left RUNNING are marked FAIL and their parameters queued again."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{(study_dir / STUDY_DB).resolve()}")
    earlier = storage.get_all_trials(storage.get_study_id_from_name(STUDY_NAME)) if cfg.resume else []
    study = optuna.create_study(
        storage=storage, study_name=STUDY_NAME, direction="maximize", load_if_exists=cfg.resume,
        sampler=optuna.samplers.TPESampler(seed=cfg.seed + len(earlier)),
        pruner=pruner)
    for trial in earlier:
        if trial.state == TrialState.RUNNING:
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            study.enqueue_trial(trial.params)
            log.info("trial %d was left running by an interrupted search: marked FAIL, its parameters queued",
                     trial.number)
    return study


def _objective(cfg: TuneConfig, base: TrainConfig, study_dir: Path):
    def objective(trial: optuna.Trial) -> float:
        run_dir = study_dir / "trials" / f"{trial.number:03d}"
        train_cfg = trial_train_config(base, _suggest(trial, cfg), run_dir)
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("train_config", train_cfg.to_dict())
        try:
            result = train(train_cfg, callbacks=[ReportToTrial(trial)])
        finally:
            shutil.rmtree(RunDir(run_dir).checkpoints, ignore_errors=True)  # resume checkpoints: not needed, large
        trial.set_user_attr("val_split", result.metrics["val_split"])
        return float(result.metrics["val_acc"])

    return objective


def _best_seen(trial: FrozenTrial) -> float | None:
    """A trial's best epoch val_acc: its value when complete, the best reported epoch when pruned."""
    if trial.state == TrialState.COMPLETE:
        return trial.value
    return max(trial.intermediate_values.values(), default=None)


def _log_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    params = " ".join(f"{k}={v:.4g}" for k, v in trial.params.items())
    acc = _best_seen(trial)
    if trial.state == TrialState.PRUNED:
        log.info("trial %d pruned after epoch %d (best val_acc %.4f) %s", trial.number,
                 max(trial.intermediate_values), acc, params)
    elif trial.state == TrialState.COMPLETE:
        log.info("trial %d done: val_acc=%.4f (best so far %.4f) %s", trial.number, acc, study.best_value, params)
    else:
        log.info("trial %d %s %s", trial.number, trial.state.name, params)


def tune(cfg: TuneConfig, pruner: optuna.pruners.BasePruner | None = None) -> TuneResult:
    """Run (or resume) a search as `cfg` says and write trials.csv, best.json and summary.md.

    Args:
        cfg: the search.
        pruner: replaces the MedianPruner that `cfg` describes (tests use one that always prunes).

    Example:
        >>> tune(TuneConfig(recipe="small", n_trials=20, epochs=10, data=Path("../shared/data/fer2013")))
    """
    base = base_train_config(cfg)
    study_dir = create_study_dir(cfg, base.model)
    warmup = prune_warmup_epochs(cfg, base)
    pruner = pruner or optuna.pruners.MedianPruner(n_startup_trials=cfg.prune_startup_trials,
                                                   n_warmup_steps=warmup)
    study = _open_study(cfg, study_dir, pruner)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    remaining = cfg.n_trials - len(study.get_trials(states=finished))
    log.info("study %s: %d trial(s) to run, %d epochs each, model %s, first pruning check after epoch %d", study_dir,
             max(remaining, 0), cfg.epochs, base.model, warmup)
    if remaining > 0:
        study.optimize(_objective(cfg, base, study_dir), n_trials=remaining, timeout=cfg.timeout_s or None,
                       callbacks=[_log_trial])
    return write_study_report(study, cfg, study_dir)


def write_study_report(study: optuna.Study, cfg: TuneConfig, study_dir: Path) -> TuneResult:
    """trials.csv, best.json (when a trial completed) and summary.md from the study's trials."""
    trials = [t for t in study.trials if t.state != TrialState.RUNNING]
    _write_trials_csv(trials, study_dir / TRIALS_CSV)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value) if complete else None
    if best is not None:
        (study_dir / BEST_JSON).write_text(json.dumps({
            "trial": best.number,
            "val_acc": best.value,
            "val_split": best.user_attrs["val_split"],
            "params": best.params,
            "run_dir": best.user_attrs["run_dir"],
            "train_config": best.user_attrs["train_config"],
        }, indent=2))
    summary = study_dir / SUMMARY_MD
    summary.write_text(_summary_markdown(study, cfg, study_dir, trials, best))
    counts = {s.name: sum(t.state == s for t in trials) for s in (TrialState.COMPLETE, TrialState.PRUNED,
                                                                  TrialState.FAIL)}
    return TuneResult(study_dir=study_dir, summary_path=summary, counts=counts,
                      best_val_acc=best.value if best else None, best_params=best.params if best else {},
                      best_config=TrainConfig.from_dict(best.user_attrs["train_config"]) if best else None)


def _trial_row(t: FrozenTrial) -> dict[str, Any]:
    return {
        "trial": t.number,
        "state": t.state.name,
        "val_acc": _best_seen(t),
        "epochs_run": len(t.intermediate_values),
        "pruned_at_epoch": max(t.intermediate_values) if t.state == TrialState.PRUNED else None,
        **{p: t.params.get(p) for p in PARAMS},
        "duration_s": round(t.duration.total_seconds(), 1) if t.duration else None,
        "run_dir": t.user_attrs.get("run_dir"),
    }


def _write_trials_csv(trials: list[FrozenTrial], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=TRIAL_COLUMNS)
        writer.writeheader()
        writer.writerows(_trial_row(t) for t in trials)


def _importances(study: optuna.Study, n_complete: int) -> dict[str, float]:
    """fANOVA importances of the parameters for val_acc; empty below 3 complete trials or when they cannot be
    estimated (e.g. every complete trial drew the same values)."""
    if n_complete < 3:
        return {}
    try:
        return optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as exc:
        log.warning("parameter importances not computed: %s", exc)
        return {}


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _summary_markdown(study: optuna.Study, cfg: TuneConfig, study_dir: Path, trials: list[FrozenTrial],
                      best: FrozenTrial | None) -> str:
    rows = sorted((_trial_row(t) for t in trials), key=lambda r: -1.0 if r["val_acc"] is None else -r["val_acc"])
    n_complete = sum(t.state == TrialState.COMPLETE for t in trials)
    states = ", ".join(f"{sum(t.state == s for t in trials)} {s.name.lower()}"
                       for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))
    lines = [f"# Tuning study {study_dir.name}", "",
             f"Recipe {cfg.recipe or '(none)'}, {cfg.epochs} epochs per trial, {len(trials)} trials ({states}).",
             "Trials are ranked by their best epoch's validation accuracy."]
    if best is not None:
        lines += [f"Validation split: {best.user_attrs['val_split']}.", "",
                  f"Best: trial {best.number}, val_acc {best.value:.4f}, "
                  + ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items()) + f" (see {BEST_JSON})."]
    columns = TRIAL_COLUMNS[:-2]
    lines += ["", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in columns) + " |" for r in rows]
    importances = _importances(study, n_complete)
    if importances:
        lines += ["", "Parameter importance (fANOVA over complete trials):", ""]
        lines += [f"- {name}: {value:.2f}" for name, value in importances.items()]
    return "\n".join(lines) + "\n"


def load_best_config(study_dir: Path) -> TrainConfig:
    """The full TrainConfig of a study's best trial, from its best.json (to retrain it longer, or elsewhere)."""
    path = Path(study_dir) / BEST_JSON
    if not path.is_file():
        raise ConfigError(f"{path} does not exist (no trial of the study completed, or not a study folder)")
    return TrainConfig.from_dict(json.loads(path.read_text())["train_config"])
