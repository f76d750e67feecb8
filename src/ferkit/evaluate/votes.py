"""How well a model agrees with FER+'s annotators: figures from the ten votes per face, in plain numpy.

A FER2013 label is one person's call; FER+ asked ten. So a model is scored here against the crowd, on two sets:
- the faces with a majority (more than half of the votes, after single votes are dropped: the protocol of
  Barsoum et al. 2016), where *majority accuracy* is the paper's metric;
- every face whose plurality is an emotion, labelled by it (*plurality accuracy*), with the vote distribution
  `v` (votes after outlier removal, over the evaluated classes): the mean probability the model gives to it,
  `sum_c v_c p_c` (how often a class drawn from the model matches one drawn from the annotators), the mean share of
  annotators who chose the model's answer, and the cross-entropy `-sum_c v_c log p_c`.
A model without one of FER+'s classes (a seven-class model has no contempt) is scored on the faces whose label is
one of its classes; how many were left out is part of the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

PROB_FLOOR = 1e-12  # keeps log(0) out of the cross-entropy of a model certain of a class nobody chose


@dataclass(frozen=True)
class VoteMetrics:
    """Agreement with the annotators; per-class arrays follow `classes`, grouped by each face's plurality (or,
    for `majority_*`, majority) class."""

    classes: tuple[str, ...]
    majority_faces: int
    majority_accuracy: float
    plurality_faces: int
    plurality_accuracy: float
    vote_probability: float
    vote_agreement: float
    vote_cross_entropy: float
    left_out_majority: int  # faces whose majority is a class the model was not scored on
    left_out_plurality: int
    class_majority_faces: np.ndarray
    class_majority_accuracy: np.ndarray
    class_plurality_faces: np.ndarray
    class_plurality_accuracy: np.ndarray
    class_vote_probability: np.ndarray
    class_vote_cross_entropy: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN, for a class without faces, as null)."""
        per_class = {
            name: {"majority_faces": int(self.class_majority_faces[i]),
                   "majority_accuracy": _json(self.class_majority_accuracy[i]),
                   "plurality_faces": int(self.class_plurality_faces[i]),
                   "plurality_accuracy": _json(self.class_plurality_accuracy[i]),
                   "vote_probability": _json(self.class_vote_probability[i]),
                   "vote_cross_entropy": _json(self.class_vote_cross_entropy[i])}
            for i, name in enumerate(self.classes)
        }
        return {"majority_faces": self.majority_faces, "majority_accuracy": _json(self.majority_accuracy),
                "plurality_faces": self.plurality_faces, "plurality_accuracy": _json(self.plurality_accuracy),
                "vote_probability": _json(self.vote_probability), "vote_agreement": _json(self.vote_agreement),
                "vote_cross_entropy": _json(self.vote_cross_entropy), "left_out_majority": self.left_out_majority,
                "left_out_plurality": self.left_out_plurality, "per_class": per_class}


def vote_metrics(majority: np.ndarray, majority_probs: np.ndarray, votes: np.ndarray, probs: np.ndarray,
                 classes: tuple[str, ...], left_out: tuple[int, int] = (0, 0)) -> VoteMetrics:
    """The figures of `VoteMetrics` from the majority labels `[M]` with the model's probabilities on those faces
    `[M, C]`, and the vote distributions `[N, C]` of the plurality set with the model's probabilities `[N, C]`;
    `left_out` counts the (majority, plurality) faces of classes outside `classes`.

    Raises:
        ValueError: shapes disagree, or a set is empty.
    """
    votes, probs = np.asarray(votes, np.float64), np.asarray(probs, np.float64)
    majority_probs = np.asarray(majority_probs, np.float64)
    if votes.shape != probs.shape or votes.ndim != 2 or votes.shape[1] != len(classes):
        raise ValueError(f"votes {votes.shape} and probs {probs.shape} must both be [N, {len(classes)}]")
    if majority_probs.shape != (len(majority), len(classes)):
        raise ValueError(f"majority probs {majority_probs.shape} do not match {len(majority)} majority labels")
    if len(votes) == 0 or len(majority) == 0:
        raise ValueError("no faces to score against the votes")
    plurality, predicted = votes.argmax(axis=1), probs.argmax(axis=1)
    right = predicted == plurality
    majority_right = majority_probs.argmax(axis=1) == majority
    vote_prob = (votes * probs).sum(axis=1)
    agreement = votes[np.arange(len(votes)), predicted]
    cross_entropy = -(votes * np.log(np.maximum(probs, PROB_FLOOR))).sum(axis=1)
    n = len(classes)
    return VoteMetrics(
        classes=tuple(classes),
        majority_faces=len(majority),
        majority_accuracy=float(majority_right.mean()),
        plurality_faces=len(votes),
        plurality_accuracy=float(right.mean()),
        vote_probability=float(vote_prob.mean()),
        vote_agreement=float(agreement.mean()),
        vote_cross_entropy=float(cross_entropy.mean()),
        left_out_majority=left_out[0],
        left_out_plurality=left_out[1],
        class_majority_faces=np.bincount(majority, minlength=n),
        class_majority_accuracy=_class_mean(majority_right, majority, n),
        class_plurality_faces=np.bincount(plurality, minlength=n),
        class_plurality_accuracy=_class_mean(right, plurality, n),
        class_vote_probability=_class_mean(vote_prob, plurality, n),
        class_vote_cross_entropy=_class_mean(cross_entropy, plurality, n),
    )


def _class_mean(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Mean of `values` per class of `group`, NaN for a class without faces."""
    count = np.bincount(group, minlength=n)
    total = np.bincount(group, weights=np.asarray(values, np.float64), minlength=n)
    return np.divide(total, count, out=np.full(n, np.nan), where=count > 0)


def _json(value: float) -> float | None:
    return None if math.isnan(float(value)) else float(value)
