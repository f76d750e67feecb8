"""Output folders for runs and studies: a given folder must be new (or resumable), a default one is
numbered up, so nothing a user ran before is ever overwritten."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from ferkit.errors import ConfigError
from ferkit.files import remove_stale_temporaries

log = logging.getLogger(__name__)


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
