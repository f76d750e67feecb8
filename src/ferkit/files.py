"""`atomic_path` / `atomic_write`: the one way ferkit writes a file that must never be seen half-written (model
files, checkpoints, histories, data caches, downloads, exports, result parts).

The data goes to a hidden temporary file beside the target (same folder, so the rename cannot cross file
systems; named with the process id and a random tag, so DDP ranks and parallel workers never share one; ending
in the target's suffix, for writers such as `np.savez` that add theirs), which then replaces the target in one
rename. A crash leaves the old file or the whole new one, never a mix, and never a stray temporary file after
an exception. A kill (SIGKILL: no cleanup runs) can leave one; `remove_stale_temporaries` removes those of
writers no longer running, for the folders a command writes again (a resumed run's).

`FolderEntry` names a file inside a folder whose layout a class owns (`train.rundir.RunDir`,
`jobs.folder.ResultsFolder`, the evaluation report and the comparison's output folders).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import overload

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{6}\.tmp")  # the names atomic_path gives


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write `path`'s new content to; it replaces `path` when the block ends without error
    and is removed otherwise. The folder is created if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(3)}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write `data` (text as UTF-8) to `path` atomically; returns `path`."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return Path(path)


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files `atomic_path` left in `folder` and below when its writer was killed mid-write;
    those of a process still running are kept. Returns the files removed."""
    removed = []
    for path in Path(folder).rglob(".*.tmp*"):
        match = _TEMPORARY.match(path.name)
        if match and path.is_file() and not _running(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class FolderEntry:
    """A file or folder at a fixed name inside an object's folder, declared as a class attribute:
    `config = FolderEntry("config.json")` makes `run.config` the path `run.path / "config.json"` (`folder` names
    the attribute that holds the folder: `path` unless told). The classes that own a folder's layout (a run
    folder, a results folder, an evaluation's or a comparison's output folder) state it with these, one line a
    file, so that the layout reads as a list and is written once."""

    def __init__(self, name: str | Path, folder: str = "path") -> None:
        self.name = name
        self.folder = folder

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> FolderEntry: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Path: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> FolderEntry | Path:
        if obj is None:  # looked up on the class (help(), introspection): the declaration itself
            return self
        return Path(getattr(obj, self.folder)) / self.name
