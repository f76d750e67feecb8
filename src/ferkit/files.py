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

Output folders and files, checked before any work starts so that nothing a user ran or read is ever written
over, and a run never ends in a traceback after its work was done:
- `check_output_dir` / `prepare_output_dir`: a run's or a study's folder must be new (or resumable); a default one
  is numbered up; `free_dir`: a report folder never written over (`evaluate`, `compare`);
- `check_output_file` / `check_results_dir` (`predict`, `video`, `webcam`, `export`): an output file named by an
  option (`--jsonl`, `--csv`, `--plot`, `--summary`, video `--out`) is never one of the inputs nor a folder, and
  its folder must be writable (a probe file is created and removed there); a results folder (predict `--out`) is
  never where the inputs are read from.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import overload

from ferkit.errors import ConfigError

log = logging.getLogger(__name__)

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


def check_output_dir(given: Path | None, resume: bool, marker: str, option: str, started: str | None = None) -> None:
    """Refuse an output folder the work cannot go to (see `prepare_output_dir`), creating nothing: called before
    slow steps (reading the data), so that their result never lands in a folder that would then be refused.

    Raises:
        ConfigError: resuming without `given` or without its `marker` (or `started`), or `given` not empty on a
            fresh start.
    """
    if given is None:
        if resume:
            raise ConfigError(f"--resume needs {option} (the folder to continue)")
        return
    folder = Path(given)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{option} {folder} is a file; give a folder")
    if resume:
        if not (folder / marker).is_file() and not (started and (folder / started).is_file()):
            raise ConfigError(f"--resume: {folder / marker} does not exist")
    elif folder.exists() and any(folder.iterdir()):
        raise ConfigError(f"{folder} is not empty; use --resume to continue it or pick a new {option}")


def prepare_output_dir(given: Path | None, resume: bool, marker: str, default_parent: str, name: str,
                       option: str, started: str | None = None) -> Path:
    """Create and return the output folder.

    Args:
        given: the folder the user named (`option`), or None for `<default_parent>/<time>-<name>`.
        resume: continue the work in `given`, which must then hold `marker`, or at least `started`.
        marker: the file a resumable folder holds (a last checkpoint, a study database).
        default_parent: parent of automatically named folders, e.g. "runs/train".
        name: suffix of automatically named folders (the model).
        option: the command-line option, for error messages (e.g. "--run-dir").
        started: the file work writes first (a run's config): a folder holding it without `marker` was stopped
            before its first checkpoint, and resuming it starts the work again from the beginning.

    A resumed folder loses the temporary files of writes a kill interrupted (`remove_stale_temporaries`).

    Raises:
        ConfigError: as `check_output_dir`, or the folder cannot be created.
    """
    check_output_dir(given, resume, marker, option, started)
    if given is not None:
        folder = Path(given)
        if resume:
            for path in remove_stale_temporaries(folder):
                log.info("removed %s, left by a write that was killed", path)
            if not (folder / marker).is_file():
                log.warning("%s has no %s (stopped before its first checkpoint): starting it again from the "
                            "beginning", folder, marker)
            return folder
    else:
        base = Path(default_parent) / f"{datetime.now():%Y%m%d-%H%M%S}-{name}"
        folder, n = base, 1
        while folder.exists():
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{option} {folder}: cannot create it ({exc.strerror or exc})") from exc
    return folder


def free_dir(out_dir: Path, markers: tuple[str, ...]) -> Path:
    """`out_dir`, or `out_dir-2`, `-3`, ... when it already holds one of the `markers` files (a report folder
    is never written over)."""
    out_dir = Path(out_dir)
    candidate, n = out_dir, 1
    while any((candidate / name).exists() for name in markers):
        n += 1
        candidate = out_dir.with_name(f"{out_dir.name}-{n}")
    if candidate != out_dir:
        log.info("%s already holds a report; writing to %s", out_dir, candidate)
    return candidate


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def check_output_file(path: Path, option: str, inputs: Iterable[Path]) -> None:
    """Refuse an output file that is an input or a folder, or whose folder cannot be written.

    Raises:
        ConfigError: naming the option, the path and what is wrong.
    """
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")
    identity = _identity(path)
    if identity is not None and any(_identity(Path(p)) == identity for p in inputs):
        raise ConfigError(f"{option} {path} is one of the inputs; writing it would destroy that input")
    _check_writable_folder(path.parent, option, path)


def check_results_dir(path: Path, option: str, sources: Iterable[str]) -> None:
    """Refuse an output folder that is a file, cannot be written, or lies where the inputs are read from:
    equal to or inside a folder (or a glob's folder) given as input, or the folder of an input file; a rerun
    would otherwise take the outputs for inputs, or put them among the originals.

    Raises:
        ConfigError: naming the option, the path and what is wrong.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file; give a folder")
    out = path.resolve()
    for source in sources:
        given = Path(source)
        if given.is_file():
            clash = out == given.resolve().parent
        else:
            folder = given if given.is_dir() else _glob_root(source)
            clash = folder is not None and (out == folder.resolve() or folder.resolve() in out.parents)
        if clash:
            raise ConfigError(f"{option} {path} is where the input {source} is read from; the results would "
                              "sit among the originals (and be read as inputs next time): choose another folder")
    _check_writable_folder(path, option, path)


def _glob_root(pattern: str) -> Path | None:
    """The folder a glob pattern searches (its part before the first wildcard), or None for a plain path."""
    if not glob.has_magic(pattern):
        return None
    parts = Path(pattern).parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    return Path(*parts[:fixed]) if fixed else Path(".")


def _check_writable_folder(folder: Path, option: str, target: Path) -> None:
    """Create `folder` if needed and prove it writable with a probe file (root ignores permission bits, so
    `os.access` would say yes on a read-only file system)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ferkit-probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {target}: cannot write there ({exc.strerror or exc})") from exc
