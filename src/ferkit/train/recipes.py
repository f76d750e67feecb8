"""Named training recipes: tested TrainConfig overrides, keyed by flat option name as on the command line (`lr`,
`aug_rotate`; `ferkit.config_fields.from_flat` puts each in its nested config). `ferkit train --recipe base` trains
the VGG members of the shipped ensemble `large`, `--recipe base_distill` distils that ensemble into one of them (the
single-network `base`); command-line options still override any value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ferkit.errors import ConfigError

_STRONG_AUG: dict[str, Any] = {
    "aug_flip": 0.5, "aug_rotate": 15.0, "aug_scale": 0.15, "aug_shift": 0.1,
    "aug_brightness": 0.3, "aug_contrast": 0.3, "aug_erase": 0.5,
}

_SGD_COSINE: dict[str, Any] = {
    "epochs": 120, "batch_size": 256, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4,
    "scheduler": "cosine", "warmup_epochs": 3, "label_smoothing": 0.1, "early_stop_patience": 0, **_STRONG_AUG,
}

RECIPES: dict[str, dict[str, Any]] = {
    # Members of the shipped `large` ensemble (scripts/train_base.sh trains all three and exports them):
    # VGG-style network / ResNet-18, SGD + Nesterov, cosine schedule, label smoothing, strong augmentation.
    "base": {"model": "vgg", **_SGD_COSINE},
    "base_resnet18": {"model": "resnet18", **_SGD_COSINE},
    # Real-time model for weak CPUs (<1M parameters), distilled from the bundled `large` ensemble
    # (90 epochs: what fitted in one session on 2 CPU cores, about 100 minutes).
    "small": {
        "model": "mobilenet_small", "epochs": 90, "batch_size": 128, "optimizer": "adamw", "lr": 3e-3,
        "weight_decay": 0.05, "scheduler": "cosine", "warmup_epochs": 3, "label_smoothing": 0.1,
        "early_stop_patience": 0, **_STRONG_AUG, "aug_erase": 0.25,
        "teacher": "large", "distill_weight": 0.5, "distill_temperature": 4.0,
    },
    # Second stage of the shipped `small`: `ferkit train --recipe small_views --init-from RUN_OF_SMALL`.
    # The teacher labels 5 views of each face (the face + 4 augmented copies), so input and soft label match.
    "small_views": {
        "model": "mobilenet_small", "epochs": 40, "batch_size": 128, "optimizer": "adamw", "lr": 1e-3,
        "weight_decay": 0.05, "scheduler": "cosine", "warmup_epochs": 1, "label_smoothing": 0.1,
        "early_stop_patience": 0, "aug_flip": 0.5, "aug_rotate": 10.0, "aug_scale": 0.1, "aug_shift": 0.1,
        "aug_brightness": 0.2, "aug_contrast": 0.2, "aug_erase": 0.1,
        "teacher": "large", "distill_weight": 0.5, "distill_temperature": 4.0, "distill_views": 5,
    },
    # Issue #20's second stage of `base`: large's first VGG (what `base` ships in int8) distilled from the whole
    # ensemble, as Beyer et al. (2022) advise: a patient, consistent teacher (its soft labels on 3 views of each
    # face, the student seeing the same views), a low learning rate, a cosine schedule. The teacher labels the
    # views once (cached): `large` labels about 8 faces/s on a quiet 2-core AVX2 EPYC (3 hours for the 3 views) and
    # 25 on one with VNNI; on a GPU, seconds (scripts/device_base.sh).
    "base_distill": {
        "model": "vgg", "init_from": Path("large:0"), "teacher": "large", "distill_views": 3,
        "distill_weight": 0.8, "distill_temperature": 2.0, "epochs": 8, "batch_size": 128, "optimizer": "sgd",
        "lr": 0.005, "momentum": 0.9, "weight_decay": 5e-4, "scheduler": "cosine", "warmup_epochs": 0,
        "label_smoothing": 0.0, "early_stop_patience": 0, "aug_flip": 0.5, "aug_rotate": 10.0, "aug_scale": 0.1,
        "aug_shift": 0.1, "aug_brightness": 0.2, "aug_contrast": 0.2, "aug_erase": 0.25,
    },
    # FER+ (`--data` a FERPlus folder): fine-tune large's first VGG on the ten annotators' vote distribution, the
    # target Barsoum et al. (2016) found best (85.0% vs 83.9% with majority labels). Its head gains a contempt row,
    # freshly initialised; the other rows keep their FER2013 weights. A probe (issue #21) reached 85.5% majority
    # accuracy on FER2013Valid after one such epoch on 2 CPU cores: a few epochs suffice.
    "ferplus": {
        "model": "vgg", "init_from": Path("large:0"), "label_mode": "crossentropy", "ferplus_classes": 8,
        "epochs": 3, "batch_size": 128, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4,
        "scheduler": "onecycle", "label_smoothing": 0.0, "early_stop_patience": 0,
        "aug_flip": 0.5, "aug_shift": 0.08, "aug_rotate": 10.0, "aug_scale": 0.05,
        "aug_brightness": 0.0, "aug_contrast": 0.0, "aug_erase": 0.0,
    },
    # The two Keras-style models of the classic FER2013 study: Adam, plateau schedule, early stopping.
    "cnn": {"model": "cnn", "epochs": 60, "batch_size": 64, "optimizer": "adam", "lr": 1e-3, "scheduler": "plateau",
            "early_stop_patience": 12},
    "dcnn": {"model": "dcnn", "epochs": 60, "batch_size": 64, "optimizer": "adam", "lr": 1e-3,
             "scheduler": "plateau", "early_stop_patience": 12},
}


def get_recipe(name: str) -> dict[str, Any]:
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe '{name}'; known: {', '.join(RECIPES)}")
    return dict(RECIPES[name])
