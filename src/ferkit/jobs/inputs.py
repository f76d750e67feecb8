"""The inputs of a job, streamed: files, folders (walked recursively), glob patterns and manifests,
each expanded lazily so that a million photos are never listed in memory at once.

A manifest is a `.txt` file with one path a line, or a `.csv` file whose `path` column (or first column)
names the inputs; relative paths are taken from the manifest's folder. Each input is an image or, by its
suffix, a video. A pattern that names nothing becomes an `Input` carrying the reason, so the run writes it
as a failed row instead of dropping it.

An input is identified by its resolved real path (`Input.path`): a file named twice (a folder and a glob over
it, a relative and an absolute spelling, a symbolic link) is one input. The walk never follows a link back into
a folder it has already entered (a warning names it), and a link that cannot be resolved (broken, or a loop) is
an input carrying the reason, like a pattern that names nothing: no kind of name or link stops or loops a run.
"""

from __future__ import annotations

import csv
import glob
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ferkit.inference.images import IMAGE_SUFFIXES

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
MANIFEST_SUFFIXES = (".txt", ".csv")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Input:
    """One thing to analyse: `source` as the user named it (the table's `input` column), `path` its resolved
    real path (the table's `path` column: what makes two names one input)."""

    source: str
    kind: str  # "image", "video", or "missing" (then `problem` says why)
    problem: str = ""
    path: str = ""

    def __post_init__(self) -> None:
        if not self.path:
            object.__setattr__(self, "path", os.path.realpath(self.source))


def kind_of(path: str) -> str:
    return "video" if Path(path).suffix.lower() in VIDEO_SUFFIXES else "image"


def iter_inputs(sources: Iterable[str]) -> Iterator[Input]:
    """Every input named by `sources`, in a stable order (folders sorted level by level). The same file may
    come twice (named twice); callers that must analyse it once compare `Input.path`."""
    entered: set[tuple[int, int]] = set()  # folders walked, by (device, inode): a link back is never followed
    for source in sources:
        path = Path(source)
        if path.is_dir():
            yield from _walk(path, entered)
        elif path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
            yield from _manifest(path)
        elif path.exists():
            yield Input(source, kind_of(source))
        elif os.path.islink(source):
            yield Input(source, "missing", _unresolved(source))
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


def _walk(folder: Path, entered: set[tuple[int, int]]) -> Iterator[Input]:
    """Image and video files under `folder`, one directory's entries sorted at a time (bounded memory); a folder
    already entered (a link back up, or to a folder walked before) is skipped with a warning, an unreadable one
    or a link that does not resolve is an input carrying the reason."""
    try:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in entered:
            log.warning("%s: skipped, this run already walks that folder (%s)", folder, os.path.realpath(folder))
            return
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Input(str(folder), "missing", f"cannot read this folder ({exc.strerror or exc})")
        return
    entered.add((st.st_dev, st.st_ino))
    for entry in entries:
        if entry.name.startswith("."):
            continue
        wanted = Path(entry.name).suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES
        try:
            is_dir = entry.is_dir()
            if wanted and entry.is_symlink():
                os.stat(entry.path)  # a broken link or a loop raises here, not in the middle of the run
        except OSError:
            if wanted:
                yield Input(entry.path, "missing", _unresolved(entry.path))
            continue
        if is_dir:
            yield from _walk(Path(entry.path), entered)
        elif wanted:
            yield Input(entry.path, kind_of(entry.name))


def _unresolved(link: str) -> str:
    """Why a symbolic link names no file: it is broken, or a loop."""
    try:
        os.stat(link)
    except OSError as exc:
        return f"a symbolic link that does not resolve ({exc.strerror or exc})"
    return "a symbolic link that does not resolve"


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
