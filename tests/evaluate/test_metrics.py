"""Metrics against hand-computed values and against scikit-learn on the same fixed predictions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from ferkit.evaluate.metrics import compute_metrics, expected_calibration_error

CLASSES = ("a", "b", "c", "d")
# Class c is in y_true but never predicted; class d is predicted once but absent from y_true.
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 0, 1, 1, 1, 0, 0, 1, 3])


def _probs_for(y_pred: np.ndarray, num_classes: int, seed: int = 0) -> np.ndarray:
    """Random softmax rows whose arg-max is `y_pred`."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(y_pred), num_classes))
    logits[np.arange(len(y_pred)), y_pred] += 10.0
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def fixed() -> tuple[np.ndarray, np.ndarray]:
    probs = _probs_for(Y_PRED, len(CLASSES))
    assert (probs.argmax(axis=1) == Y_PRED).all()
    return Y_TRUE, probs


def test_hand_computed_values(fixed):
    m = compute_metrics(*fixed, CLASSES)
    np.testing.assert_array_equal(m.confusion, [[3, 1, 0, 0], [1, 2, 0, 0], [1, 1, 0, 1], [0, 0, 0, 0]])
    assert m.accuracy == pytest.approx(5 / 10)
    np.testing.assert_allclose(m.precision, [3 / 5, 2 / 4, np.nan, 0.0])  # c never predicted: undefined
    np.testing.assert_allclose(m.recall, [3 / 4, 2 / 3, 0.0, np.nan])  # d absent from y_true: undefined
    np.testing.assert_allclose(m.f1, [6 / 9, 4 / 7, 0.0, 0.0])
    np.testing.assert_array_equal(m.support, [4, 3, 3, 0])
    assert m.balanced_accuracy == pytest.approx((3 / 4 + 2 / 3 + 0) / 3)
    assert m.macro_f1 == pytest.approx((6 / 9 + 4 / 7 + 0 + 0) / 4)
    np.testing.assert_allclose(m.confusion_normalized[0], [3 / 4, 1 / 4, 0, 0])
    np.testing.assert_array_equal(m.confusion_normalized[3], [0, 0, 0, 0])


def test_agrees_with_sklearn(fixed):
    y_true, probs = fixed
    m = compute_metrics(y_true, probs, CLASSES)
    labels = list(range(len(CLASSES)))
    assert m.accuracy == pytest.approx(skm.accuracy_score(y_true, Y_PRED))
    with pytest.warns(UserWarning):  # sklearn warns that y_pred holds a class absent from y_true
        assert m.balanced_accuracy == pytest.approx(skm.balanced_accuracy_score(y_true, Y_PRED))
    assert m.macro_f1 == pytest.approx(skm.f1_score(y_true, Y_PRED, average="macro", zero_division=0))
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, Y_PRED, labels=labels,
                                                                         zero_division=np.nan)
    np.testing.assert_allclose(m.precision, precision)
    np.testing.assert_allclose(m.recall, recall)
    np.testing.assert_allclose(m.f1, np.nan_to_num(f1))
    np.testing.assert_array_equal(m.support, support)
    np.testing.assert_array_equal(m.confusion, skm.confusion_matrix(y_true, Y_PRED, labels=labels))


def test_one_vs_rest_curves_agree_with_sklearn():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, size=300)  # class 3 ("d") never occurs
    probs = rng.dirichlet(np.ones(4), size=300)
    probs[:100] = np.round(probs[:100], 1)  # tied scores must be handled as one threshold
    m = compute_metrics(y_true, probs, CLASSES)
    for c in range(3):
        positive = y_true == c
        assert m.roc_curves[c].area == pytest.approx(skm.roc_auc_score(positive, probs[:, c]))
        assert m.pr_curves[c].area == pytest.approx(skm.average_precision_score(positive, probs[:, c]))
        fpr, tpr, _ = skm.roc_curve(positive, probs[:, c], drop_intermediate=False)
        np.testing.assert_allclose(m.roc_curves[c].x, fpr)
        np.testing.assert_allclose(m.roc_curves[c].y, tpr)
    assert m.roc_curves[3] is None and m.pr_curves[3] is None
    assert m.macro_auc == pytest.approx(np.mean([skm.roc_auc_score(y_true == c, probs[:, c]) for c in range(3)]))
    assert m.to_dict()["per_class"]["d"]["roc_auc"] is None


def test_perfect_separation_gives_auc_and_ap_of_one():
    y_true = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    m = compute_metrics(y_true, probs, ("x", "y"))
    assert [c.area for c in m.roc_curves] == [1.0, 1.0]
    assert [c.area for c in m.pr_curves] == [1.0, 1.0]


def test_to_dict_is_strict_json(fixed):
    d = compute_metrics(*fixed, CLASSES).to_dict()
    text = json.dumps(d, allow_nan=False)  # raises on NaN
    back = json.loads(text)
    assert back["per_class"]["c"]["precision"] is None
    assert back["per_class"]["d"]["recall"] is None
    assert back["per_class"]["a"]["support"] == 4
    assert back["accuracy"] == 0.5
    assert sum(back["reliability"]["count"]) == len(Y_TRUE)


def _two_class_probs(confidence: list[float]) -> np.ndarray:
    """Rows whose top probability (class 0) is `confidence`."""
    c = np.asarray(confidence)
    return np.stack([c, 1 - c], axis=1)


def test_ece_is_zero_when_perfectly_calibrated():
    # 5 faces at 0.6 with 3 right, 10 at 0.8 with 8 right, 4 at 1.0 all right: accuracy = confidence per bin.
    conf = [0.6] * 5 + [0.8] * 10 + [1.0] * 4
    y_true = np.array([0] * 3 + [1] * 2 + [0] * 8 + [1] * 2 + [0] * 4)
    m = compute_metrics(y_true, _two_class_probs(conf), ("x", "y"))
    assert m.ece == pytest.approx(0.0, abs=1e-12)
    assert m.reliability.count.sum() == 19
    assert np.nansum(m.reliability.count * m.reliability.accuracy) == pytest.approx(15)


def test_ece_of_an_overconfident_model():
    # Confidence 0.9 everywhere, accuracy 0.6: ECE = 0.3.
    y_true = np.array([0] * 6 + [1] * 4)
    assert compute_metrics(y_true, _two_class_probs([0.9] * 10), ("x", "y")).ece == pytest.approx(0.3)
    # Two bins, equal weight: 0.95 with half right (gap 0.45) and 0.55 all right (gap 0.45).
    ece, bins = expected_calibration_error(np.array([0.95] * 10 + [0.55] * 10), np.array([1, 0] * 5 + [1] * 10))
    assert ece == pytest.approx(0.45)
    assert bins.count[14] == 10 and bins.count[8] == 10  # (14/15, 1] and (8/15, 9/15]


def test_ece_matches_a_direct_loop():
    rng = np.random.default_rng(2)
    conf = rng.uniform(0, 1, 1000)
    conf[:20] = np.linspace(0, 1, 15 + 1).repeat(2)[:20]  # values on bin edges belong to the lower bin
    correct = rng.uniform(0, 1, 1000) < conf**2
    expected = 0.0
    for lo, hi in zip(np.linspace(0, 1, 16)[:-1], np.linspace(0, 1, 16)[1:], strict=True):
        inside = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if inside.any():
            expected += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    ece, _ = expected_calibration_error(conf, correct)
    assert ece == pytest.approx(expected)
    assert math.isfinite(ece) and ece > 0.05


@pytest.mark.parametrize(("y_true", "probs", "match"), [
    (np.array([0, 1]), np.ones((2, 3)) / 3, r"probs must be \[N, 2\]"),
    (np.array([0, 1, 1]), np.ones((2, 2)) / 2, "does not match"),
    (np.array([0, 2]), np.ones((2, 2)) / 2, "labels must lie in 0..1"),
    (np.zeros(0, int), np.zeros((0, 2)), "no predictions"),
])
def test_bad_input_is_refused(y_true, probs, match):
    with pytest.raises(ValueError, match=match):
        compute_metrics(y_true, probs, ("x", "y"))
