"""`LossConfig`: the settings of the training loss, nested in `TrainConfig` and shown flat (`--label-smoothing`,
`--class-weighting`, `--distill-weight`, `--distill-temperature`); `module.FerModule` computes the loss from it.

Torch-free, so that `ferkit train --help` and `--print-config` do not import Lightning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ferkit.config_fields import check_bounds, option


@dataclass(frozen=True)
class LossConfig:
    """Cross-entropy with label smoothing and per-class weights, mixed with the distillation loss at
    `distill_weight` when batches carry a teacher's log-probabilities.

    The last two fields are what the training faces make of the settings, filled by `train.run`, not options:
    `class_weights` the weights `class_weighting` gives their classes (None: all 1), and `multi_target` whether
    their FER+ vote distributions count only their likeliest class under the model (Barsoum et al. 2016).
    """

    label_smoothing: float = option(0.0, "cross-entropy label smoothing", "[0, 1)")
    class_weighting: Literal["none", "balanced", "sqrt"] = option("none", "class weights in the loss against imbalance")
    distill_weight: float = option(0.5, "with --teacher: share of the loss that follows the teacher (the rest: labels)",
                                   "[0, 1]")
    distill_temperature: float = option(4.0, "with --teacher: softmax temperature of teacher and student",
                                        "(0, inf)")
    class_weights: tuple[float, ...] | None = None
    multi_target: bool = False

    def __post_init__(self) -> None:
        check_bounds(self)
