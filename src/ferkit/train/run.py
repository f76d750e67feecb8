"""`train(cfg)`: one reproducible, resumable run, as a few named steps: prepare the data, build the model,
feed it (teacher, views, augmentation), build the trainer, fit, summarise.

What each step builds belongs elsewhere: the run folder's layout to `rundir.RunDir`, batches and their
augmentation to `datamodule.FaceDataModule`, the loss and optimisation to `module.FerModule`, the best epoch
to `rundir.best_epoch`. This module only decides what each is given and in which order.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_only
from torch import nn

from ferkit.config_fields import from_flat, to_flat
from ferkit.data import DatasetSplits, load_dataset
from ferkit.data.arrays import FaceArrays
from ferkit.data.split import stratified_split
from ferkit.errors import ConfigError
from ferkit.models import create_model
from ferkit.models.flops import count_parameters
from ferkit.models.meta import ModelMeta
from ferkit.models.onnx_import import calibrate_batchnorm
from ferkit.models.pretrained import load_pretrained
from ferkit.models.prune import prune_into
from ferkit.train.callbacks import AtomicCheckpointIO, BestModelExport, EpochHistory
from ferkit.train.config import TrainConfig
from ferkit.train.console import progress_bar, quiet_lightning
from ferkit.train.datamodule import FaceDataModule, inverse_frequency_weights
from ferkit.train.distill import distillation_data
from ferkit.train.module import FerModule, LossConfig
from ferkit.train.outdir import check_output_dir, prepare_output_dir
from ferkit.train.precision import resolve_precision
from ferkit.train.rundir import CONFIG_FILE, LAST_CHECKPOINT, RunDir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    model_path: Path
    metrics: dict[str, Any]


def create_run_dir(cfg: TrainConfig) -> Path:
    """The run's folder: --run-dir as given (must be new unless resuming), else runs/train/<time>-<model>,
    numbered up so an earlier run is never overwritten. Under DDP only global rank 0 checks and writes it."""
    if rank_zero_only.rank > 0:
        if cfg.run_dir is None:
            raise ConfigError("multi-process training needs --run-dir (every process must write to the same run)")
        Path(cfg.run_dir).mkdir(parents=True, exist_ok=True)
        return Path(cfg.run_dir)
    return prepare_output_dir(cfg.run_dir, cfg.resume, str(LAST_CHECKPOINT), "runs/train", cfg.model, "--run-dir",
                              started=CONFIG_FILE)


def resume_config(run_dir: Path, given: dict[str, Any]) -> TrainConfig:
    """The config to continue the run in `run_dir` with: its saved config.json, where `given` (options the
    user set) may change only where and how it runs.

    Raises:
        ConfigError: the run has no readable config.json, or `given` changes its model, data or schedule
            (each such option is named with the value the run was started with).
    """
    saved = _saved_config(run_dir)
    changes = {k: v for k, v in given.items() if k not in ("run_dir", "resume")}
    wanted = from_flat(TrainConfig, {**to_flat(saved), **changes})
    _refuse_conflicts(wanted, saved, run_dir)
    return replace(wanted, run_dir=run_dir, resume=True)


def _saved_config(run_dir: Path) -> TrainConfig:
    path = RunDir(run_dir).config
    try:
        return TrainConfig.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"--resume: {path}: cannot read the run's config ({exc})") from exc


def _refuse_conflicts(cfg: TrainConfig, saved: TrainConfig, run_dir: Path) -> None:
    conflicts = cfg.resume_conflicts(saved)
    if conflicts:
        run_values, given = to_flat(saved), to_flat(cfg)
        named = ", ".join(f"--{name.replace('_', '-')} (run: {run_values[name]}, given: {given[name]})"
                          for name in conflicts)
        raise ConfigError(f"--resume: {run_dir} was started with other options; a resumed run keeps its model, "
                          f"data and schedule. Drop or match: {named}")


def _check_checkpoint(path: Path, module: L.LightningModule) -> None:
    """Refuse a truncated, foreign or mismatched `last.ckpt` before anything is written or trained."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        state = ckpt["state_dict"]
    except Exception as exc:  # a damaged file raises pickle, zip, EOF or key errors
        raise ConfigError(f"--resume: {path}: not a readable checkpoint ({exc.__class__.__name__}: {exc}); "
                          "it may be truncated: start a new run, or restore the file") from exc
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if found != expected:
        raise ConfigError(f"--resume: {path}: its weights do not fit the run's model")


def _prepare_data(cfg: TrainConfig) -> tuple[DatasetSplits, FaceArrays]:
    """The data set's splits, and the faces to train on: the training split, or a stratified `--limit` of it."""
    splits = load_dataset(cfg.data)
    train_set = splits.train
    if cfg.limit and cfg.limit < len(train_set):
        _, train_set = stratified_split(train_set, cfg.limit / len(train_set), seed=cfg.seed)
        used = splits.description.replace(f"({len(splits.train):,})",
                                          f"({len(train_set):,} of {len(splits.train):,}, --limit)", 1)
        splits = replace(splits, description=used)  # every summary names the faces really trained on
    log.info("data: %s", splits.description)
    return splits, train_set


# Faces whose BatchNorm statistics a model rebuilt from an ONNX file is calibrated on before fine-tuning
# (a random sample of the training faces): per-channel means and variances settle well before a thousand.
CALIBRATION_FACES = 2048


def _load_trainable(source: Path, faces: np.ndarray) -> tuple[nn.Module, ModelMeta]:
    """A trained model to fine-tune (`models.pretrained.load_pretrained`: a bundled name, `large:0`, an `.onnx`
    file, a ferkit model file or run folder); weights rebuilt from an ONNX file get their BatchNorms calibrated
    on `faces` (`models.onnx_import`)."""
    pretrained = load_pretrained(source)
    if pretrained.onnx_file is not None:
        pick = np.random.default_rng(0).permutation(len(faces))[:CALIBRATION_FACES]
        calibrate_batchnorm(pretrained.model, faces[np.sort(pick)])
        log.info("fine-tuning %s: weights rebuilt from %s, BatchNorm calibrated on %d training faces", source,
                 pretrained.onnx_file, len(pick))
    return pretrained.model, pretrained.meta


def _build_model(cfg: TrainConfig, classes: tuple[str, ...], faces: np.ndarray) -> nn.Module:
    """A fresh model, or (with --init-from) a fine-tuned one; channels-last when `cfg` asks for it."""
    if cfg.init_from is None:
        model = create_model(cfg.model, num_classes=len(classes), input_size=cfg.data.input_size,
                             drop_rate=cfg.drop_rate)
    else:
        model = _fine_tuned(cfg, classes, faces)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def _fine_tuned(cfg: TrainConfig, classes: tuple[str, ...], faces: np.ndarray) -> nn.Module:
    """The --init-from model, its head rebuilt for new classes; rows of classes the two share keep their trained
    weights."""
    model, meta = _load_trainable(Path(cfg.init_from), faces)
    if cfg.prune:
        narrow = create_model(cfg.model, num_classes=len(meta.classes), input_size=meta.preprocess.input_size,
                              drop_rate=cfg.drop_rate)
        source, model = model, prune_into(model, narrow)
        log.info("pruned %s into %s: %s of %s parameters kept", meta.model_name, cfg.model,
                 f"{count_parameters(model):,}", f"{count_parameters(source):,}")
        meta = replace(meta, model_name=cfg.model, model_args=narrow.model_args)
    model.train()  # load_model returns inference mode; dropout and batch-norm statistics must train again
    if meta.classes != classes:
        old_fc = model.head.fc
        model.reset_classifier(len(classes))
        with torch.no_grad():
            for i, name in enumerate(classes):
                if name in meta.classes:
                    j = meta.classes.index(name)
                    model.head.fc.weight[i] = old_fc.weight[j]
                    model.head.fc.bias[i] = old_fc.bias[j]
        model.model_args = {**model.model_args, "num_classes": len(classes)}
        log.info("fine-tuning %s: new head for classes %s (was %s)", meta.model_name, classes, meta.classes)
    if cfg.freeze_backbone:
        for p in model.backbone_parameters():
            p.requires_grad_(False)
    return model


def _on_cuda(cfg: TrainConfig) -> bool:
    return cfg.accelerator in ("cuda", "gpu") or (cfg.accelerator == "auto" and torch.cuda.is_available())


def _feed(cfg: TrainConfig, train_set: FaceArrays, val: FaceArrays) -> FaceDataModule:
    """The batches: with a teacher, its views of the faces and its soft labels, and the augmentation left to
    do at each step; without, the faces and all of `cfg`'s augmentation."""
    if not cfg.teacher:
        return FaceDataModule(train_set, val, cfg.batch_size, cfg.augment, cfg.weighted_sampler,
                              label_mode=cfg.data.label_mode)
    distill = distillation_data(cfg.teacher, train_set, cfg.data.clahe, cfg.data.cache_dir, cfg.distill_views,
                                cfg.augment, cfg.seed)
    agreement = float((distill.log_probs.argmax(-1) == train_set.labels).mean())
    log.info("distilling from %s on %d view(s) (agrees with %.1f%% of the training labels)", cfg.teacher,
             len(distill.images), 100 * agreement)
    return FaceDataModule(train_set, val, cfg.batch_size, distill.online_augment, cfg.weighted_sampler,
                          distill.log_probs, distill.images, cfg.data.label_mode)


def _loss_config(cfg: TrainConfig, train_set: FaceArrays) -> LossConfig:
    class_weights = None
    if cfg.class_weighting != "none":
        power = 1.0 if cfg.class_weighting == "balanced" else 0.5
        class_weights = tuple(inverse_frequency_weights(train_set.labels, len(train_set.classes), power).tolist())
    return LossConfig(label_smoothing=cfg.label_smoothing, class_weights=class_weights,
                      distill_weight=cfg.distill_weight, distill_temperature=cfg.distill_temperature,
                      multi_target=cfg.data.label_mode == "multi_target" and train_set.votes is not None)


def _open_run(cfg: TrainConfig, run_dir: Path, module: FerModule) -> None:
    """Check a resumed run's last checkpoint fits `module`, or record a new run's config: the first write."""
    if cfg.resume:
        _check_checkpoint(RunDir(run_dir).last_checkpoint, module)
        log.info("resuming %s from %s", run_dir, RunDir(run_dir).last_checkpoint)
    elif rank_zero_only.rank == 0:
        RunDir(run_dir).write_config(cfg.to_dict())


def _model_meta(cfg: TrainConfig, model: nn.Module, classes: tuple[str, ...], data_description: str) -> ModelMeta:
    """What model.pt says about itself: architecture, classes, preprocessing and the config it trained with."""
    return ModelMeta(model_name=model.model_name, model_args=model.model_args, classes=classes,
                     preprocess=cfg.data.preprocess,
                     train_config={**cfg.to_dict(), "data_description": data_description})


def _run_callbacks(cfg: TrainConfig, run_dir: Path, history: EpochHistory, meta: ModelMeta,
                   extra: Sequence[L.Callback]) -> list[L.Callback]:
    """history.csv, model.pt and the checkpoints, the learning rate, the caller's `extra`, early stopping."""
    callbacks: list[L.Callback] = [
        history,
        BestModelExport(run_dir, meta, history),
        ModelCheckpoint(dirpath=RunDir(run_dir).checkpoints, filename="best", monitor="val_acc", mode="max",
                        save_last=True, save_on_train_epoch_end=True, enable_version_counter=False),
        LearningRateMonitor(logging_interval="epoch"),
        *extra,
    ]
    if cfg.progress:
        callbacks.append(progress_bar())
    if cfg.early_stop_patience > 0:
        callbacks.append(EarlyStopping(monitor="val_acc", mode="max", patience=cfg.early_stop_patience,
                                       check_on_train_epoch_end=True))
    return callbacks


def _build_trainer(cfg: TrainConfig, run_dir: Path, callbacks: list[L.Callback]) -> L.Trainer:
    precision = resolve_precision(cfg.precision, _on_cuda(cfg))
    log.info("precision %s, %s memory format", precision, "channels-last" if cfg.channels_last else "contiguous")
    return L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu" if cfg.accelerator == "cuda" else cfg.accelerator,
        devices=int(cfg.devices) if cfg.devices.isdigit() else cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=cfg.strategy,
        precision=precision,
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
        default_root_dir=run_dir,
        logger=L.pytorch.loggers.CSVLogger(run_dir, name="logs", version=""),
        enable_progress_bar=cfg.progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic=False,
        log_every_n_steps=10,
    )


def _summarise(history: EpochHistory, splits: DatasetSplits, train_set: FaceArrays, elapsed: float) -> dict[str, Any]:
    """train_metrics.json: the best epoch's validation figures, and how the run went."""
    rows, best = history.rows, history.best or {}
    return {
        "best_epoch": best.get("epoch"),
        "val_acc": best.get("val_acc"),
        "val_macro_f1": best.get("val_macro_f1"),
        "val_loss": best.get("val_loss"),
        "epochs_run": len(rows),
        "val_split": splits.description,
        "train_faces": len(train_set),
        "class_counts": dict(zip(train_set.classes, train_set.class_counts().tolist(), strict=True)),
        "train_time_s_this_session": round(elapsed, 1),
        "train_time_s_total": round(sum(r["time_s"] for r in rows), 1),
        "first_epoch_val_acc_70": next((r["epoch"] for r in rows if (r["val_acc"] or 0) >= 0.70), None),
        "hardware": _hardware(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _hardware() -> dict[str, Any]:
    info = {"platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def train(cfg: TrainConfig, callbacks: Sequence[L.Callback] = ()) -> TrainResult:
    """Train one model as `cfg` says and return where it went and its best validation metrics.

    Example:
        >>> train(TrainConfig(data=Path("../shared/data/fer2013"), model="cnn", epochs=2))
    """
    quiet_lightning()
    if rank_zero_only.rank == 0:
        check_output_dir(cfg.run_dir, cfg.resume, str(LAST_CHECKPOINT), "--run-dir", started=CONFIG_FILE)
    if cfg.resume:
        _refuse_conflicts(cfg, _saved_config(Path(cfg.run_dir)), Path(cfg.run_dir))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    splits, train_set = _prepare_data(cfg)  # before the run folder exists: data that is refused leaves none
    run_dir = create_run_dir(cfg)
    if cfg.resume and not RunDir(run_dir).last_checkpoint.is_file():  # stopped in its first epoch: start again
        cfg = replace(cfg, resume=False)
    model = _build_model(cfg, train_set.classes, train_set.images)
    # The teacher comes after the student: loading a ferkit model file draws from the seeded generator, and
    # this order is part of what makes a run's numbers the same every time.
    data = _feed(cfg, train_set, splits.val)
    module = FerModule(model, _loss_config(cfg, train_set), cfg.optim())
    _open_run(cfg, run_dir, module)
    history = EpochHistory(run_dir)
    meta = _model_meta(cfg, model, train_set.classes, splits.description)
    trainer = _build_trainer(cfg, run_dir, _run_callbacks(cfg, run_dir, history, meta, callbacks))
    start = time.perf_counter()
    trainer.fit(module, datamodule=data, ckpt_path=RunDir(run_dir).last_checkpoint if cfg.resume else None)
    metrics = _summarise(history, splits, train_set, time.perf_counter() - start)
    if trainer.is_global_zero:
        RunDir(run_dir).write_train_metrics(metrics)
    return TrainResult(run_dir=run_dir, model_path=RunDir(run_dir).model, metrics=metrics)
