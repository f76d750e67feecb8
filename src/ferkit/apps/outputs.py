"""Output paths of the commands, checked before any work starts, so that a run never ends in a traceback
after the work was done, and never replaces an input.

The rules, shared by `predict`, `video` and `webcam`:
- an output file named by an option (`--jsonl`, `--csv`, `--plot`, `--summary`, video `--out`) is never one of
  the inputs nor a folder, and its folder must be writable (a probe file is created and removed there);
- a folder of derived files (predict `--out`) is never a folder that holds an input, and a derived file never
  replaces a file that is already there (`free_name` numbers it up instead).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ferkit.errors import ConfigError


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


def check_output_dir(path: Path, option: str, inputs: Iterable[Path]) -> None:
    """Refuse an output folder that is a file, holds one of the inputs, or cannot be written.

    Raises:
        ConfigError: naming the option, the path and what is wrong.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file; give a folder")
    folder = _identity(path)
    if folder is not None:
        for source in inputs:
            if _identity(Path(source).parent) == folder:
                raise ConfigError(f"{option} {path} holds the input {source}; the annotated copies would "
                                  "sit among (or replace) the originals: choose another folder")
    _check_writable_folder(path, option, path)


def _check_writable_folder(folder: Path, option: str, target: Path) -> None:
    """Create `folder` if needed and prove it writable with a probe file (root ignores permission bits, so
    `os.access` would say yes on a read-only file system)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ferkit-probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {target}: cannot write there ({exc.strerror or exc})") from exc


def free_name(folder: Path, stem: str, suffix: str, taken: set[str]) -> Path:
    """`folder/<stem><suffix>`, or `<stem>-2<suffix>`, `-3`, ...: the first name neither written in this run
    (`taken`, updated) nor already on disk, so a derived file never replaces any file."""
    name, n = f"{stem}{suffix}", 1
    while name in taken or os.path.lexists(folder / name):
        n += 1
        name = f"{stem}-{n}{suffix}"
    taken.add(name)
    return folder / name
