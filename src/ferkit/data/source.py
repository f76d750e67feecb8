"""`SourceData`: what a reader found in one data source, before class selection and validation splitting.

Readers (`fer2013.py`, `folders.py`, `ferplus.py`) return this form, the cache stores it, and `load_dataset` turns it
into train/val/test. Keeping class selection and splitting after the cache means changing `classes`,
`val_fraction` or `seed` never re-reads 30,000 images. A reader asked for `only` one split (what
`evaluate` scores) decodes that split alone when the source names it, and every split otherwise (a
validation split carved from the training faces needs them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferkit.data.arrays import FaceArrays
from ferkit.errors import DataError

UNSPLIT = "all"  # the split key of a data set that names no splits at all


@dataclass(frozen=True)
class SourceData:
    """Faces per split (`train`, `val`, `test`, or only `all`) and where each split came from."""

    splits: dict[str, FaceArrays]
    names: dict[str, str]  # split -> what it is, e.g. "val" -> "fer2013.csv PublicTest"
    skipped: tuple[str, ...] = ()  # the error message of every bad row/file skipped under skip_bad
    only: str | None = None  # the one split read, when a reader was asked for it and the source has it


@dataclass
class BadInputs:
    """Raise on the first malformed row or file, or, under `skip_bad`, record it for a counted warning."""

    skip_bad: bool
    skipped: list[str] = field(default_factory=list)

    def report(self, message: str) -> None:
        """`message` names the file/row and what is wrong with it."""
        if not self.skip_bad:
            raise DataError(message)
        self.skipped.append(message)
