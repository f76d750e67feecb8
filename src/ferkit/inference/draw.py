"""`annotate`: draw predictions onto an image. The only drawing code in ferkit (CLI, video, webcam and the
web service all call it)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ferkit.inference.types import FacePrediction

# BGR colour per class position (the model's class order), cycled for models with more classes.
_PALETTE: tuple[tuple[int, int, int], ...] = (
    (40, 40, 220), (40, 140, 60), (160, 60, 160), (0, 200, 240), (200, 120, 40), (0, 140, 255), (170, 170, 170),
)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _color(face: FacePrediction) -> tuple[int, int, int]:
    return _PALETTE[list(face.probabilities).index(face.label) % len(_PALETTE)]


def annotate(image_bgr: np.ndarray, predictions: Sequence[FacePrediction], caption: str | None = None,
             probabilities: bool = True) -> np.ndarray:
    """A copy of `image_bgr` with each face's box, landmarks, top label and (optionally) a bar per class.

    Args:
        image_bgr: the image the predictions were made on (BGR uint8).
        predictions: faces to draw.
        caption: text for the top-left corner, e.g. frames per second.
        probabilities: draw the per-class probability bars beside each box.
    """
    out = image_bgr.copy()
    scale = max(0.4, max(out.shape[:2]) / 1200)  # text size that stays legible from thumbnails to 4K
    thickness = max(1, round(scale * 2))
    if probabilities:  # first: no face's panel ever covers a box or a label
        for face in predictions:
            _bars(out, face, scale)
    for face in predictions:
        x, y, w, h = face.box.to_list()
        color = _color(face)
        cv2.rectangle(out, (x, y), (x + w, y + h), color, thickness)
        if face.landmarks is not None:
            for px, py in face.landmarks:
                cv2.circle(out, (round(float(px)), round(float(py))), thickness + 1, color, -1)
        prefix = f"#{face.track_id} " if face.track_id is not None else ""
        _label(out, f"{prefix}{face.label} {face.confidence:.2f}", (x, y), color, scale, thickness)
    if caption:
        _label(out, caption, (0, 0), (0, 0, 0), scale, thickness, below=True)
    return out


def _label(image: np.ndarray, text: str, corner: tuple[int, int], color: tuple[int, int, int], scale: float,
           thickness: int, below: bool = False) -> None:
    """White text on a filled `color` strip, above `corner` (or below it, or below when there is no room)."""
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, thickness)
    x, y = corner
    top = y if below or y - th - base - 4 < 0 else y - th - base - 4
    cv2.rectangle(image, (x, top), (x + tw + 4, top + th + base + 4), color, -1)
    cv2.putText(image, text, (x + 2, top + th + 2), _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _bars(image: np.ndarray, face: FacePrediction, scale: float) -> None:
    """One row per class, a name and a bar as long as its probability, beside the box: right of it, else left,
    else below. Where none has room (a face filling a small image) the panel is half transparent, so the face
    still shows through it."""
    row_h = round(18 * scale / 0.5)
    bar_w = round(60 * scale / 0.5)
    text_scale = scale * 0.8
    name_w = max(cv2.getTextSize(name, _FONT, text_scale, 1)[0][0] for name in face.probabilities)
    width, height = name_w + bar_w + 8, row_h * len(face.probabilities)
    box_x, box_y, box_w, box_h = face.box.to_list()
    rows, cols = image.shape[:2]
    beside_y = max(0, min(box_y, rows - height))
    spots = [(box_x + box_w + 4, beside_y), (box_x - width - 4, beside_y),
             (max(0, min(box_x, cols - width)), box_y + box_h + 4)]
    fits = [(x, y) for x, y in spots if x >= 0 and y >= 0 and x + width <= cols and y + height <= rows]
    x, y = fits[0] if fits else (max(0, min(spots[0][0], cols - width)), beside_y)
    panel = image if fits else image.copy()
    for i, (name, p) in enumerate(face.probabilities.items()):
        top = y + i * row_h
        cv2.rectangle(panel, (x, top), (x + width, top + row_h), (0, 0, 0), -1)
        cv2.putText(panel, name, (x + 2, top + row_h - 5), _FONT, text_scale, (255, 255, 255), 1, cv2.LINE_AA)
        bar_x = x + name_w + 6
        cv2.rectangle(panel, (bar_x, top + 3), (bar_x + round(bar_w * p), top + row_h - 3),
                      _PALETTE[i % len(_PALETTE)], -1)
    if not fits:
        cv2.addWeighted(panel, 0.5, image, 0.5, 0, dst=image)
