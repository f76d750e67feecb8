"""`FaceArrays`: a labelled set of faces held in memory as one uint8 array, ferkit's data set currency.

Every reader (FER2013 CSV, Kaggle folders, any class-per-folder set) returns one, training moves its
`images` to the device once, and the cache stores it as a single `.npz` that loads in well under 2 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.errors import DataError
from ferkit.files import atomic_path


@dataclass(frozen=True)
class FaceArrays:
    """Faces `images` uint8 `[N, S, S]`, `labels` int64 `[N]` indexing `classes`, and where each came from.

    `votes` (float32 `[N, len(classes)]`, or None) is what several annotators said of each face (FER+): raw vote
    counts as a reader found them, a distribution over `classes` once a label mode has shaped them
    (`ferkit.data.ferplus`). It travels with every face through subsets, the cache and class selection."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    sources: tuple[str, ...] = ()  # file path or "file.csv:row" per face; empty when unknown
    votes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 3:
            raise DataError(f"images must be uint8 [N, H, W], got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise DataError(f"labels shape {self.labels.shape} does not match {len(self.images)} images")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise DataError(f"labels outside 0..{len(self.classes) - 1}")
        if self.sources and len(self.sources) != len(self.images):
            raise DataError(f"{len(self.sources)} sources for {len(self.images)} images")
        if self.votes is not None and self.votes.shape != (len(self.images), len(self.classes)):
            raise DataError(f"votes shape {self.votes.shape} does not match {len(self.images)} images x "
                            f"{len(self.classes)} classes")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def input_size(self) -> int:
        return int(self.images.shape[1])

    def class_counts(self) -> np.ndarray:
        """Number of faces per class, in `classes` order."""
        return np.bincount(self.labels, minlength=len(self.classes))

    def subset(self, index: np.ndarray | Sequence[int]) -> FaceArrays:
        """The faces at `index` (an int array or a boolean mask), keeping the class list."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        sources = tuple(self.sources[i] for i in index) if self.sources else ()
        votes = self.votes[index] if self.votes is not None else None
        return FaceArrays(self.images[index], self.labels[index], self.classes, sources, votes)

    @classmethod
    def concat(cls, parts: Sequence[FaceArrays]) -> FaceArrays:
        """The faces of `parts` (same class list) one after another; votes are kept when every part has them."""
        sources = tuple(s for p in parts for s in p.sources) if all(p.sources for p in parts) else ()
        votes = np.concatenate([p.votes for p in parts]) if all(p.votes is not None for p in parts) else None
        return cls(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                   parts[0].classes, sources, votes)

    def save(self, path: str | Path) -> Path:
        """Write an uncompressed `.npz` (uncompressed loads fastest), atomically: never a half-written file."""
        path = Path(path)
        with atomic_path(path) as tmp:  # DDP ranks may write at once: each has its own temporary file
            extra = {} if self.votes is None else {"votes": self.votes}
            np.savez(tmp, images=self.images, labels=self.labels, classes=np.array(self.classes),
                     sources=np.array(self.sources), **extra)
        return path

    @classmethod
    def load(cls, path: str | Path) -> FaceArrays:
        """Read a file written by `save` (or a compressed `.npz` with the same keys)."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                votes = z["votes"].astype(np.float32) if "votes" in z.files else None
                return cls(z["images"], z["labels"].astype(np.int64), tuple(str(c) for c in z["classes"]),
                           tuple(str(s) for s in z["sources"]), votes)
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a ferkit face array file ({exc})") from exc
