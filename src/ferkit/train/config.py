"""`TrainConfig`: every knob of `ferkit train`, typed, with defaults. The CLI maps one option per field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ferkit.errors import ConfigError
from ferkit.train.augment import AugmentConfig


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Defaults are a sound CPU-friendly baseline; `--recipe` swaps in a tested recipe."""

    # data
    data: Path = _f(Path("../shared/data/fer2013"), "fer2013.csv, Kaggle-layout folder, class-per-folder set or .npz")
    classes: tuple[str, ...] = _f((), "class subset in output order, e.g. happy,sad,neutral (default: all seven)")
    extra_classes: tuple[str, ...] = _f((), "non-canonical classes to keep, e.g. contempt")
    input_size: int = _f(48, "square input side in pixels")
    clahe: bool = _f(False, "CLAHE contrast equalisation in preprocessing")
    val_fraction: float = _f(0.1, "validation share for data sets without a validation split")
    cache_dir: Path | None = _f(None, "decoded-faces cache (CLI default: $FERKIT_CACHE/data or ~/.cache/ferkit/data)")
    limit: int = _f(0, "use at most this many training faces (stratified; 0 = all), for smoke runs")
    # model
    model: str = _f("cnn", "architecture name (see `ferkit models`)")
    drop_rate: float | None = _f(None, "dropout of the classifier head (default: the model's own)")
    init_from: Path | None = _f(None, "fine-tune from this ferkit model file or run dir (transfer learning)")
    freeze_backbone: bool = _f(False, "with --init-from: train only the classifier head")
    # optimisation
    epochs: int = _f(30, "maximum number of epochs")
    batch_size: int = _f(64, "faces per batch (per device)")
    optimizer: Literal["adam", "adamw", "sgd"] = _f("adam", "optimizer")
    lr: float = _f(1e-3, "peak learning rate")
    weight_decay: float = _f(1e-4, "weight decay")
    momentum: float = _f(0.9, "SGD momentum (Nesterov)")
    scheduler: Literal["none", "plateau", "cosine", "onecycle"] = _f("plateau", "learning-rate schedule")
    warmup_epochs: int = _f(0, "linear warm-up epochs before a cosine schedule")
    label_smoothing: float = _f(0.0, "cross-entropy label smoothing")
    class_weighting: Literal["none", "balanced", "sqrt"] = _f("none", "class weights in the loss against imbalance")
    weighted_sampler: bool = _f(False, "draw batches with inverse-frequency sampling against imbalance")
    early_stop_patience: int = _f(10, "stop after this many epochs without a better val accuracy (0 = never)")
    # knowledge distillation
    teacher: str | None = _f(None, "distil from this model: a bundled name (base), an .onnx or a ferkit model file")
    distill_weight: float = _f(0.5, "with --teacher: share of the loss that follows the teacher (the rest: labels)")
    distill_temperature: float = _f(4.0, "with --teacher: softmax temperature of teacher and student")
    distill_views: int = _f(1, "with --teacher: views of each face the teacher labels (cached): the face, then "
                               "copies rotated, zoomed, shifted and relit once by the aug options; each step "
                               "trains on one, flipped and erased online")
    # augmentation (on the training device)
    aug_flip: float = _f(0.5, "horizontal flip probability")
    aug_rotate: float = _f(10.0, "max rotation, degrees")
    aug_scale: float = _f(0.1, "max zoom in/out")
    aug_shift: float = _f(0.1, "max shift, share of the image")
    aug_brightness: float = _f(0.2, "max brightness offset")
    aug_contrast: float = _f(0.2, "max contrast change")
    aug_erase: float = _f(0.0, "random erasing probability")
    aug_mixup: float = _f(0.0, "mixup alpha (0 = off)")
    aug_cutmix: float = _f(0.0, "cutmix alpha (0 = off)")
    # hardware and run
    accelerator: Literal["auto", "cpu", "cuda", "gpu", "mps"] = _f("auto", "device kind")
    devices: str = _f("auto", "devices per node: a count, or 'auto'")
    num_nodes: int = _f(1, "nodes for multi-node DDP (launch with torchrun)")
    strategy: str = _f("auto", "Lightning strategy, e.g. ddp")
    precision: Literal["auto", "32", "bf16-mixed", "16-mixed"] = _f("auto", "auto = bf16-mixed on CUDA, else 32")
    channels_last: bool = _f(True, "channels-last memory format on CUDA")
    seed: int = _f(0, "random seed")
    run_dir: Path | None = _f(None, "output folder (default: runs/train/<time>-<model>; never overwritten)")
    resume: bool = _f(False, "continue the run in --run-dir from its last checkpoint")
    progress: bool = _f(True, "live progress bar")

    def __post_init__(self) -> None:
        if not 0.0 <= self.distill_weight <= 1.0:
            raise ConfigError(f"distill_weight must be within 0..1, got {self.distill_weight}")
        if self.distill_temperature <= 0:
            raise ConfigError(f"distill_temperature must be positive, got {self.distill_temperature}")
        if self.distill_views < 1:
            raise ConfigError(f"distill_views must be at least 1, got {self.distill_views}")
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (paths as strings), written to run_dir/config.json."""
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}
