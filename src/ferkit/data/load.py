"""Load a facial-expression data set into train / val / test `FaceArrays`.

`load_dataset(DataConfig(path=...))` reads a fer2013.csv, a Kaggle-layout folder, any class-per-folder
set, a `.npz` face-array file or FER+'s votes (`ferplus`: labelled by `label_mode` after the cache);
normalises label names; keeps the classes asked for; holds out a stratified, seeded validation split
when the set has none; and caches the decoded faces. `load_split` returns one split, decoding only it when
the source names it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays
from ferkit.data.cache import load_cached, save_cached, source_fingerprint
from ferkit.data.config import DataConfig
from ferkit.data.fer2013 import read_fer2013_csv
from ferkit.data.ferplus import is_ferplus_csv, is_ferplus_folder, label_votes, read_ferplus_csv, read_ferplus_folders
from ferkit.data.ferplus import run_classes as ferplus_run_classes
from ferkit.data.folders import read_image_folders
from ferkit.data.labels import accepted_names, normalise_label, resolve_classes
from ferkit.data.source import UNSPLIT, SourceData
from ferkit.data.split import select_classes, stratified_split
from ferkit.errors import ConfigError, DataError
from ferkit.transforms.preprocess import PreprocessConfig, prepare_faces

logger = logging.getLogger(__name__)

Unknown = Literal["refuse", "leave_out"]  # what load_split does with a class neither canonical nor listed
_SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "validation": "val", "publictest": "val",
                  "test": "test", "privatetest": "test"}


@dataclass(frozen=True)
class DatasetSplits:
    """The faces of one data set, split for training; `description` says where each split came from."""

    train: FaceArrays
    val: FaceArrays
    test: FaceArrays | None
    description: str  # e.g. "train=fer2013.csv Training (28,709), val=fer2013.csv PublicTest (3,589), ..."


def describe(faces: FaceArrays) -> str:
    """One log line of class counts, e.g. `"3,589 faces: angry 467, disgust 56, ..."`."""
    counts = ", ".join(f"{name} {n:,}" for name, n in zip(faces.classes, faces.class_counts(), strict=True))
    return f"{len(faces):,} faces: {counts}"


def load_dataset(cfg: DataConfig) -> DatasetSplits:
    """Read `cfg.path` (through the cache when `cfg.cache_dir` is set) and return its train/val/test splits.

    Raises:
        DataError: the source is missing, malformed or holds a class that is neither canonical nor listed in
            `cfg.extra_classes`; the message names the file/row/folder and the problem.
    """
    source = _read_selected(cfg)
    return _assemble(cfg, source.splits, source.names)


def _read_selected(cfg: DataConfig, unknown: Unknown = "refuse", only: str | None = None) -> SourceData:
    """Each split the source names (or its split `only` alone, when it has it), keeping the classes of `cfg`
    only. A class neither canonical nor in `cfg.extra_classes` is refused, or with `unknown="leave_out"` left out
    and counted like any class not asked for (evaluation scores the classes a model shares with the data)."""
    classes = resolve_classes(cfg.classes, cfg.extra_classes)
    source = _read_source_cached(cfg, only)
    if source.skipped:
        logger.warning("%s: skipped %d bad row(s)/file(s) (skip_bad); first: %s",
                       cfg.path, len(source.skipped), "; ".join(source.skipped[:3]))
    if any(faces.votes is not None for faces in source.splits.values()):  # FER+: the classes are its own
        source = label_votes(source, cfg.label_mode, cfg.eval_label_mode)
        classes = resolve_classes(cfg.classes, cfg.extra_classes + ferplus_run_classes(cfg.classes,
                                                                                       cfg.ferplus_classes))
    if unknown == "refuse":
        for faces in source.splits.values():
            _check_known_classes(cfg, faces, classes)
    selected = {split: select_classes(faces, classes) for split, faces in source.splits.items()}
    left_out: dict[str, int] = {}
    for faces in source.splits.values():
        for name, n in zip(faces.classes, faces.class_counts(), strict=True):
            if n and name not in classes:
                left_out[name] = left_out.get(name, 0) + int(n)
    if left_out:
        logger.log(logging.WARNING if unknown == "leave_out" else logging.INFO,
                   "%s: left out %d face(s) (%s): not among the classes %s", cfg.path, sum(left_out.values()),
                   ", ".join(f"{name} {n:,}" for name, n in left_out.items()), ",".join(classes))
    return SourceData(selected, source.names, source.skipped, source.only)


def split_key(split: str) -> str:
    """The split a name stands for, as `load_split` reads it: FER2013's `PublicTest` and `val` are one split, so
    a training run's val figure and an evaluation's PublicTest figure compare (the same 3,589 faces)."""
    name = split.strip().lower()
    return _SPLIT_ALIASES.get(name, name)


def load_split(cfg: DataConfig, split: str, unknown: Unknown = "refuse") -> FaceArrays:
    """One split: `train`, `val`, `test`, or FER2013's names `Training`, `PublicTest`, `PrivateTest`; or `all`,
    every face of the data set, whatever splits its files name (a Kaggle `test/` folder has no training faces).
    `unknown`: what becomes of a class outside the canonical seven and `cfg.extra_classes` (`_read_selected`).
    A validation or test split the source names is decoded (and cached) alone: scoring PublicTest does not
    decode the 28,709 training faces.

    Raises:
        ConfigError: an unknown split name.
        DataError: the data set has no such split (e.g. no PrivateTest rows).
    """
    name = split.strip().lower()
    if name == "all":
        return FaceArrays.concat(list(_read_selected(cfg, unknown).splits.values()))
    key = _SPLIT_ALIASES.get(name)
    if key is None:
        raise ConfigError(f"unknown split '{split}' (expected train, val, test, Training, PublicTest, PrivateTest "
                          "or all)")
    # The training faces are what is left after a validation split is held out: they need every split.
    source = _read_selected(cfg, unknown, only=None if key == "train" else key)
    if source.only is not None:
        return source.splits[key]
    faces = getattr(_assemble(cfg, source.splits, source.names), key)
    if faces is None:
        raise DataError(f"{cfg.path}: has no {split} split")
    return faces


def _read_source(cfg: DataConfig, only: str | None) -> SourceData:
    path = cfg.path
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        reader = read_ferplus_folders if is_ferplus_folder(path) else read_image_folders
        return reader(path, cfg.preprocess, cfg.skip_bad, only)
    if path.suffix.lower() == ".csv":
        reader = read_ferplus_csv if is_ferplus_csv(path) else read_fer2013_csv
        return reader(path, cfg.preprocess, cfg.skip_bad, only)
    if path.suffix.lower() == ".npz":
        return _read_npz(path, cfg.preprocess)
    raise DataError(f"{path}: unsupported data source (expected a fer2013-format .csv, a .npz face-array file "
                    f"or a folder of images)")


def _read_npz(path: Path, preprocess: PreprocessConfig) -> SourceData:
    """A saved `FaceArrays` is one unsplit set; its faces still pass through the shared preprocessing."""
    faces = FaceArrays.load(path)
    classes = tuple(normalise_label(c) for c in faces.classes)
    images = prepare_faces(list(faces.images), preprocess)
    return SourceData({UNSPLIT: FaceArrays(images, faces.labels, classes, faces.sources)}, {UNSPLIT: path.name})


def _read_source_cached(cfg: DataConfig, only: str | None) -> SourceData:
    """The source through the cache: an entry of the whole source serves any split; one of the split `only`
    serves that split."""
    if cfg.cache_dir is None or cfg.path.suffix.lower() == ".npz" or not cfg.path.exists():
        return _with_faces(cfg, _read_source(cfg, only))
    fingerprint = source_fingerprint(cfg.path)
    source = load_cached(cfg, fingerprint)
    if source is None and only is not None:
        source = load_cached(cfg, fingerprint, only)
    if source is None:
        source = _with_faces(cfg, _read_source(cfg, only))  # an empty source is refused, never cached
        save_cached(cfg, source, fingerprint)
    return source


def _with_faces(cfg: DataConfig, source: SourceData) -> SourceData:
    if not any(len(faces) for faces in source.splits.values()):
        raise DataError(f"{cfg.path}: holds no faces (no rows, or no image files in class folders)")
    return source


def _check_known_classes(cfg: DataConfig, faces: FaceArrays, classes: tuple[str, ...]) -> None:
    """Refuse classes outside the canonical seven unless the user listed them in `extra_classes`; FER+'s contempt
    is known, and left out like any class not in `classes`."""
    if faces.votes is not None:
        return
    for index, name in enumerate(faces.classes):
        members = np.flatnonzero(faces.labels == index)
        if len(members) and name not in EMOTIONS and name not in classes:
            in_folder = cfg.path.is_dir() and faces.sources
            where = f"folder {Path(faces.sources[members[0]]).parent}" if in_folder else str(cfg.path)
            raise DataError(f"{where}: unknown class '{name}'; accepted names: {accepted_names()}; "
                            f"list it in extra_classes to keep it")


def _assemble(cfg: DataConfig, splits: dict[str, FaceArrays], names: dict[str, str]) -> DatasetSplits:
    """Map the source's splits onto train/val/test, holding out a validation split where there is none."""
    if UNSPLIT in splits:
        train_from, train_all = names[UNSPLIT], splits[UNSPLIT]
    elif "train" in splits:
        train_from, train_all = names["train"], splits["train"]
    else:
        raise DataError(f"{cfg.path}: no training faces (found only {', '.join(names.values())})")
    if "val" in splits and UNSPLIT not in splits:
        train, val = train_all, splits["val"]
        parts = [f"train={train_from} ({len(train):,})", f"val={names['val']} ({len(val):,})"]
    else:
        train, val = stratified_split(train_all, cfg.val_fraction, cfg.seed)
        parts = [f"train={train_from} minus val ({len(train):,})",
                 f"val=stratified {cfg.val_fraction:.0%} of {train_from}, seed {cfg.seed} ({len(val):,})"]
    test = splits.get("test")
    if test is not None:
        parts.append(f"test={names['test']} ({len(test):,})")
    empty = [name for name, n in zip(train.classes, train.class_counts(), strict=True) if n == 0]
    if empty:
        logger.warning("%s: no training faces for class(es) %s", cfg.path, ", ".join(empty))
    return DatasetSplits(train, val, test, ", ".join(parts))
