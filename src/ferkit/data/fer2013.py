"""Read the original `fer2013.csv` (columns `emotion,pixels,Usage`) into faces per split.

`emotion` is an index into `ferkit.constants.EMOTIONS` (FER2013's own order), `pixels` holds 2,304
space-separated integers 0..255 (a 48x48 face, row-major), and `Usage` names the split: Training ->
train, PublicTest -> val, PrivateTest -> test. A file without a `Usage` column is one unsplit set. Each
row's pixels are parsed by numpy in one call, so the 35,887-row file reads in about two seconds.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from ferkit.constants import EMOTIONS, FER_INPUT_SIZE
from ferkit.data.arrays import FaceArrays
from ferkit.data.source import UNSPLIT, BadInputs, SourceData
from ferkit.errors import DataError
from ferkit.transforms.preprocess import PreprocessConfig, prepare_faces

USAGE_SPLITS = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
_N_PIXELS = FER_INPUT_SIZE * FER_INPUT_SIZE
_PIXEL_CHARS = b"0123456789 \t"
_NOT_A_PIXEL_CHAR = re.compile(r"[^0-9 \t]")


def _parse_pixels(text: str) -> np.ndarray:
    """2,304 ints 0..255 -> uint8 48x48.

    Raises:
        ValueError: a message saying what is wrong (non-numeric value, wrong count, value out of range).
    """
    if text.encode().translate(None, _PIXEL_CHARS):  # a fast C check; the regex only runs to name the value
        bad = _NOT_A_PIXEL_CHAR.search(text)
        start = text.rfind(" ", 0, bad.start()) + 1
        end = text.find(" ", bad.start())
        token = text[start:end if end >= 0 else None]
        if re.fullmatch(r"-\d+", token):
            raise ValueError(f"pixel value {token} out of range 0..255")
        raise ValueError(f"non-numeric pixel value '{token[:20]}'")
    values = np.fromstring(text, dtype=np.int64, sep=" ")
    if values.size != _N_PIXELS:
        raise ValueError(f"{values.size} pixel values, expected {_N_PIXELS} ({FER_INPUT_SIZE}x{FER_INPUT_SIZE})")
    if values.max() > 255:
        raise ValueError(f"pixel value {values.max()} out of range 0..255")
    return values.astype(np.uint8).reshape(FER_INPUT_SIZE, FER_INPUT_SIZE)


def _parse_emotion(text: str) -> int:
    try:
        emotion = int(text)
    except ValueError:
        raise ValueError(f"emotion '{text}' is not an integer") from None
    if not 0 <= emotion < len(EMOTIONS):
        raise ValueError(f"emotion {emotion} outside 0..{len(EMOTIONS) - 1}")
    return emotion


def _column_index(path: Path, header: list[str]) -> dict[str, int]:
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [name for name in ("emotion", "pixels") if name not in columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} in the header {header!r} "
                        f"(expected emotion,pixels,Usage)")
    return columns


def read_fer2013_csv(path: Path, preprocess: PreprocessConfig, skip_bad: bool = False,
                     only: str | None = None) -> SourceData:
    """Read a FER2013-format CSV into faces per split (sources are `"<path>:<line>"`). With `only` a split,
    the rows of other splits are neither parsed nor checked; a file without that split is read whole.

    Raises:
        DataError: a missing column, or (unless `skip_bad`) a row with a wrong field count, a non-numeric or
            out-of-range pixel, a wrong pixel count, an emotion outside 0..6 or an unknown Usage. The message
            names the file and the row.
    """
    bad = BadInputs(skip_bad)
    rows: dict[str, list[tuple[np.ndarray, int, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file (expected the header emotion,pixels,Usage)")
        columns = _column_index(path, header)
        usage_col = columns.get("usage")
        for row_number, row in enumerate(reader, start=1):
            if not row:
                continue  # a blank line holds no face
            where = f"{path}, row {row_number} (line {reader.line_num})"
            if len(row) != len(header):
                bad.report(f"{where}: {len(row)} fields, expected {len(header)} ({','.join(header)})")
                continue
            usage = row[usage_col].strip() if usage_col is not None else None
            if only is not None and USAGE_SPLITS.get(usage or "") != only:
                continue
            if usage is not None and usage not in USAGE_SPLITS:
                bad.report(f"{where}: unknown Usage '{usage}' (expected {', '.join(USAGE_SPLITS)})")
                continue
            try:
                face = _parse_pixels(row[columns["pixels"]])
                emotion = _parse_emotion(row[columns["emotion"]].strip())
            except ValueError as exc:
                bad.report(f"{where}: {exc}")
                continue
            split = USAGE_SPLITS[usage] if usage is not None else UNSPLIT
            rows[split].append((face, emotion, f"{path}:{reader.line_num}"))

    if only is not None and not rows:
        return read_fer2013_csv(path, preprocess, skip_bad)  # no such split: the caller needs every row
    splits = {split: _to_arrays(items, preprocess) for split, items in rows.items()}
    usage_of = {split: usage for usage, split in USAGE_SPLITS.items()}
    names = {split: f"{path.name} {usage_of.get(split, '')}".strip() for split in splits}
    return SourceData(splits, names, tuple(bad.skipped), only)


def _to_arrays(items: list[tuple[np.ndarray, int, str]], preprocess: PreprocessConfig) -> FaceArrays:
    images = prepare_faces([face for face, _, _ in items], preprocess)
    labels = np.array([emotion for _, emotion, _ in items], dtype=np.int64)
    return FaceArrays(images, labels, EMOTIONS, tuple(source for _, _, source in items))
