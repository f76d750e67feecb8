"""The inputs of a batch run, streamed: files, folders (walked recursively), glob patterns and manifests,
each expanded lazily so that a million photos are never listed in memory at once.

A manifest is a `.txt` file with one path a line, or a `.csv` file whose `path` column (or first column)
names the inputs; relative paths are taken from the manifest's folder. Each input is an image or, by its
suffix, a video. A pattern that names nothing becomes an `Input` carrying the reason, so the run writes it
as a failed row instead of dropping it.
"""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ferkit.inference.images import IMAGE_SUFFIXES

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
MANIFEST_SUFFIXES = (".txt", ".csv")


@dataclass(frozen=True)
class Input:
    """One thing to analyse: `source` as the user named it (the table's `input` column)."""

    source: str
    kind: str  # "image", "video", or "missing" (then `problem` says why)
    problem: str = ""


def kind_of(path: str) -> str:
    return "video" if Path(path).suffix.lower() in VIDEO_SUFFIXES else "image"


def iter_inputs(sources: Iterable[str]) -> Iterator[Input]:
    """Every input named by `sources`, in a stable order (folders sorted level by level)."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
            yield from _manifest(path)
        elif path.exists():
            yield Input(source, kind_of(source))
        elif glob.has_magic(source):
            found = False
            for match in sorted(glob.iglob(source, recursive=True)):
                if os.path.isfile(match):
                    found = True
                    yield Input(match, kind_of(match))
            if not found:
                yield Input(source, "missing", "matches no files")
        else:
            yield Input(source, "missing", "no such file or folder")


def _walk(folder: Path) -> Iterator[Input]:
    """Image and video files under `folder`, one directory's entries sorted at a time (bounded memory)."""
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(Path(entry.path))
        elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES:
            yield Input(entry.path, kind_of(entry.name))


def _manifest(path: Path) -> Iterator[Input]:
    """The paths a manifest lists, read line by line."""
    root = path.parent
    with path.open(newline="") as f:
        if path.suffix.lower() == ".csv":
            reader = csv.reader(f)
            header = next(reader, [])
            column = header.index("path") if "path" in header else 0
            names = (row[column] for row in reader if len(row) > column)
        else:
            names = (line.strip() for line in f)
        for name in names:
            if not name or name.startswith("#"):
                continue
            full = name if os.path.isabs(name) else str(root / name)
            if os.path.isfile(full):
                yield Input(full, kind_of(full))
            else:
                yield Input(full, "missing", "listed in the manifest but no such file")


def count_inputs(sources: Iterable[str]) -> int:
    """How many inputs `iter_inputs` will yield (walks them once, storing nothing): the progress bar's total."""
    return sum(1 for _ in iter_inputs(sources))
