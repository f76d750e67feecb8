from __future__ import annotations

import pytest

from ferkit.inference.track import IoUTracker
from ferkit.inference.types import Box, FacePrediction


def _face(x: float, y: float = 0, happy: float = 0.5) -> FacePrediction:
    return FacePrediction(Box(x, y, 40, 40), 0.9, {"happy": happy, "sad": 1 - happy})


def test_two_faces_moving_keep_their_ids_whatever_their_order():
    tracker = IoUTracker()
    first = tracker.update([_face(0), _face(200)])
    ids = [f.track_id for f in first]
    assert ids == [1, 2]
    for step in range(1, 10):
        faces = [_face(200 + 5 * step), _face(5 * step)]  # listed in the other order
        assert [f.track_id for f in tracker.update(faces)] == [2, 1]


def test_a_face_may_vanish_for_max_missed_frames_and_keep_its_id():
    tracker = IoUTracker(max_missed=2)
    tracker.update([_face(0)])
    tracker.update([])
    tracker.update([])
    assert tracker.update([_face(2)])[0].track_id == 1
    for _ in range(3):
        tracker.update([])
    assert tracker.update([_face(2)])[0].track_id == 2  # gone too long: a new person


def test_far_apart_faces_start_new_tracks():
    tracker = IoUTracker()
    tracker.update([_face(0)])
    assert [f.track_id for f in tracker.update([_face(0), _face(300)])] == [1, 2]


def test_smoothing_is_an_exponential_moving_average_per_track():
    tracker = IoUTracker(smoothing=0.75)
    tracker.update([_face(0, happy=1.0)])
    (face,) = tracker.update([_face(1, happy=0.0)])
    assert face.probabilities["happy"] == pytest.approx(0.75)
    (face,) = tracker.update([_face(2, happy=0.0)])
    assert face.probabilities["happy"] == pytest.approx(0.5625)


def test_without_smoothing_probabilities_pass_through():
    tracker = IoUTracker()
    tracker.update([_face(0, happy=1.0)])
    assert tracker.update([_face(1, happy=0.2)])[0].probabilities["happy"] == 0.2


def test_smoothing_must_leave_room_for_new_frames():
    with pytest.raises(ValueError, match="smoothing"):
        IoUTracker(smoothing=1.0)
