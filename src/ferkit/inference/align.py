"""Cut a detected face out of a frame the way FER2013 frames its faces: square, centred, with a margin.

With `align=True` and eye landmarks available, the crop is also rotated so the eyes are level. One affine
warp does crop, rotation and border filling at once, so the aligned and unaligned paths share all code.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ferkit.constants import FACE_MARGIN
from ferkit.inference.types import Detection


def eye_angle(landmarks: np.ndarray) -> float:
    """Angle in degrees of the line from the right eye to the left eye (0 when the eyes are level)."""
    (rx, ry), (lx, ly) = landmarks[0], landmarks[1]
    return math.degrees(math.atan2(ly - ry, lx - rx))


def crop_face(image: np.ndarray, detection: Detection, margin: float = FACE_MARGIN, align: bool = True) -> np.ndarray:
    """A square crop around `detection`, `margin` of the box side added on each side.

    Args:
        image: the whole frame (gray or BGR, any dtype OpenCV warps).
        detection: the face; its landmarks are used only when `align` is set.
        margin: share of the box's long side added on every side.
        align: rotate about the box centre so the eyes are level (needs landmarks).

    Returns:
        The crop at the frame's resolution; parts outside the frame repeat the nearest edge pixel.
    """
    box = detection.box
    side = max(1, round(max(box.w, box.h) * (1 + 2 * margin)))
    cx, cy = box.center
    angle = eye_angle(detection.landmarks) if align and detection.landmarks is not None else 0.0
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[:, 2] += (side / 2 - cx, side / 2 - cy)
    return cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
