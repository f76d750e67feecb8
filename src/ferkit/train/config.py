"""`TrainConfig`: every knob of `ferkit train`, typed, with defaults. The CLI maps one option per field."""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ferkit.config_fields import check_bounds, option
from ferkit.errors import ConfigError
from ferkit.train.augment import AugmentConfig
from ferkit.train.optim import OptimConfig, OptimizerName, SchedulerName

# Options a resumed run may change: where and how it runs, not what it trains or on which data.
RESUME_FREE = frozenset({"accelerator", "devices", "num_nodes", "strategy", "progress", "cache_dir", "run_dir",
                         "resume"})


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Defaults are a sound CPU-friendly baseline; `--recipe` swaps in a tested recipe."""

    # data
    data: Path = option(Path("../shared/data/fer2013"),
                        "fer2013.csv, Kaggle-layout folder, class-per-folder set or .npz")
    classes: tuple[str, ...] = option((), "class subset in output order, e.g. happy,sad,neutral (default: all seven)")
    extra_classes: tuple[str, ...] = option((), "non-canonical classes to keep, e.g. contempt")
    input_size: int = option(48, "square input side in pixels", "[8, inf)")
    clahe: bool = option(False, "CLAHE contrast equalisation in preprocessing")
    denoise: bool = option(False, "non-local-means denoising in preprocessing (slow)")
    skip_bad: bool = option(False, "skip malformed rows and files, counting them in a warning, instead of failing")
    val_fraction: float = option(0.1, "validation share for data sets without a validation split", "[0, 1)")
    cache_dir: Path | None = option(None,
                                    "decoded-faces cache (CLI default: $FERKIT_CACHE/data or ~/.cache/ferkit/data)")
    limit: int = option(0, "use at most this many training faces (stratified; 0 = all), for smoke runs",
                        "[0, inf)")
    # model
    model: str = option("cnn", "architecture name (see `ferkit models`)")
    drop_rate: float | None = option(None, "dropout of the classifier head (default: the model's own)", "[0, 1)")
    init_from: Path | None = option(None, "fine-tune from a bundled model (small, base), an exported .onnx file, or "
                                           "a ferkit model file or run dir (transfer learning)")
    freeze_backbone: bool = option(False, "with --init-from: train only the classifier head")
    # optimisation
    epochs: int = option(30, "maximum number of epochs", "[1, inf)")
    batch_size: int = option(64, "faces per batch (per device)", "[1, inf)")
    optimizer: OptimizerName = option("adam", "optimizer")
    lr: float = option(1e-3, "peak learning rate", "(0, inf)")
    weight_decay: float = option(1e-4, "weight decay", "[0, inf)")
    momentum: float = option(0.9, "SGD momentum (Nesterov)", "[0, 1)")
    scheduler: SchedulerName = option("plateau", "learning-rate schedule")
    warmup_epochs: int = option(0, "linear warm-up epochs before a cosine schedule", "[0, inf)")
    label_smoothing: float = option(0.0, "cross-entropy label smoothing", "[0, 1)")
    class_weighting: Literal["none", "balanced", "sqrt"] = option("none", "class weights in the loss against imbalance")
    weighted_sampler: bool = option(False, "draw batches with inverse-frequency sampling against imbalance")
    early_stop_patience: int = option(10, "stop after this many epochs without a better val accuracy (0 = never)",
                                     "[0, inf)")
    # knowledge distillation
    teacher: str | None = option(None, "distil from this model: a bundled name (large), an .onnx or ferkit model file")
    distill_weight: float = option(0.5, "with --teacher: share of the loss that follows the teacher (the rest: labels)",
                                   "[0, 1]")
    distill_temperature: float = option(4.0, "with --teacher: softmax temperature of teacher and student",
                                        "(0, inf)")
    distill_views: int = option(1, "with --teacher: views of each face the teacher labels (cached): the face, then "
                                   "copies rotated, zoomed, shifted and relit once by the aug options; each step "
                                   "trains on one, flipped and erased online", "[1, inf)")
    # augmentation (on the training device)
    aug_flip: float = option(0.5, "horizontal flip probability", "[0, 1]")
    aug_rotate: float = option(10.0, "max rotation, degrees", "[0, 180]")
    aug_scale: float = option(0.1, "max zoom in/out", "[0, 1)")
    aug_shift: float = option(0.1, "max shift, share of the image", "[0, 1]")
    aug_brightness: float = option(0.2, "max brightness offset", "[0, 1]")
    aug_contrast: float = option(0.2, "max contrast change", "[0, 1)")
    aug_erase: float = option(0.0, "random erasing probability", "[0, 1]")
    aug_mixup: float = option(0.0, "mixup alpha (0 = off)", "[0, inf)")
    aug_cutmix: float = option(0.0, "cutmix alpha (0 = off)", "[0, inf)")
    # hardware and run
    accelerator: Literal["auto", "cpu", "cuda", "gpu", "mps"] = option("auto", "device kind")
    devices: str = option("auto", "devices per node: a count, -1 (all), indices such as 0,2, or 'auto'")
    num_nodes: int = option(1, "nodes for multi-node DDP (launch with torchrun)", "[1, inf)")
    strategy: str = option("auto", "Lightning strategy, e.g. ddp")
    precision: Literal["auto", "32", "bf16-mixed", "16-mixed"] = option("auto", "auto = bf16-mixed on CUDA, else 32")
    channels_last: bool = option(True, "channels-last memory format on CUDA")
    seed: int = option(0, "random seed")
    run_dir: Path | None = option(None, "output folder (default: runs/train/<time>-<model>; never overwritten)")
    resume: bool = option(False, "continue the run in --run-dir from its last checkpoint")
    progress: bool = option(True, "live progress bar")

    def __post_init__(self) -> None:
        check_bounds(self)
        if not re.fullmatch(r"auto|-1|[1-9]\d*|\d+,|\d+(,\d+)+,?", self.devices):  # Lightning's device forms
            raise ConfigError(f"devices (--devices) must be 'auto', a positive count, -1 (all) or indices such as "
                              f"0,1 or 1, (device 1), got {self.devices!r}")
        if self.distill_views > 1 and not self.teacher:
            raise ConfigError("--distill-views needs a --teacher to label the views")
        if self.teacher and (self.aug_mixup or self.aug_cutmix):
            raise ConfigError("--teacher cannot be combined with mixup or cutmix: the teacher's soft labels "
                              "describe the unmixed faces")

    def augment(self) -> AugmentConfig:
        return AugmentConfig(
            flip=self.aug_flip, rotate_deg=self.aug_rotate, scale=self.aug_scale, shift=self.aug_shift,
            brightness=self.aug_brightness, contrast=self.aug_contrast, erase=self.aug_erase,
            mixup=self.aug_mixup, cutmix=self.aug_cutmix,
        )

    def optim(self) -> OptimConfig:
        return OptimConfig(optimizer=self.optimizer, lr=self.lr, weight_decay=self.weight_decay,
                           momentum=self.momentum, scheduler=self.scheduler, warmup_epochs=self.warmup_epochs,
                           epochs=self.epochs)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The config `to_dict` wrote (a run's config.json): lists become tuples and path strings Paths;
        keys this version does not know are ignored, fields the file lacks keep their defaults."""
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in values:
                continue
            value = values[f.name]
            if isinstance(value, list):
                value = tuple(value)
            elif isinstance(value, str) and Path in (hints[f.name], *typing.get_args(hints[f.name])):
                value = Path(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    def resume_conflicts(self, saved: TrainConfig) -> list[str]:
        """The fields that differ from the run's `saved` config and may not change when it resumes: all but
        where and how it runs (`RESUME_FREE`)."""
        return [f.name for f in dataclasses.fields(self)
                if f.name not in RESUME_FREE and getattr(self, f.name) != getattr(saved, f.name)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (paths as strings), written to run_dir/config.json."""
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}
