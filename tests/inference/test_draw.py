from __future__ import annotations

import numpy as np

from ferkit.inference.draw import annotate
from ferkit.inference.types import Box, FacePrediction


def _face() -> FacePrediction:
    return FacePrediction(Box(40, 60, 50, 50), 0.9, {"happy": 0.8, "sad": 0.2}, track_id=7)


def test_annotate_draws_on_a_copy():
    image = np.full((240, 320, 3), 128, np.uint8)
    out = annotate(image, [_face()])
    assert (image == 128).all() and out.shape == image.shape
    assert (out[60, 40:91] != 128).any(axis=1).all()  # the box's top edge
    assert (out[80:110, 95:200] != 128).any()  # the probability bars to the right


def test_no_predictions_and_no_caption_leaves_the_image_as_is():
    image = np.full((50, 50, 3), 30, np.uint8)
    assert np.array_equal(annotate(image, []), image)


def test_caption_goes_in_the_top_left_corner():
    out = annotate(np.zeros((100, 200, 3), np.uint8), [], caption="30.0 frames/s")
    assert out[:25, :60].any() and not out[50:].any()


def test_bars_move_left_when_there_is_no_room_on_the_right():
    image = np.full((200, 200, 3), 128, np.uint8)
    out = annotate(image, [FacePrediction(Box(140, 40, 50, 50), 0.9, {"happy": 0.8, "sad": 0.2})])
    assert (out[50:70, 20:130] != 128).any()


def test_on_a_small_image_the_panel_leaves_the_label_whole_and_the_face_visible():
    image = np.full((120, 120, 3), 128, np.uint8)
    face = FacePrediction(Box(20, 25, 80, 85), 0.9, dict(zip("abcdefg", [0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1],
                                                             strict=True)))
    out = annotate(image, [face])
    label_color = np.array([0, 200, 240])  # the palette's colour of the 4th class, the label "d"
    assert (out[5:24, 21] == label_color).all(axis=1).any()  # the label strip above the box is not covered
    inside = out[30:105, 25:95]
    assert (inside == 0).all(axis=2).mean() < 0.05  # nothing inside the box is painted over in black
