"""The results table of a batch run: its rows, its columns, and the files it is written to.

One row per face, with the input, the frame index and time (videos), the track id, the box, the five
landmarks, the label, one probability column per class and the model's name and version. An input with no
face gets one row with `status="no_face"`, an input that failed one row with `status="error"` and the reason,
so that none is dropped silently and every finished input has at least one row.

Rows reach disk in *parts*, each written to a temporary name and renamed when complete, so a killed run leaves
only whole parts; the `input` column of the parts on disk is the record of what is done (`DoneInputs`).
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
from ferkit.inference.result import ImageResult

Format = Literal["parquet", "jsonl", "csv"]
FORMATS: tuple[str, ...] = ("parquet", "jsonl", "csv")
SUFFIX = {"parquet": ".parquet", "jsonl": ".jsonl", "csv": ".csv"}
LANDMARKS = 10  # five (x, y) points


@dataclass(frozen=True)
class ModelTag:
    """What every row says about the model that produced it."""

    name: str
    version: str  # first 12 hex digits of the model file's sha256: the same name can hold other weights
    classes: tuple[str, ...]


def columns(classes: Sequence[str]) -> list[str]:
    """The table's columns, in order."""
    return ["input", "frame", "time_s", "status", "error", "width", "height", "track_id", "x", "y", "w", "h",
            "score", *(f"landmark_{i}" for i in range(LANDMARKS)), "label", *(f"prob_{c}" for c in classes),
            "model", "model_version"]


def face_rows(source: str, result: ImageResult, model: ModelTag) -> list[dict[str, Any]]:
    """The rows of one image or video frame (`source` names its input): one per face, or one `no_face` row."""
    time_s = None if result.time_s is None else round(result.time_s, 4)
    base = {"input": source, "frame": result.frame, "time_s": time_s, "width": result.width, "height": result.height}
    if not result.faces:
        return [_row(model, **base, status="no_face")]
    rows = []
    for face in result.faces:
        points = face.landmarks.reshape(-1).tolist() if face.landmarks is not None else [None] * LANDMARKS
        rows.append(_row(model, **base, status="ok", track_id=face.track_id, x=face.box.x, y=face.box.y,
                         w=face.box.w, h=face.box.h, score=face.score, label=face.label,
                         **{f"landmark_{i}": p for i, p in enumerate(points)},
                         **{f"prob_{c}": face.probabilities[c] for c in model.classes}))
    return rows


def error_row(source: str, reason: str, model: ModelTag) -> dict[str, Any]:
    """The one row of an input that could not be analysed."""
    return _row(model, input=source, status="error", error=reason)


def _row(model: ModelTag, **values: Any) -> dict[str, Any]:
    """A row with every column in table order; columns not given are None."""
    values.update(model=model.name, model_version=model.version)
    return {name: values.get(name) for name in columns(model.classes)}


def _schema(classes: Sequence[str]) -> Any:
    import pyarrow as pa

    types = {"input": pa.string(), "frame": pa.int64(), "time_s": pa.float64(), "status": pa.string(),
             "error": pa.string(), "width": pa.int32(), "height": pa.int32(), "track_id": pa.int64(),
             "label": pa.string(), "model": pa.string(), "model_version": pa.string()}
    return pa.schema([(name, types.get(name, pa.float32())) for name in columns(classes)])


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
            if self.fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.Table.from_pylist(list(rows), schema=self._schema), tmp)
            elif self.fmt == "jsonl":
                with tmp.open("w") as f:
                    f.writelines(json.dumps(row) + "\n" for row in rows)
            else:
                with tmp.open("w", newline="") as f:
                    writer = csv.DictWriter(f, self.columns)
                    writer.writeheader()
                    writer.writerows(rows)
        self._count += 1
        self.rows_written += len(rows)
        return path


def _key(source: str) -> int:
    return int.from_bytes(hashlib.blake2b(source.encode(), digest_size=8).digest(), "little")


class DoneInputs:
    """The inputs that already have rows in a results folder, as 8-byte hashes of their names (so a million
    finished inputs take 8 MB, not the hundreds a set of path strings would)."""

    def __init__(self, keys: Iterable[int] = ()) -> None:
        self._keys = np.unique(np.fromiter(keys, np.uint64))

    @classmethod
    def scan(cls, folder: Path, fmt: Format) -> DoneInputs:
        """Read the `input` column of every complete part in `folder` (temporary files are ignored)."""
        if not folder.is_dir():
            return cls()
        return cls(_key(source) for part in sorted(folder.glob(f"part-*{SUFFIX[fmt]}"))
                   for source in _inputs_of(part, fmt))

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, source: str) -> bool:
        i = np.searchsorted(self._keys, np.uint64(_key(source)))
        return bool(i < len(self._keys) and self._keys[i] == _key(source))


def _inputs_of(part: Path, fmt: Format) -> Iterable[str]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return set(pq.read_table(part, columns=["input"]).column("input").to_pylist())
    with part.open(newline="") as f:
        rows = csv.DictReader(f) if fmt == "csv" else (json.loads(line) for line in f)
        return {row["input"] for row in rows}
