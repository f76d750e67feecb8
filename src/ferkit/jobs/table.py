"""The results table of a job: its rows, its columns, and the files it is written to.

A row is an image's row as `ImageResult.rows()` gives it (the input as named in `source`, the frame index and
time for videos, the image size, the box, the five landmarks, the label, its confidence, one `prob_<class>`
column per class and the track id, rounded as `ImageResult.to_dict()` rounds them), plus the columns of the job
(`JOB_COLUMNS`): the input's resolved real path, its status and error, the model's name and version, and the
annotated copy's path within the results folder (with `--annotate`). An input with no face gets one row with
`status="no_face"`, an input that failed one row with `status="error"` and the reason, so that none is dropped
silently and every finished input has at least one row.

Rows reach disk in *parts*, each written to a temporary name and renamed when complete, so a killed run leaves
only whole parts; the `path` column of the parts on disk is the record of what is done (`DoneInputs`). An input
with an `error` row is not done: `DoneInputs.scan` names it, a rerun that names it analyses it again, and once
its new rows are written `drop_inputs` takes its old ones out of the parts that were there before (each part
rewritten whole). Killed in between, the table holds both, and the error row makes the next run do it again.
Parts written before the table took `ImageResult.rows()`' columns are rewritten in them when a run resumes the
table (`upgrade_parts`), so one table never mixes the two.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ferkit.errors import ConfigError
from ferkit.files import atomic_path
from ferkit.inference.download import sha256_of
from ferkit.inference.result import ImageResult, row_columns
from ferkit.inference.types import BOX_COLUMNS, LANDMARK_POINTS, Box, FacePrediction, rounded

Format = Literal["parquet", "jsonl", "csv"]
FORMATS: tuple[str, ...] = ("parquet", "jsonl", "csv")
SUFFIX = {"parquet": ".parquet", "jsonl": ".jsonl", "csv": ".csv"}
JOB_COLUMNS = ("path", "status", "error", "model", "model_version", "annotated")  # what the table adds to rows()


@dataclass(frozen=True)
class ModelVersion:
    """What every row says about the model that produced it: the name asked for (`model` column), the version of
    its weights (`model_version`), and its classes (the `prob_<class>` columns)."""

    name: str
    version: str  # first 12 hex digits of the model file's sha256: the same name can hold other weights
    classes: tuple[str, ...]

    @classmethod
    def of_file(cls, name: str, source: Path | None, classes: Sequence[str]) -> ModelVersion:
        """`name`'s version read from its file `source` ("unknown" where there is none)."""
        version = sha256_of(source)[:12] if source is not None and source.is_file() else "unknown"
        return cls(name, version, tuple(classes))


def columns(classes: Sequence[str]) -> list[str]:
    """The table's columns, in order: those of `ImageResult.rows()`, then `JOB_COLUMNS`."""
    return [*row_columns(classes), *JOB_COLUMNS]


def face_rows(result: ImageResult, model: ModelVersion, path: str | None = None,
              annotated: str | None = None) -> list[dict[str, Any]]:
    """The rows of one image or video frame (its `source` names its input, `path` its real path, default the
    source's): one per face, or one `no_face` row; `annotated` names its annotated copy.

    Raises:
        ValueError: `result` has no source (a table row names its input).
    """
    if result.source is None:
        raise ValueError("a table row names its input: give the result its source")
    job = {"path": path or os.path.realpath(result.source), "status": "ok" if result.faces else "no_face",
           "annotated": annotated}
    return [_row(model, **row, **job) for row in result.rows(model.classes)]


def error_row(source: str, reason: str, model: ModelVersion, path: str | None = None) -> dict[str, Any]:
    """The one row of an input that could not be analysed."""
    return _row(model, source=source, path=path or os.path.realpath(source), status="error", error=reason)


def _row(model: ModelVersion, **values: Any) -> dict[str, Any]:
    """A row with every column in table order; columns not given are None."""
    return _ordered({**values, "model": model.name, "model_version": model.version}, model.classes)


def _ordered(values: dict[str, Any], classes: Sequence[str]) -> dict[str, Any]:
    return {name: values.get(name) for name in columns(classes)}


def _schema(classes: Sequence[str]) -> Any:
    import pyarrow as pa

    types = {"source": pa.string(), "path": pa.string(), "frame": pa.int64(), "time_s": pa.float64(),
             "status": pa.string(), "error": pa.string(), "width": pa.int32(), "height": pa.int32(),
             **dict.fromkeys(BOX_COLUMNS, pa.int32()), "track_id": pa.int64(),
             "label": pa.string(), "model": pa.string(), "model_version": pa.string(), "annotated": pa.string()}
    return pa.schema([(name, types.get(name, pa.float32())) for name in columns(classes)])


def _write(path: Path, fmt: Format, rows: Sequence[dict[str, Any]], names: Sequence[str], schema: Any = None) -> None:
    """`rows` as one part file at `path`, columns `names` (Parquet: `schema`, default inferred)."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
    elif fmt == "jsonl":
        with path.open("w") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    else:
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, list(names))
            writer.writeheader()
            writer.writerows(rows)


def _read(part: Path, fmt: Format, wanted: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The rows of a part (Parquet: only the `wanted` columns, default all; CSV: every value a string)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(part, columns=None if wanted is None else list(wanted)).to_pylist()
    with part.open(newline="") as f:
        return list(csv.DictReader(f)) if fmt == "csv" else [json.loads(line) for line in f]


def _names(part: Path, fmt: Format) -> list[str]:
    """A part's columns, read from its schema or its first line."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(part).names)
    with part.open(newline="") as f:
        first = f.readline()
    return next(csv.reader([first])) if fmt == "csv" else list(json.loads(first))


class PartWriter:
    """Writes each batch of rows as one part file in `folder`: `part-<run>-<n>.<format>`, complete or absent.

    Parquet parts together form one table for `pyarrow.dataset.dataset(folder)`; JSONL and CSV parts can be
    concatenated (CSV parts each carry the header).
    """

    def __init__(self, folder: Path, fmt: Format, classes: Sequence[str]) -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown table format '{fmt}'; choose one of {', '.join(FORMATS)}")
        self.folder = folder
        self.fmt = fmt
        self.columns = columns(classes)
        self._schema = _schema(classes) if fmt == "parquet" else None
        self._run = f"{os.getpid()}-{os.urandom(3).hex()}"  # parts of a resumed run never collide with old ones
        self._count = 0
        self.rows_written = 0
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, rows: Sequence[dict[str, Any]]) -> Path | None:
        """One complete part holding `rows` (none for an empty list)."""
        if not rows:
            return None
        path = self.folder / f"part-{self._run}-{self._count:06d}{SUFFIX[self.fmt]}"
        with atomic_path(path) as tmp:  # hidden until renamed: `DoneInputs.scan` sees only whole parts
            _write(tmp, self.fmt, rows, self.columns, self._schema)
        self._count += 1
        self.rows_written += len(rows)
        return path


def input_key(path: str) -> int:
    """An input's 8-byte identity: a hash of its real path."""
    return int.from_bytes(hashlib.blake2b(path.encode(), digest_size=8).digest(), "little")


def parts(folder: Path, fmt: Format) -> list[Path]:
    """The complete parts of the table in `folder` (temporary files of a killed writer are hidden)."""
    return sorted(folder.glob(f"part-*{SUFFIX[fmt]}")) if folder.is_dir() else []


class DoneInputs:
    """The inputs that already have rows in a results folder, as 8-byte hashes of their real paths (so a million
    finished inputs take 8 MB, not the hundreds a set of path strings would); `failed` holds those of inputs
    with an `error` row, which are not done."""

    def __init__(self, keys: Iterable[int] = (), failed: Iterable[int] = ()) -> None:
        self.failed = np.unique(np.fromiter(failed, np.uint64))
        keys = np.unique(np.fromiter(keys, np.uint64))
        self._keys = keys[~np.isin(keys, self.failed)]

    @classmethod
    def scan(cls, folder: Path, fmt: Format) -> DoneInputs:
        """Read the `path` and `status` columns of every complete part in `folder`."""
        keys, failed = [], []
        for part in parts(folder, fmt):
            for path, status in _paths_of(part, fmt):
                (failed if status == "error" else keys).append(input_key(path))
        return cls(keys, failed)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, path: str) -> bool:
        """Whether the input whose real path is `path` is done."""
        i = np.searchsorted(self._keys, np.uint64(input_key(path)))
        return bool(i < len(self._keys) and self._keys[i] == input_key(path))


def drop_inputs(old_parts: Sequence[Path], fmt: Format, keys: Iterable[int]) -> int:
    """Take every row of the inputs whose keys (`input_key`) are `keys` out of `old_parts`, each part rewritten
    atomically (removed when nothing is left). Returns the rows dropped."""
    keys = np.fromiter(keys, np.uint64)
    if not len(keys):
        return 0
    dropped = 0
    for part in old_parts:
        paths = [path for path, _ in _paths_of(part, fmt)]
        gone = np.isin(np.fromiter((input_key(p) for p in paths), np.uint64, len(paths)), keys)
        if gone.any():
            _rewrite(part, fmt, ~gone)
            dropped += int(gone.sum())
    return dropped


def _rewrite(part: Path, fmt: Format, keep: np.ndarray) -> None:
    if not keep.any():
        part.unlink()
        return
    with atomic_path(part) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pq.read_table(part).filter(pa.array(keep)), tmp)
            return
        rows = _read(part, fmt)
        _write(tmp, fmt, [row for row, k in zip(rows, keep, strict=True) if k], list(rows[0]))


def table_model(folder: Path, fmt: Format) -> ModelVersion | None:
    """The model whose rows the table in `folder` holds (read from its first part); None for no table yet."""
    found = parts(folder, fmt)
    if not found:
        return None
    row = next(iter(_read(found[0], fmt, ["model", "model_version"])), {})
    classes = tuple(name.removeprefix("prob_") for name in _names(found[0], fmt) if name.startswith("prob_"))
    return ModelVersion(row.get("model") or "", row.get("model_version") or "", classes)


def _paths_of(part: Path, fmt: Format) -> list[tuple[str, str]]:
    """(real path, status) of each row of a part."""
    return [(row["path"], row.get("status") or "") for row in _read(part, fmt, ["path", "status"])]


# --- tables written before the rows of ImageResult (columns input, x, y, w, h, landmark_0..9, no confidence) ----


def upgrade_parts(folder: Path, fmt: Format, classes: Sequence[str]) -> int:
    """Rewrite each part of the table in `folder` that has the old columns in today's (`columns(classes)`),
    atomically, its values as `ImageResult.rows()` gives them; returns the parts rewritten. A run resuming the
    table calls it before it adds a part, so the table never mixes the two (a run killed meanwhile leaves whole
    parts of either shape, and the next one finishes the job)."""
    upgraded = 0
    for part in parts(folder, fmt):
        if "input" in _names(part, fmt):
            with atomic_path(part) as tmp:
                _write(tmp, fmt, [_upgraded(row, classes) for row in _read(part, fmt)], columns(classes),
                       _schema(classes) if fmt == "parquet" else None)
            upgraded += 1
    return upgraded


def _upgraded(old: dict[str, Any], classes: Sequence[str]) -> dict[str, Any]:
    """An old row in today's columns: the face rebuilt and flattened by `FacePrediction.to_row`."""
    face: dict[str, Any] = {}
    if old.get("label"):
        points = [_number(old.get(f"landmark_{i}")) for i in range(2 * LANDMARK_POINTS)]
        landmarks = None if None in points else np.array(points).reshape(LANDMARK_POINTS, 2)
        face = FacePrediction(Box(*(float(old[key]) for key in "xywh")), float(old["score"]),
                              {c: float(old[f"prob_{c}"]) for c in classes}, landmarks,
                              _integer(old.get("track_id"))).to_row(classes)
    time_s = _number(old.get("time_s"))
    return _ordered({**old, "source": old["input"], "path": old.get("path") or os.path.realpath(old["input"]),
                     "frame": _integer(old.get("frame")), "time_s": None if time_s is None else rounded(time_s),
                     "width": _integer(old.get("width")), "height": _integer(old.get("height")), **face}, classes)


def _number(value: Any) -> float | None:
    """An optional number of an old row: None when missing (empty in CSV, whose values are all strings)."""
    return None if value is None or value == "" else float(value)


def _integer(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)
