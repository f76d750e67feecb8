"""`train(cfg)`: one reproducible, resumable run, read top to bottom in `train`: check the run folder, read the
data, make the folder, build the model, feed it (teacher, views, augmentation), open the run, fit, summarise.

What each step builds belongs elsewhere: the run folder and the resume checks to `resume` (its layout to
`rundir.RunDir`), a fine-tuned model's surgery to `ferkit.models.finetune`, batches and their augmentation to
`datamodule.FaceDataModule`, the loss and optimisation to `module.FerModule`, the best epoch to
`rundir.best_epoch`. This module only decides what each is given and in which order.
"""

from __future__ import annotations

import logging
import os
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
from torch import nn

from ferkit.data import DatasetSplits, load_dataset
from ferkit.data.arrays import FaceArrays
from ferkit.data.split import stratified_sample
from ferkit.models import create_model
from ferkit.models.finetune import fine_tune_start
from ferkit.models.meta import ModelMeta
from ferkit.train.callbacks import AtomicCheckpointIO, BestModelExport, EpochHistory
from ferkit.train.config import TrainConfig
from ferkit.train.console import progress_bar, quiet_lightning
from ferkit.train.datamodule import FaceDataModule, inverse_frequency_weights
from ferkit.train.distill import distillation_data
from ferkit.train.loss import LossConfig
from ferkit.train.module import FerModule
from ferkit.train.precision import resolve_precision
from ferkit.train.resume import check_run_dir, create_run_dir, open_run
from ferkit.train.rundir import RunDir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    model_path: Path
    metrics: dict[str, Any]


def _prepare_data(cfg: TrainConfig) -> tuple[DatasetSplits, FaceArrays]:
    """The data set's splits, and the faces to train on: the training split, or a stratified `--limit` of it."""
    splits = load_dataset(cfg.data)
    train_set = splits.train
    if cfg.limit and cfg.limit < len(train_set):
        train_set = stratified_sample(train_set, cfg.limit, seed=cfg.seed)
        used = splits.description.replace(f"({len(splits.train):,})",
                                          f"({len(train_set):,} of {len(splits.train):,}, --limit)", 1)
        splits = replace(splits, description=used)  # every summary names the faces really trained on
    log.info("data: %s", splits.description)
    return splits, train_set


def _build_model(cfg: TrainConfig, classes: tuple[str, ...], faces: np.ndarray) -> nn.Module:
    """A fresh model, or (with --init-from) the trained one made ready for `classes` (`models.finetune`);
    channels-last when `cfg` asks for it."""
    if cfg.init_from is None:
        model = create_model(cfg.model, num_classes=len(classes), input_size=cfg.data.input_size,
                             width=cfg.width, drop_rate=cfg.drop_rate)
    else:
        model = fine_tune_start(cfg.init_from, classes, faces, prune_to=cfg.model if cfg.prune else None,
                                width=cfg.width, drop_rate=cfg.drop_rate, freeze_backbone=cfg.freeze_backbone)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def _on_cuda(cfg: TrainConfig) -> bool:
    return cfg.accelerator in ("cuda", "gpu") or (cfg.accelerator == "auto" and torch.cuda.is_available())


def _data_module(cfg: TrainConfig, train_set: FaceArrays, val: FaceArrays) -> FaceDataModule:
    """The batches: with a teacher, its views of the faces and its soft labels, and the augmentation left to
    do at each step; without, the faces and all of `cfg`'s augmentation."""
    if not cfg.teacher:
        return FaceDataModule(train_set, val, cfg.batch_size, cfg.augment, cfg.weighted_sampler,
                              label_mode=cfg.data.label_mode)
    gpu = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if _on_cuda(cfg) else None  # torchrun's rank
    distill = distillation_data(cfg.teacher, train_set, cfg.data.clahe, cfg.data.cache_dir, cfg.distill_views,
                                cfg.augment, cfg.seed, gpu)
    agreement = float((distill.log_probs.argmax(-1) == train_set.labels).mean())
    log.info("distilling from %s on %d view(s) (agrees with %.1f%% of the training labels)", cfg.teacher,
             len(distill.images), 100 * agreement)
    return FaceDataModule(train_set, val, cfg.batch_size, distill.online_augment, cfg.weighted_sampler,
                          distill.log_probs, distill.images, cfg.data.label_mode)


def _loss(cfg: TrainConfig, train_set: FaceArrays) -> LossConfig:
    """`cfg`'s loss as the training faces make it: class weights from their class counts, and the multi-target
    loss when they carry FER+ votes and `cfg` asks for it."""
    class_weights = None
    if cfg.loss.class_weighting != "none":
        power = 1.0 if cfg.loss.class_weighting == "balanced" else 0.5
        class_weights = tuple(inverse_frequency_weights(train_set.labels, len(train_set.classes), power).tolist())
    return replace(cfg.loss, class_weights=class_weights,
                   multi_target=cfg.data.label_mode == "multi_target" and train_set.votes is not None)


def _model_meta(cfg: TrainConfig, model: nn.Module, classes: tuple[str, ...], data_description: str) -> ModelMeta:
    """What model.pt says about itself: architecture, classes, preprocessing and the config it trained with."""
    return ModelMeta(model_name=model.model_name, model_args=model.model_args, classes=classes,
                     preprocess=cfg.data.preprocess,
                     train_config={**cfg.to_dict(), "data_description": data_description})


def _run_callbacks(cfg: TrainConfig, run: RunDir, history: EpochHistory, meta: ModelMeta,
                   extra: Sequence[L.Callback]) -> list[L.Callback]:
    """history.csv, model.pt and the checkpoints, the learning rate, the caller's `extra`, early stopping."""
    callbacks: list[L.Callback] = [
        history,
        BestModelExport(run, meta, history),
        ModelCheckpoint(dirpath=run.checkpoints, filename="best", monitor="val_acc", mode="max",
                        save_on_train_epoch_end=True, enable_version_counter=False),
        # The resume point, every epoch. Not `save_last`: Lightning 2.6 writes that copy only in an epoch that wrote
        # a new best, so a run stopped after epochs that did not improve resumed from the best one, repeating them.
        ModelCheckpoint(dirpath=run.checkpoints, filename=run.last_checkpoint.stem, save_on_train_epoch_end=True,
                        enable_version_counter=False),
        LearningRateMonitor(logging_interval="epoch"),
        *extra,
    ]
    if cfg.progress:
        callbacks.append(progress_bar())
    if cfg.early_stop_patience > 0:
        callbacks.append(EarlyStopping(monitor="val_acc", mode="max", patience=cfg.early_stop_patience,
                                       check_on_train_epoch_end=True))
    return callbacks


def _build_trainer(cfg: TrainConfig, run: RunDir, callbacks: list[L.Callback]) -> L.Trainer:
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
        default_root_dir=run.path,
        logger=L.pytorch.loggers.CSVLogger(run.path, name="logs", version=""),
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
        >>> train(TrainConfig(data=DataConfig(path=Path("../shared/data/fer2013")), model="cnn", epochs=2))
    """
    quiet_lightning()
    check_run_dir(cfg)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    splits, train_set = _prepare_data(cfg)  # before the run folder exists: data that is refused leaves none
    run = create_run_dir(cfg)
    if cfg.resume and not run.last_checkpoint.is_file():  # stopped in its first epoch: start again
        cfg = replace(cfg, resume=False)
    model = _build_model(cfg, train_set.classes, train_set.images)
    # The teacher comes after the student: loading a ferkit model file draws from the seeded generator, and
    # this order is part of what makes a run's numbers the same every time.
    data = _data_module(cfg, train_set, splits.val)
    module = FerModule(model, _loss(cfg, train_set), cfg.optim)
    open_run(cfg, run, module)
    history = EpochHistory(run)
    meta = _model_meta(cfg, model, train_set.classes, splits.description)
    trainer = _build_trainer(cfg, run, _run_callbacks(cfg, run, history, meta, callbacks))
    start = time.perf_counter()
    trainer.fit(module, datamodule=data, ckpt_path=run.last_checkpoint if cfg.resume else None)
    metrics = _summarise(history, splits, train_set, time.perf_counter() - start)
    if trainer.is_global_zero:
        run.write_train_metrics(metrics)
    return TrainResult(run_dir=run.path, model_path=run.model, metrics=metrics)
