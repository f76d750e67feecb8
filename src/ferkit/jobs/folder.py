"""`ResultsFolder`: a job's results folder (`ferkit predict --out`), the one owner of its layout, its lock and the rule
of what a rerun may add to it:

    predictions/   the table: part files (`table.PartWriter`), the rows of one model in one format
    annotated/     annotated copies (--annotate), each named in its rows' `annotated` column
    .lock          locked (`flock`) by the run writing the folder

A folder holds one table: a rerun with another format or another model (another file, or another class list)
is refused by name, since its rows would be mixed with the first model's, or its inputs skipped as done.
Only one run writes a folder at a time: a second is refused while the first holds the lock, which the system
releases when the first ends, however it ends (SIGKILL included).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ferkit.errors import ConfigError
from ferkit.files import FolderEntry
from ferkit.jobs.table import SUFFIX, Format, ModelVersion, table_model

TABLE_DIR = "predictions"  # the table (part files that pyarrow.dataset reads as one table)
ANNOTATED_DIR = "annotated"
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class ResultsFolder:
    path: Path

    table = FolderEntry(TABLE_DIR)
    annotated = FolderEntry(ANNOTATED_DIR)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock for the block.

        Raises:
            ConfigError: another run holds it (naming its process id).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by worker processes
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
                raise ConfigError(f"{self.path} is being written by another ferkit predict (process {holder}); "
                                  "wait for it to end, or choose another --out") from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            os.close(fd)  # releases the lock

    def check_table(self, fmt: Format, model: ModelVersion) -> None:
        """Refuse to add `fmt` rows of `model` to a table of another format or model.

        Raises:
            ConfigError: naming the option to change (--format, --model) and the table's value.
        """
        for other, suffix in SUFFIX.items():
            if other != fmt and self.table.is_dir() and any(self.table.glob(f"part-*{suffix}")):
                raise ConfigError(f"{self.table} holds {other} parts: resume with --format {other}, or choose "
                                  "another --out")
        found = table_model(self.table, fmt)
        if found is None or _same_model(found, model):
            return
        raise ConfigError(f"{self.table} holds the rows of model '{found.name}' (version {found.version}, classes "
                          f"{','.join(found.classes)}), not of '{model.name}' (version {model.version}, classes "
                          f"{','.join(model.classes)}): resume with --model {found.name}, or choose another --out")


def _same_model(a: ModelVersion, b: ModelVersion) -> bool:
    """The same weights (file hash; the name where a hash is unknown) and the same class columns: another
    name for the same file (`base` for `large`) is the same model."""
    same_file = a.version == b.version and (a.version != "unknown" or a.name == b.name)
    return same_file and a.classes == b.classes
