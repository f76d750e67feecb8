"""FER+ (Barsoum et al. 2016): every FER2013 face labelled again by ten annotators, read as votes per face.

Two layouts are read, both into `FaceArrays` whose `votes` are the raw counts:
- the folders that FERPlus's `generate_training_data.py` writes: a root holding `FER2013Train/`,
  `FER2013Valid/` and `FER2013Test/` (train, val, test), or one of those folders alone (one unsplit set), each
  with 48x48 PNGs and a headerless `label.csv`: image name, face box, then ten vote counts;
- `fer2013new.csv` (header `Usage,Image name,<ten columns>`), joined row by row with the original
  `fer2013.csv` beside it, which holds the pixels. A row with an empty image name is a face FER+ left out.

The ten vote columns are, in FER+'s order, neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
unknown and NF (not a face); as read they are the classes `VOTE_CLASSES` (ferkit's names), labels the plurality.
The cache keeps these raw counts, so changing the label mode never re-reads an image.

`label_votes` then turns the counts into targets by one of the paper's label modes, following the reference code
(`ferplus.py::_process_data` and `_process_target` of microsoft/FERPlus) exactly:
- single votes are outliers: a count of 1 becomes 0, always, before anything else;
- `majority`: the emotion with more than half of all the votes, one-hot; a face without one is left out;
- `crossentropy` / `probability`: the largest vote groups (at most three, until 75% of the votes are covered, and
  never past unknown or NF) as a distribution; left out when they cover half the votes or less. `crossentropy`
  trains against that distribution, `probability` draws one label from it at each step (`train.datamodule`);
- `multi_target`: every emotion with at least 30% of the votes, as a distribution; left out when those cover half
  the votes or less. The loss rewards the likeliest of those emotions (`train.module`);
- `plurality` (not in the paper): the emotion with the most votes, and the vote distribution itself; what
  `ferkit evaluate` scores agreement against.
Under every mode a face whose result is mostly unknown or not-a-face is left out, and each left-out face is
counted in the log. The result has FER+'s eight classes, `FERPLUS_CLASSES` (FER2013's seven, then contempt).
"""

from __future__ import annotations

import csv
import logging
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays
from ferkit.data.config import EvalLabelMode, LabelMode
from ferkit.data.fer2013 import USAGE_SPLITS, read_fer2013_csv
from ferkit.data.folders import read_image
from ferkit.data.source import UNSPLIT, BadInputs, SourceData
from ferkit.errors import DataError
from ferkit.transforms.preprocess import PreprocessConfig

log = logging.getLogger(__name__)

# The ten vote columns of label.csv and fer2013new.csv, in their order, named as ferkit names classes.
VOTE_CLASSES: tuple[str, ...] = ("neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt",
                                 "unknown", "not_face")
_VOTE_HEADER = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown",
                "NF")
_EMOTION_VOTES = 8  # the first eight columns are emotions; unknown and NF follow
FERPLUS_CLASSES: tuple[str, ...] = (*EMOTIONS, "contempt")
FOLDER_SPLITS = {"FER2013Train": "train", "FER2013Valid": "val", "FER2013Test": "test"}
LABEL_FILE = "label.csv"
PIXELS_FILE = "fer2013.csv"  # read beside fer2013new.csv
_USAGE_OF = {split: usage for usage, split in USAGE_SPLITS.items()}


def is_ferplus_folder(path: Path) -> bool:
    """A FER+ root (holding FER2013Train/...) or one of its split folders (holding label.csv)."""
    return (path / LABEL_FILE).is_file() or any((path / name / LABEL_FILE).is_file() for name in FOLDER_SPLITS)


def is_ferplus_csv(path: Path) -> bool:
    """A fer2013new.csv: its header starts `Usage,Image name`."""
    with path.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), [])
    return [h.strip().lower() for h in header[:2]] == ["usage", "image name"]


def _parse_votes(fields: list[str]) -> np.ndarray:
    """Ten non-negative integer counts.

    Raises:
        ValueError: the message says which value is wrong.
    """
    if len(fields) != len(VOTE_CLASSES):
        raise ValueError(f"{len(fields)} vote counts, expected {len(VOTE_CLASSES)} ({', '.join(_VOTE_HEADER)})")
    try:
        votes = np.array([int(v) for v in fields], dtype=np.float32)
    except ValueError:
        raise ValueError(f"vote counts must be integers, got {', '.join(fields)}") from None
    if votes.min() < 0:
        raise ValueError(f"negative vote count in {', '.join(fields)}")
    return votes


def _to_arrays(images: list[np.ndarray], votes: list[np.ndarray], sources: list[str], size: int) -> FaceArrays:
    stacked = np.stack(votes) if votes else np.zeros((0, len(VOTE_CLASSES)), np.float32)
    pixels = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    return FaceArrays(pixels, stacked.argmax(axis=1), VOTE_CLASSES, tuple(sources), stacked)


def read_ferplus_folders(root: Path, preprocess: PreprocessConfig, skip_bad: bool = False,
                         only: str | None = None) -> SourceData:
    """The faces and votes of a FER+ root (its split folders) or of one split folder alone (unsplit); with
    `only` a split the root has, that split's folder alone.

    Raises:
        DataError: (unless `skip_bad`) a label.csv row with a wrong field count or malformed counts, or an image
            it names that is missing or unreadable; the message names label.csv and the line.
    """
    if (root / LABEL_FILE).is_file():
        folders = {UNSPLIT: root}
    else:
        folders = {split: root / name for name, split in FOLDER_SPLITS.items() if (root / name / LABEL_FILE).is_file()}
    only = only if only in folders else None
    if only is not None:
        folders = {only: folders[only]}
    bad = BadInputs(skip_bad)
    splits = {split: _read_folder(folder, preprocess, bad) for split, folder in folders.items()}
    names = {split: f"{root.name} {folder.name}" if folder != root else root.name for split, folder in folders.items()}
    return SourceData(splits, names, tuple(bad.skipped), only)


def _read_folder(folder: Path, preprocess: PreprocessConfig, bad: BadInputs) -> FaceArrays:
    label_file = folder / LABEL_FILE
    images, votes, sources = [], [], []
    with label_file.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        for row in reader:
            if not row:
                continue
            where = f"{label_file}, line {reader.line_num}"
            if len(row) != 2 + len(VOTE_CLASSES):
                bad.report(f"{where}: {len(row)} fields, expected {2 + len(VOTE_CLASSES)} (image name, face box, "
                           f"{', '.join(_VOTE_HEADER)})")
                continue
            image = folder / row[0].strip()
            try:
                counts = _parse_votes(row[2:])
            except ValueError as exc:
                bad.report(f"{where}: {exc}")
                continue
            if not image.is_file():
                bad.report(f"{where}: image {image.name} is missing from {folder}")
                continue
            try:
                images.append(read_image(image, preprocess))
            except DataError as exc:
                bad.report(f"{where}: {exc}")
                continue
            votes.append(counts)
            sources.append(str(image))
    return _to_arrays(images, votes, sources, preprocess.input_size)


def read_ferplus_csv(path: Path, preprocess: PreprocessConfig, skip_bad: bool = False,
                     only: str | None = None) -> SourceData:
    """The faces of the `fer2013.csv` beside `path` (a fer2013new.csv) with their votes, joined by row order:
    row K of one file is row K of the other. `only`: as `read_fer2013_csv`.

    Raises:
        DataError: fer2013.csv is missing; the two files have different numbers of rows, or a row's Usage
            differs between them; or (unless `skip_bad`) a malformed row. Each message names the file and line.
    """
    pixels_path = path.parent / PIXELS_FILE
    if not pixels_path.is_file():
        raise DataError(f"{path}: holds only FER+ votes; the pixels are read from {PIXELS_FILE} beside it, and "
                        f"{pixels_path} does not exist")
    pixels = read_fer2013_csv(pixels_path, preprocess, skip_bad, only)
    by_line = {int(src.rpartition(":")[2]): (split, i)
               for split, faces in pixels.splits.items() for i, src in enumerate(faces.sources)}
    with pixels_path.open("rb") as f:
        pixel_rows = sum(1 for line in f if line.strip()) - 1
    bad = BadInputs(skip_bad)
    picked: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
    no_image = 0
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        rows = 0
        for row in reader:
            if not row:
                continue
            rows += 1
            where = f"{path}, line {reader.line_num}"
            if rows > pixel_rows:
                raise DataError(f"{where}: {pixels_path.name} has only {pixel_rows:,} rows; the two files are "
                                f"joined by row order and must have as many rows")
            if len(row) != 2 + len(VOTE_CLASSES):
                bad.report(f"{where}: {len(row)} fields, expected {2 + len(VOTE_CLASSES)} (Usage, Image name, "
                           f"{', '.join(_VOTE_HEADER)})")
                continue
            try:
                counts = _parse_votes(row[2:])
            except ValueError as exc:
                bad.report(f"{where}: {exc}")
                continue
            if not row[1].strip():
                no_image += 1
                continue
            face = by_line.get(reader.line_num)  # fer2013.csv's row K sits on the same line as this one
            if face is None:
                continue  # a fer2013.csv row of a split not read, or skipped as malformed (skip_bad): counted
            split, i = face
            if USAGE_SPLITS.get(row[0].strip()) != split:
                raise DataError(f"{where}: Usage '{row[0].strip()}', but line {reader.line_num} of {pixels_path} is "
                                f"{_USAGE_OF[split]}: the files are not in the same row order")
            picked[split].append((i, counts))
    if rows != pixel_rows:
        raise DataError(f"{path}: {rows:,} rows (it ends at line {rows + 1}), but {pixels_path} has {pixel_rows:,}; "
                        f"the two files are joined by row order and must have as many rows")
    if no_image:
        log.info("%s: %d row(s) without an image name left out (FER+ found no usable face there)", path, no_image)
    splits, names = {}, {}
    for split, items in picked.items():
        faces = pixels.splits[split]
        index = [i for i, _ in items]
        sources = [faces.sources[i] for i in index]
        splits[split] = _to_arrays(list(faces.images[index]), [v for _, v in items], sources, preprocess.input_size)
        names[split] = f"{path.name} {pixels.names[split].rpartition(' ')[2]}"
    return SourceData(splits, names, tuple(pixels.skipped) + tuple(bad.skipped), pixels.only)


def shape_votes(counts: np.ndarray, mode: LabelMode) -> np.ndarray | None:
    """One face's ten raw counts shaped by `mode` into a distribution over its eight emotions, or None when the
    face is left out. This is the reference `_process_data`, then its filter (plurality not unknown/NF) and
    renormalisation; `probability` and `crossentropy` shape alike (they differ only in how training uses it)."""
    raw = [float(c) for c in counts]  # Python floats: a float32 1 would not compare below 1 + epsilon
    raw = [0.0 if c < 1.0 + sys.float_info.epsilon else c for c in raw]  # single votes are outliers
    total, size = sum(raw), len(raw)
    emotion = [0.0] * size
    if mode == "majority":
        if max(raw) > 0.5 * total:
            emotion[int(np.argmax(raw))] = max(raw)
    elif mode in ("probability", "crossentropy"):
        emotion = _largest_groups(raw, total)
    elif mode == "multi_target":
        emotion = [c if c >= 0.3 * total else 0.0 for c in raw]
        if sum(emotion) <= 0.5 * total:
            emotion = [0.0] * size
    elif mode == "plurality":
        emotion = raw
    else:
        raise ValueError(f"unknown label mode '{mode}'")
    if sum(emotion) <= 0 or int(np.argmax(emotion)) >= _EMOTION_VOTES:
        return None
    kept = np.array(emotion[:_EMOTION_VOTES], dtype=np.float64)
    return kept / kept.sum()


def _largest_groups(raw: list[float], total: float) -> list[float]:
    """The reference's `probability`/`crossentropy` selection: vote groups, largest first, until 75% of the votes,
    three emotions or unknown/NF is reached; all zero (left out) when they cover half the votes or less."""
    raw, emotion = list(raw), [0.0] * len(raw)
    covered, count, valid = 0.0, 0, True
    while covered < 0.75 * total and count < 3 and valid:
        top = max(raw)
        for i, votes in enumerate(raw):
            if votes != top:
                continue
            emotion[i], raw[i] = votes, 0.0
            covered += votes
            count += 1
            if i >= _EMOTION_VOTES:  # unknown or NF ties with or follows the emotions taken so far
                valid = False
                if sum(emotion) > top:  # emotions came before it: it is not part of the target
                    emotion[i] = 0.0
                    count -= 1
                break
    if sum(emotion) <= 0.5 * total or count > 3:
        return [0.0] * len(raw)
    return emotion


def label_votes(source: SourceData, label_mode: LabelMode, eval_label_mode: EvalLabelMode) -> SourceData:
    """Each split of a FER+ source labelled by its mode: the training split (and an unsplit set) by `label_mode`,
    validation and test by `eval_label_mode`; logs how many faces of each split were left out."""
    splits = {}
    for split, faces in source.splits.items():
        mode = label_mode if split in ("train", UNSPLIT) else eval_label_mode
        splits[split] = _label_split(faces, mode, source.names[split])
    return SourceData(splits, source.names, source.skipped, source.only)


def _label_split(faces: FaceArrays, mode: LabelMode, name: str) -> FaceArrays:
    shaped = [shape_votes(v, mode) for v in faces.votes]
    keep = np.array([s is not None for s in shaped], dtype=bool)
    order = [VOTE_CLASSES.index(c) for c in FERPLUS_CLASSES]
    dist = np.array([s for s in shaped if s is not None], dtype=np.float32).reshape(-1, _EMOTION_VOTES)[:, order]
    left_out = int((~keep).sum())
    if left_out:
        cleaned = np.where(faces.votes > 1, faces.votes, 0)
        not_face = int((cleaned[~keep].argmax(axis=1) >= _EMOTION_VOTES).sum()) if len(cleaned) else 0
        log.info("%s: label mode %s left out %d of %d faces (%d mostly unknown or not a face, %d without enough "
                 "agreement)", name, mode, left_out, len(faces), not_face, left_out - not_face)
    kept = faces.subset(keep)
    return FaceArrays(kept.images, dist.argmax(axis=1), FERPLUS_CLASSES, kept.sources, dist)


def run_classes(classes: tuple[str, ...], ferplus_classes: int) -> tuple[str, ...]:
    """The extra classes a FER+ run keeps besides FER2013's seven: contempt when asked for by name or, with no
    class list, when `ferplus_classes` is 8."""
    wants = "contempt" in classes if classes else ferplus_classes == len(FERPLUS_CLASSES)
    return ("contempt",) if wants else ()
