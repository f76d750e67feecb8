"""Classification metrics from predicted probabilities, in plain numpy (no torch, no scikit-learn).

Everything derives from `y_true` (int `[N]`) and `probs` (float `[N, C]`), so the same predictions always
give the same figures, and tests can check each one against an independent implementation.

Conventions for classes that make a ratio undefined (a class absent from `y_true`, or never predicted):
- precision is NaN for a class never predicted, recall is NaN for a class absent from `y_true`;
- F1 is `2tp / (2tp + fp + fn)`, defined whenever the class occurs in `y_true` or in the predictions;
- macro-F1 averages F1 over those classes, balanced accuracy averages recall over classes in `y_true`
  (both as scikit-learn does by default);
- one-vs-rest ROC/PR curves, AUC and average precision exist only for classes with positives (and, for
  ROC, negatives); otherwise they are None.
`Metrics.to_dict` writes NaN as null so the result is valid JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ECE_BINS = 15  # equal-width confidence bins of the reliability diagram and the ECE


@dataclass(frozen=True)
class Curve:
    """One one-vs-rest curve: `x`/`y` are recall/precision (PR) or FPR/TPR (ROC); `area` is AP or AUC."""

    x: np.ndarray
    y: np.ndarray
    area: float


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin `(edges[i], edges[i+1]]`: face count, mean confidence and accuracy (NaN if empty)."""

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray


@dataclass(frozen=True)
class Metrics:
    """All evaluation figures of one set of predictions; per-class arrays follow `classes`."""

    classes: tuple[str, ...]
    num_faces: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    confusion: np.ndarray  # [true, predicted] counts
    pr_curves: tuple[Curve | None, ...]
    roc_curves: tuple[Curve | None, ...]
    ece: float
    reliability: ReliabilityBins

    @property
    def confusion_normalized(self) -> np.ndarray:
        """Confusion matrix with each row divided by its count (rows of absent classes stay 0)."""
        rows = self.confusion.sum(axis=1, keepdims=True)
        return np.divide(self.confusion, rows, out=np.zeros(self.confusion.shape), where=rows > 0)

    @property
    def macro_auc(self) -> float:
        """Mean one-vs-rest ROC AUC over the classes that have one (NaN if none has)."""
        return _nanmean([c.area for c in self.roc_curves if c is not None])

    @property
    def macro_average_precision(self) -> float:
        return _nanmean([c.area for c in self.pr_curves if c is not None])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (curves are left out: they are as long as the data set; the figures show them)."""
        per_class = {
            name: {
                "precision": _json_float(self.precision[i]),
                "recall": _json_float(self.recall[i]),
                "f1": _json_float(self.f1[i]),
                "support": int(self.support[i]),
                "average_precision": _json_float(self.pr_curves[i].area if self.pr_curves[i] else math.nan),
                "roc_auc": _json_float(self.roc_curves[i].area if self.roc_curves[i] else math.nan),
            }
            for i, name in enumerate(self.classes)
        }
        return {
            "classes": list(self.classes),
            "num_faces": self.num_faces,
            "accuracy": _json_float(self.accuracy),
            "balanced_accuracy": _json_float(self.balanced_accuracy),
            "macro_f1": _json_float(self.macro_f1),
            "macro_roc_auc": _json_float(self.macro_auc),
            "macro_average_precision": _json_float(self.macro_average_precision),
            "ece": _json_float(self.ece),
            "per_class": per_class,
            "confusion_matrix": self.confusion.tolist(),
            "reliability": {
                "edges": [float(e) for e in self.reliability.edges],
                "count": [int(c) for c in self.reliability.count],
                "confidence": [_json_float(v) for v in self.reliability.confidence],
                "accuracy": [_json_float(v) for v in self.reliability.accuracy],
            },
        }


def compute_metrics(y_true: np.ndarray, probs: np.ndarray, classes: tuple[str, ...] | list[str],
                    n_bins: int = ECE_BINS) -> Metrics:
    """Every metric of `Metrics` for true labels `y_true` `[N]` and class probabilities `probs` `[N, C]`.

    The predicted class is the arg-max of `probs`; its probability is the confidence.

    Raises:
        ValueError: shapes disagree, `N` is 0, or a label is outside `0..C-1`.

    Example:
        >>> m = compute_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), ("happy", "sad"))
        >>> m.accuracy
        1.0
    """
    y_true, probs, classes = np.asarray(y_true), np.asarray(probs, dtype=np.float64), tuple(classes)
    if probs.ndim != 2 or probs.shape[1] != len(classes):
        raise ValueError(f"probs must be [N, {len(classes)}] for classes {classes}, got shape {probs.shape}")
    if y_true.shape != (len(probs),):
        raise ValueError(f"y_true shape {y_true.shape} does not match {len(probs)} rows of probs")
    if len(y_true) == 0:
        raise ValueError("no predictions to evaluate")
    if y_true.min() < 0 or y_true.max() >= len(classes):
        raise ValueError(f"labels must lie in 0..{len(classes) - 1}, got {y_true.min()}..{y_true.max()}")

    y_pred = probs.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, len(classes))
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, support)
    f1 = _ratio(2 * tp, support + predicted)  # = 2tp / (2tp + fp + fn)
    ece, bins = expected_calibration_error(probs.max(axis=1), y_pred == y_true, n_bins)
    onehot = y_true[:, None] == np.arange(len(classes))[None, :]
    return Metrics(
        classes=classes,
        num_faces=len(y_true),
        accuracy=float(tp.sum() / len(y_true)),
        balanced_accuracy=_nanmean(recall),
        macro_f1=_nanmean(f1),
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        confusion=cm,
        pr_curves=tuple(precision_recall_curve(onehot[:, c], probs[:, c]) for c in range(len(classes))),
        roc_curves=tuple(roc_curve(onehot[:, c], probs[:, c]) for c in range(len(classes))),
        ece=ece,
        reliability=bins,
    )


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """int64 `[C, C]` counts, rows = true class, columns = predicted class."""
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               n_bins: int = ECE_BINS) -> tuple[float, ReliabilityBins]:
    """ECE = sum over equal-width bins of (bin share of faces) * |bin accuracy - bin mean confidence|.

    A bin holds the confidences in `(lo, hi]`; confidence 0 falls in the first bin.
    """
    confidence, correct = np.asarray(confidence, dtype=np.float64), np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    conf_mean = _ratio(np.bincount(which, weights=confidence, minlength=n_bins), count)
    acc = _ratio(np.bincount(which, weights=correct, minlength=n_bins), count)
    gaps = np.where(count > 0, np.abs(np.nan_to_num(acc) - np.nan_to_num(conf_mean)), 0.0)
    ece = float((count * gaps).sum() / max(count.sum(), 1))
    return ece, ReliabilityBins(edges, count, conf_mean, acc)


def roc_curve(positive: np.ndarray, score: np.ndarray) -> Curve | None:
    """One-vs-rest ROC (FPR, TPR) from the highest threshold down, with trapezoidal AUC.

    None when there are no positives or no negatives (the curve is undefined).
    """
    tps, fps = _cumulative_counts(positive, score)
    if tps[-1] == 0 or fps[-1] == 0:
        return None
    tpr = np.concatenate([[0.0], tps / tps[-1]])
    fpr = np.concatenate([[0.0], fps / fps[-1]])
    return Curve(fpr, tpr, float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)))  # trapezoidal rule


def precision_recall_curve(positive: np.ndarray, score: np.ndarray) -> Curve | None:
    """One-vs-rest PR curve (recall, precision) from the highest threshold down, starting at (0, 1).

    Its area is the average precision `sum_k (R_k - R_{k-1}) P_k` (step-wise, no interpolation).
    None when there are no positives.
    """
    tps, fps = _cumulative_counts(positive, score)
    if tps[-1] == 0:
        return None
    precision = np.concatenate([[1.0], tps / (tps + fps)])
    recall = np.concatenate([[0.0], tps / tps[-1]])
    return Curve(recall, precision, float(np.sum(np.diff(recall) * precision[1:])))


def _cumulative_counts(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True/false positives when thresholding at each distinct score, highest first (ties kept together)."""
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    score, positive = np.asarray(score)[order], np.asarray(positive, dtype=np.float64)[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(positive)[last_of_tie]
    return tps, (last_of_tie + 1) - tps


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Element-wise num / den, NaN where den is 0."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def _nanmean(values: np.ndarray | list[float]) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else math.nan


def _json_float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value
