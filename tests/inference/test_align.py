from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferkit.inference.align import crop_face, eye_angle
from ferkit.inference.types import Box, Detection


def _landmarks(right_eye, left_eye) -> np.ndarray:
    return np.array([right_eye, left_eye, (0, 0), (0, 0), (0, 0)], np.float32)


def test_eye_angle_is_zero_for_level_eyes_and_follows_a_tilt():
    assert eye_angle(_landmarks((10, 20), (30, 20))) == 0.0
    assert eye_angle(_landmarks((10, 20), (30, 40))) == pytest.approx(45.0)


def test_unaligned_crop_inside_the_image_is_a_plain_slice_plus_margin():
    image = np.arange(100 * 100, dtype=np.uint16).reshape(100, 100).astype(np.float32)
    crop = crop_face(image, Detection(Box(30, 40, 20, 20), 0.9), margin=0.25, align=False)
    assert crop.shape == (30, 30)
    assert np.array_equal(crop, image[35:65, 25:55])


def test_crop_is_square_on_the_long_side_and_repeats_edges_outside_the_image():
    image = np.full((50, 50), 7, np.uint8)
    crop = crop_face(image, Detection(Box(-10, 0, 20, 40), 0.9), margin=0.1, align=False)
    assert crop.shape == (48, 48) and (crop == 7).all()


def test_alignment_levels_tilted_eyes():
    image = np.zeros((200, 200), np.uint8)
    right, left = (80.0, 90.0), (120.0, 113.1)  # a 30 degree tilt
    for x, y in (right, left):
        cv2.circle(image, (round(x), round(y)), 4, 255, -1)
    det = Detection(Box(60, 60, 80, 80), 0.9, _landmarks(right, left))
    aligned = crop_face(image, det, margin=0.0, align=True)
    ys, xs = np.nonzero(aligned > 128)
    left_half, right_half = ys[xs < aligned.shape[1] / 2], ys[xs >= aligned.shape[1] / 2]
    assert abs(left_half.mean() - right_half.mean()) < 1.5
    tilted = crop_face(image, det, margin=0.0, align=False)
    ys, xs = np.nonzero(tilted > 128)
    assert ys[xs >= 40].mean() - ys[xs < 40].mean() > 15


def test_without_landmarks_alignment_is_a_no_op():
    image = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    det = Detection(Box(10, 10, 30, 30), 0.9)
    assert np.array_equal(crop_face(image, det, align=True), crop_face(image, det, align=False))
