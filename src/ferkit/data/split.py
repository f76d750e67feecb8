"""Class selection (subset + relabel) and the stratified, seeded validation split of a `FaceArrays`."""

from __future__ import annotations

import numpy as np

from ferkit.data.arrays import FaceArrays


def select_classes(faces: FaceArrays, classes: tuple[str, ...]) -> FaceArrays:
    """Keep the faces whose class is in `classes` and relabel them to index `classes` (in that order).

    Classes of `faces` not in `classes` are dropped; classes in `classes` that `faces` lacks get no faces. Votes
    keep the columns of the kept classes, each face's renormalised to sum to 1 (a class that left takes its share).
    """
    new_index = {name: i for i, name in enumerate(classes)}
    mapping = np.array([new_index.get(name, -1) for name in faces.classes], dtype=np.int64)
    new_labels = mapping[faces.labels] if len(faces) else faces.labels
    keep = np.flatnonzero(new_labels >= 0)
    sources = tuple(faces.sources[i] for i in keep) if faces.sources else ()
    votes = _select_votes(faces, keep, classes)
    return FaceArrays(faces.images[keep], new_labels[keep], tuple(classes), sources, votes)


def _select_votes(faces: FaceArrays, keep: np.ndarray, classes: tuple[str, ...]) -> np.ndarray | None:
    if faces.votes is None:
        return None
    old_index = {name: i for i, name in enumerate(faces.classes)}
    votes = np.zeros((len(keep), len(classes)), dtype=np.float32)
    for i, name in enumerate(classes):
        if name in old_index:
            votes[:, i] = faces.votes[keep, old_index[name]]
    total = votes.sum(axis=1, keepdims=True)
    return np.divide(votes, total, out=votes, where=total > 0)


def stratified_split(faces: FaceArrays, val_fraction: float, seed: int) -> tuple[FaceArrays, FaceArrays]:
    """(train, val) with `round(n * val_fraction)` faces of each class in val, chosen with `seed`.

    Each class keeps at least one face in train. Both parts keep the original order of `faces`.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = [min(round(c * val_fraction), max(c - 1, 0)) for c in faces.class_counts()]
    is_val = _pick(faces, n_val, seed)
    return faces.subset(~is_val), faces.subset(is_val)


def stratified_sample(faces: FaceArrays, n: int, seed: int) -> FaceArrays:
    """Exactly `n` of `faces` (all of them if fewer), each class in proportion to its share (largest remainders
    round), chosen with `seed`, in their original order: `--limit`'s smoke-run subset."""
    if n >= len(faces):
        return faces
    quotas = faces.class_counts() * n / len(faces)
    take = np.floor(quotas).astype(np.int64)
    by_remainder = np.argsort(-(quotas - take), kind="stable")
    take[by_remainder[: n - int(take.sum())]] += 1
    return faces.subset(_pick(faces, take.tolist(), seed))


def _pick(faces: FaceArrays, per_class: list[int], seed: int) -> np.ndarray:
    """A mask of `per_class[k]` faces of each class k, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    chosen = np.zeros(len(faces), dtype=bool)
    for label, k in enumerate(per_class):
        chosen[rng.permutation(np.flatnonzero(faces.labels == label))[:k]] = True
    return chosen
