"""`TrainConfig`: every knob of `ferkit train`, typed, with defaults.

It nests the data set's `DataConfig`, the `AugmentConfig`, the optimiser's `OptimConfig` and the loss's
`LossConfig`, each the one owner of its defaults. The command line, recipes, `ferkit tune` and a run's config.json
name their fields flat, as they always have (`--data`, `--input-size`, `--aug-rotate`, `--lr`, `--label-smoothing`;
`ferkit.config_fields.flat_fields`), so a run folder reads like the command that made it and runs saved before a
config was nested still load and resume.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ferkit.config_fields import check_bounds, flat_fields, from_flat, nested, option, to_flat
from ferkit.data.config import DataConfig
from ferkit.errors import ConfigError
from ferkit.models.bundled import architecture_name, bundled_names, single_network_names
from ferkit.train.augment import AugmentConfig
from ferkit.train.loss import LossConfig
from ferkit.train.optim import OptimConfig

# Options a resumed run may change: where and how it runs, not what it trains or on which data.
RESUME_FREE = frozenset({"accelerator", "devices", "num_nodes", "strategy", "progress", "cache_dir", "run_dir",
                         "resume"})


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Defaults are a sound CPU-friendly baseline; `--recipe` swaps in a tested recipe."""

    data: DataConfig = nested(DataConfig(path=Path("../shared/data/fer2013")), "the faces to train on",
                              rename={"path": "data"}, exclude=("seed",))  # the split's seed is the run's --seed
    limit: int = option(0, "use at most this many training faces (stratified; 0 = all), for smoke runs",
                        "[0, inf)")
    # model
    model: str = option("cnn", "architecture name (see `ferkit models`)")
    drop_rate: float | None = option(None, "dropout of the classifier head (default: the model's own)", "[0, 1)")
    init_from: Path | None = option(None, f"fine-tune from a bundled model ({', '.join(single_network_names())}; "
                                           "base = the float large:0), an exported .onnx file, a ferkit model "
                                           "file or run dir (transfer learning), or one network of an ensemble: "
                                           "large:0, large:1 (VGG), large:2 (ResNet-18)")
    width: float | None = option(None, "channel multiplier of a VGG-family --model (vgg, vgg_slim, cnn, dcnn): "
                                       "0.75 keeps three quarters of every layer's channels, about 0.56x the "
                                       "FLOPs (default: the architecture's own)", "(0, inf)")
    freeze_backbone: bool = option(False, "with --init-from: train only the classifier head")
    prune: bool = option(False, "with --init-from: start --model from the most important channels of the "
                                "--init-from network, a wider one of the same layout (VGG family), e.g. --model "
                                "vgg_slim --init-from large:0, or --model vgg --width 0.75 --init-from large:0")
    # optimisation
    epochs: int = option(30, "maximum number of epochs", "[1, inf)")
    batch_size: int = option(64, "faces per batch (per device)", "[1, inf)")
    optim: OptimConfig = nested(OptimConfig(), "the optimiser and learning-rate schedule",
                                exclude=("epochs",))  # the schedule's length is the run's --epochs
    loss: LossConfig = nested(LossConfig(), "the training loss",
                              exclude=("class_weights", "multi_target"))  # the training faces decide (`train.run`)
    weighted_sampler: bool = option(False, "draw batches with inverse-frequency sampling against imbalance")
    early_stop_patience: int = option(10, "stop after this many epochs without a better val accuracy (0 = never)",
                                     "[0, inf)")
    # knowledge distillation
    teacher: str | None = option(None, f"distil from this model: a bundled name ({', '.join(bundled_names())}), an "
                                       ".onnx or ferkit model file")
    distill_views: int = option(1, "with --teacher: views of each face the teacher labels (cached): the face, then "
                                   "copies rotated, zoomed, shifted and relit once by the aug options; each step "
                                   "trains on one, flipped and erased online", "[1, inf)")
    augment: AugmentConfig = nested(AugmentConfig(), "augmentation on the training device", prefix="aug_")
    # hardware and run
    accelerator: Literal["auto", "cpu", "cuda", "gpu", "mps"] = option("auto", "device kind")
    devices: str = option("auto", "devices per node: a count, -1 (all), indices such as 0,2, or 'auto'")
    num_nodes: int = option(1, "nodes for multi-node DDP (launch with torchrun)", "[1, inf)")
    strategy: str = option("auto", "Lightning strategy, e.g. ddp")
    precision: Literal["auto", "32", "bf16-mixed", "16-mixed"] = option(
        "auto", "auto = bf16-mixed on CUDA and on CPUs with native bf16 (avx512_bf16, AMX), else 32")
    channels_last: bool = option(True, "channels-last memory format (faster convolutions on CPU and CUDA)")
    seed: int = option(0, "random seed")
    run_dir: Path | None = option(None, "output folder (default: runs/train/<time>-<model>; never overwritten)")
    resume: bool = option(False, "continue the run in --run-dir from its last checkpoint")
    progress: bool = option(True, "live progress bar")

    def __post_init__(self) -> None:
        check_bounds(self)
        object.__setattr__(self, "model", architecture_name(self.model))  # old run configs name `small`
        if self.data.seed != self.seed:
            object.__setattr__(self, "data", dataclasses.replace(self.data, seed=self.seed))
        if self.optim.epochs != self.epochs:
            object.__setattr__(self, "optim", dataclasses.replace(self.optim, epochs=self.epochs))
        if not re.fullmatch(r"auto|-1|[1-9]\d*|\d+,|\d+(,\d+)+,?", self.devices):  # Lightning's device forms
            raise ConfigError(f"devices (--devices) must be 'auto', a positive count, -1 (all) or indices such as "
                              f"0,1 or 1, (device 1), got {self.devices!r}")
        if self.prune and self.init_from is None:
            raise ConfigError("--prune needs an --init-from network to take the channels from")
        if self.width is not None and self.init_from is not None and not self.prune:
            raise ConfigError("--width with --init-from needs --prune: the trained network keeps its own width "
                              "unless its strongest channels are copied into the narrower one")
        if self.distill_views > 1 and not self.teacher:
            raise ConfigError("--distill-views needs a --teacher to label the views")
        if self.teacher and (self.augment.mixup or self.augment.cutmix):
            raise ConfigError("--teacher cannot be combined with mixup or cutmix: the teacher's soft labels "
                              "describe the unmixed faces")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The config `to_dict` wrote (a run's config.json): lists become tuples and path strings Paths;
        keys this version does not know are ignored, keys the file lacks keep their defaults."""
        leaves = {leaf.name: leaf for leaf in flat_fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name not in leaves:
                continue
            hint = leaves[name].hint
            if isinstance(value, list):
                value = tuple(value)
            elif isinstance(value, str) and Path in (hint, *typing.get_args(hint)):
                value = Path(value)
            kwargs[name] = value
        return from_flat(cls, kwargs)

    def resume_conflicts(self, saved: TrainConfig) -> list[str]:
        """The options that differ from the run's `saved` config and may not change when it resumes: all but
        where and how it runs (`RESUME_FREE`)."""
        mine, theirs = to_flat(self), to_flat(saved)
        return [name for name in mine if name not in RESUME_FREE and mine[name] != theirs[name]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe flat dict (paths as strings, option names as keys), written to run_dir/config.json."""
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                for k, v in to_flat(self).items()}
