"""Output paths of the commands, checked before any work starts, so that a run never ends in a traceback
after the work was done, and never replaces an input.

The rules, shared by `predict`, `video` and `webcam`:
- an output file named by an option (`--jsonl`, `--csv`, `--plot`, `--summary`, video `--out`) is never one of
  the inputs nor a folder, and its folder must be writable (a probe file is created and removed there);
- a results folder (predict `--out`) is never where the inputs are read from, and the files ferkit puts in
  it never replace one already there.
"""

from __future__ import annotations

import glob
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


def check_output_dir(path: Path, option: str, sources: Iterable[str]) -> None:
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
