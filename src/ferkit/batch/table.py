"""The results table of a batch run: its rows, its columns, and the files it is written to.

One row per face, with the input as named and its resolved real path, the frame index and time (videos), the
track id, the box, the five landmarks, the label, one probability column per class, the model's name and
version, and the annotated copy's path within the results folder (with `--annotate`). An input with no face
gets one row with `status="no_face"`, an input that failed one row with `status="error"` and the reason,
so that none is dropped silently and every finished input has at least one row.

Rows reach disk in *parts*, each written to a temporary name and renamed when complete, so a killed run leaves
only whole parts; the `path` column of the parts on disk is the record of what is done (`DoneInputs`). An input
with an `error` row is not done: `DoneInputs.scan` names it, a rerun that names it analyses it again, and once
its new rows are written `drop_inputs` takes its old ones out of the parts that were there before (each part
rewritten whole). Killed in between, the table holds both, and the error row makes the next run do it again.
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
    return ["input", "path", "frame", "time_s", "status", "error", "width", "height", "track_id", "x", "y", "w", "h",
            "score", *(f"landmark_{i}" for i in range(LANDMARKS)), "label", *(f"prob_{c}" for c in classes),
            "model", "model_version", "annotated"]


def face_rows(source: str, result: ImageResult, model: ModelTag, path: str | None = None,
              annotated: str | None = None) -> list[dict[str, Any]]:
    """The rows of one image or video frame (`source` names its input, `path` its real path, default the
    source's): one per face, or one `no_face` row; `annotated` names its annotated copy."""
    time_s = None if result.time_s is None else round(result.time_s, 4)
    base = {"input": source, "path": path or os.path.realpath(source), "frame": result.frame, "time_s": time_s,
            "width": result.width, "height": result.height, "annotated": annotated}
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


def error_row(source: str, reason: str, model: ModelTag, path: str | None = None) -> dict[str, Any]:
    """The one row of an input that could not be analysed."""
    return _row(model, input=source, path=path or os.path.realpath(source), status="error", error=reason)


def _row(model: ModelTag, **values: Any) -> dict[str, Any]:
    """A row with every column in table order; columns not given are None."""
    values.update(model=model.name, model_version=model.version)
    return {name: values.get(name) for name in columns(model.classes)}


def _schema(classes: Sequence[str]) -> Any:
    import pyarrow as pa

    types = {"input": pa.string(), "path": pa.string(), "frame": pa.int64(), "time_s": pa.float64(),
             "status": pa.string(), "error": pa.string(), "width": pa.int32(), "height": pa.int32(),
             "track_id": pa.int64(),
             "label": pa.string(), "model": pa.string(), "model_version": pa.string(), "annotated": pa.string()}
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
        with part.open(newline="") as f:
            reader = csv.DictReader(f) if fmt == "csv" else None
            rows = list(reader) if reader is not None else [json.loads(line) for line in f]
        kept = [row for row, k in zip(rows, keep, strict=True) if k]
        with tmp.open("w", newline="") as f:
            if reader is not None:
                writer = csv.DictWriter(f, list(reader.fieldnames or ()))
                writer.writeheader()
                writer.writerows(kept)
            else:
                f.writelines(json.dumps(row) + "\n" for row in kept)


def table_model(folder: Path, fmt: Format) -> ModelTag | None:
    """The model whose rows the table in `folder` holds (read from its first part); None for no table yet."""
    found = parts(folder, fmt)
    if not found:
        return None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(found[0], columns=["model", "model_version"]).slice(0, 1).to_pylist()
        names, row = pq.read_schema(found[0]).names, table[0] if table else {}
    else:
        with found[0].open(newline="") as f:
            row = next(csv.DictReader(f) if fmt == "csv" else (json.loads(line) for line in f), {})
        names = list(row)
    classes = tuple(name.removeprefix("prob_") for name in names if name.startswith("prob_"))
    return ModelTag(row.get("model") or "", row.get("model_version") or "", classes)


def _paths_of(part: Path, fmt: Format) -> list[tuple[str, str]]:
    """(real path, status) of each row of a part; tables written before the `path` column resolve `input`."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        wanted = [c for c in ("input", "path", "status") if c in pq.read_schema(part).names]
        rows = pq.read_table(part, columns=wanted).to_pylist()
    else:
        with part.open(newline="") as f:
            rows = list(csv.DictReader(f)) if fmt == "csv" else [json.loads(line) for line in f]
    return [(row.get("path") or os.path.realpath(row["input"]), row.get("status") or "") for row in rows]
