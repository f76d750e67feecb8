"""A run's folder, new or resumed, and the checks that keep a resume from changing or damaging the run.

`train` calls each once, in this order: `check_run_dir` before the data is read (a folder the run cannot go to,
or a resume that changes what the run trains, fails before anything slow or anything written), `create_run_dir`
once the data is read (so data that is refused leaves no folder), and `open_run` once the model is built (a
resumed run's last checkpoint must fit it; a new run records its config, its first write).

`resume_config` is how the command line gets a resumed run's config: the run's saved config.json with the options
given over it, which `check_run_dir` then checks as it checks a config a library caller built.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only

from ferkit.config_fields import from_flat, to_flat
from ferkit.errors import ConfigError
from ferkit.files import check_output_dir, prepare_output_dir
from ferkit.train.config import TrainConfig
from ferkit.train.rundir import CONFIG_FILE, LAST_CHECKPOINT, RunDir

log = logging.getLogger(__name__)


def resume_config(run_dir: Path, given: dict[str, Any]) -> TrainConfig:
    """The config to continue the run in `run_dir` with: its saved config.json, with `given` (the options the user
    set, by flat name) over it; `check_run_dir` refuses any that a resumed run may not change.

    Raises:
        ConfigError: the run has no readable config.json.
    """
    changes = {k: v for k, v in given.items() if k not in ("run_dir", "resume")}
    wanted = from_flat(TrainConfig, {**to_flat(_saved_config(run_dir)), **changes})
    return replace(wanted, run_dir=run_dir, resume=True)


def check_run_dir(cfg: TrainConfig) -> None:
    """Refuse the run folder `cfg` names before anything is read or written: a new run's must be new or empty;
    a resumed run's must hold a run, and `cfg` may change only where and how it runs (`TrainConfig.resume_conflicts`;
    each other option is named with the value the run was started with). Under DDP only global rank 0 looks
    at the folder.

    Raises:
        ConfigError: as `files.check_output_dir`, the run's config.json cannot be read, or `cfg` changes the run.
    """
    if rank_zero_only.rank == 0:
        check_output_dir(cfg.run_dir, cfg.resume, str(LAST_CHECKPOINT), "--run-dir", started=CONFIG_FILE)
    if not cfg.resume:
        return
    run_dir = Path(cfg.run_dir)
    saved = _saved_config(run_dir)
    conflicts = cfg.resume_conflicts(saved)
    if conflicts:
        run_values, given = to_flat(saved), to_flat(cfg)
        named = ", ".join(f"--{name.replace('_', '-')} (run: {run_values[name]}, given: {given[name]})"
                          for name in conflicts)
        raise ConfigError(f"--resume: {run_dir} was started with other options; a resumed run keeps its model, "
                          f"data and schedule. Drop or match: {named}")


def _saved_config(run_dir: Path) -> TrainConfig:
    path = RunDir(run_dir).config
    try:
        return TrainConfig.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"--resume: {path}: cannot read the run's config ({exc})") from exc


def create_run_dir(cfg: TrainConfig) -> RunDir:
    """The run's folder: --run-dir as given (`check_run_dir` has checked it), else runs/train/<time>-<model>,
    numbered up so an earlier run is never overwritten. Under DDP only global rank 0 creates it."""
    if rank_zero_only.rank > 0:
        if cfg.run_dir is None:
            raise ConfigError("multi-process training needs --run-dir (every process must write to the same run)")
        Path(cfg.run_dir).mkdir(parents=True, exist_ok=True)
        return RunDir(Path(cfg.run_dir))
    return RunDir(prepare_output_dir(cfg.run_dir, cfg.resume, str(LAST_CHECKPOINT), "runs/train", cfg.model,
                                     "--run-dir", started=CONFIG_FILE))


def open_run(cfg: TrainConfig, run: RunDir, module: L.LightningModule) -> None:
    """Check that a resumed run's last checkpoint fits `module`, or record a new run's config: the run's first
    write, so a refused checkpoint leaves the folder as it was.

    Raises:
        ConfigError: the last checkpoint is truncated, not a checkpoint, or holds weights of another model.
    """
    if not cfg.resume:
        if rank_zero_only.rank == 0:
            run.write_config(cfg.to_dict())
        return
    try:
        state = torch.load(run.last_checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    except Exception as exc:  # a damaged file raises pickle, zip, EOF or key errors
        raise ConfigError(f"--resume: {run.last_checkpoint}: not a readable checkpoint ({exc.__class__.__name__}: "
                          f"{exc}); it may be truncated: start a new run, or restore the file") from exc
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    if {k: tuple(v.shape) for k, v in state.items()} != expected:
        raise ConfigError(f"--resume: {run.last_checkpoint}: its weights do not fit the run's model")
    log.info("resuming %s from %s", run.path, run.last_checkpoint)
