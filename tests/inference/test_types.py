from __future__ import annotations

import json

import numpy as np
import pytest

from ferkit.inference.types import Box, FacePrediction, face_columns


def test_iou_of_identical_disjoint_and_half_overlapping_boxes():
    a = Box(0, 0, 10, 10)
    assert a.iou(a) == 1.0
    assert a.iou(Box(20, 20, 5, 5)) == 0.0
    assert a.iou(Box(5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_clip_keeps_only_the_part_inside_the_image():
    assert Box(-5, 10, 20, 100).clip(width=12, height=50) == Box(0, 10, 12, 40)


def test_scaled_and_to_list_round_to_whole_pixels():
    assert Box(10.4, 20.6, 30.5, 40.49).to_list() == [10, 21, 30, 40]
    assert Box(1, 2, 3, 4).scaled(2.0) == Box(2, 4, 6, 8)


def _face(**kw) -> FacePrediction:
    args = {"box": Box(1.2, 2.7, 30, 40), "score": np.float32(0.9),
            "probabilities": {"happy": 0.7, "sad": 0.2, "neutral": 0.1}}
    return FacePrediction(**{**args, **kw})


def test_label_and_confidence_are_the_top_class():
    face = _face()
    assert (face.label, face.confidence) == ("happy", 0.7)


def test_to_dict_is_json_safe_with_the_documented_keys():
    landmarks = np.arange(10, dtype=np.float32).reshape(5, 2)
    d = json.loads(json.dumps(_face(landmarks=landmarks, track_id=3).to_dict()))
    assert d == {"box": [1, 3, 30, 40], "score": 0.9, "landmarks": [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]],
                 "label": "happy", "confidence": 0.7, "probabilities": {"happy": 0.7, "sad": 0.2, "neutral": 0.1},
                 "track_id": 3}


def test_to_dict_without_landmarks_or_track():
    d = _face().to_dict()
    assert d["landmarks"] is None and d["track_id"] is None


def test_with_track_keeps_or_replaces_probabilities():
    face = _face()
    assert face.with_track(4).probabilities == face.probabilities
    assert face.with_track(4, {"sad": 1.0}).label == "sad"


def test_to_row_is_to_dict_flat_with_prob_columns_in_the_order_asked():
    landmarks = np.array([[10.123456, 20.5], [30, 40], [50, 60], [70, 80], [90, 100]], np.float32)
    face = _face(landmarks=landmarks, track_id=3, probabilities={"happy": 0.712345, "sad": 0.2, "neutral": 0.087655})
    d, row = face.to_dict(), face.to_row(("neutral", "sad", "happy"))
    assert list(row) == list(face_columns(("neutral", "sad", "happy")))
    assert [row[k] for k in ("box_x", "box_y", "box_w", "box_h")] == d["box"] == [1, 3, 30, 40]
    assert (row["landmark_0_x"], row["landmark_0_y"], row["landmark_4_y"]) == (10.1235, 20.5, 100.0)
    assert [k for k in row if k.startswith("prob_")] == ["prob_neutral", "prob_sad", "prob_happy"]
    assert (row["prob_happy"], row["confidence"], row["label"]) == (0.7123, 0.7123, "happy")
    assert all(row[f"prob_{c}"] == p for c, p in d["probabilities"].items())  # one rounding rule for both
    assert (row["score"], row["track_id"]) == (d["score"], 3)


def test_to_row_without_landmarks_leaves_their_columns_empty():
    row = _face().to_row(("happy", "sad", "neutral"))
    assert {row[k] for k in row if k.startswith("landmark_")} == {None} and row["track_id"] is None
