"""Plain result types of the inference pipeline: what a detector finds and what the Recognizer returns.

`FacePrediction.to_dict()` is a face's one JSON shape and `FacePrediction.to_row()` the same values flattened into
columns; both round with `rounded`, so a number reads the same in JSON, the results table and the timeline CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

DECIMALS = 4  # every real number a result reports (boxes are whole pixels: `Box.to_list`)
LANDMARK_POINTS = 5  # right eye, left eye, nose tip, right and left mouth corner
BOX_COLUMNS = ("box_x", "box_y", "box_w", "box_h")
LANDMARK_COLUMNS = tuple(f"landmark_{i}_{axis}" for i in range(LANDMARK_POINTS) for axis in "xy")


def rounded(value: float) -> float:
    """`value` as every result reports it: a Python float to `DECIMALS` places (JSON-safe, NumPy scalars too)."""
    return round(float(value), DECIMALS)


def face_columns(classes: Sequence[str]) -> tuple[str, ...]:
    """The keys of `FacePrediction.to_row(classes)`, in `to_dict()`'s order."""
    return (*BOX_COLUMNS, "score", *LANDMARK_COLUMNS, "label", "confidence", *(f"prob_{c}" for c in classes),
            "track_id")


@dataclass(frozen=True)
class Box:
    """An axis-aligned face box in original image pixels: top-left corner `x, y`, width `w`, height `h`."""

    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def iou(self, other: Box) -> float:
        """Intersection over union, 0 for disjoint or empty boxes."""
        iw = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        ih = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        if iw <= 0 or ih <= 0:
            return 0.0
        inter = iw * ih
        return inter / (self.area + other.area - inter)

    def clip(self, width: int, height: int) -> Box:
        """The part of the box inside a `width x height` image."""
        x1, y1 = min(max(self.x, 0.0), width), min(max(self.y, 0.0), height)
        x2, y2 = min(max(self.x + self.w, 0.0), width), min(max(self.y + self.h, 0.0), height)
        return Box(x1, y1, x2 - x1, y2 - y1)

    def scaled(self, factor: float) -> Box:
        """The same box in an image resized by `factor`."""
        return Box(self.x * factor, self.y * factor, self.w * factor, self.h * factor)

    def to_list(self) -> list[int]:
        """`[x, y, w, h]` rounded to whole pixels."""
        return [round(self.x), round(self.y), round(self.w), round(self.h)]


@dataclass(frozen=True)
class Detection:
    """One face found by a detector. `landmarks` is `[5, 2]` float (right eye, left eye, nose tip, right and
    left mouth corner, as seen from the person) in original image pixels, or None when the detector has none."""

    box: Box
    score: float
    landmarks: np.ndarray | None = None


@dataclass(frozen=True)
class FacePrediction:
    """One recognised face: where it is and the probability of every class (in the model's class order)."""

    box: Box
    score: float  # detector confidence
    probabilities: dict[str, float]
    landmarks: np.ndarray | None = None
    track_id: int | None = None

    @property
    def label(self) -> str:
        """The most probable class."""
        return max(self.probabilities, key=self.probabilities.__getitem__)

    @property
    def confidence(self) -> float:
        """The probability of `label`."""
        return self.probabilities[self.label]

    def with_track(self, track_id: int, probabilities: dict[str, float] | None = None) -> FacePrediction:
        """A copy carrying a track id (and, when given, temporally smoothed probabilities)."""
        return replace(self, track_id=track_id, probabilities=probabilities or self.probabilities)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: one entry of `ImageResult.to_dict()["faces"]`, wherever an image is reported."""
        return {
            "box": self.box.to_list(),
            "score": rounded(self.score),
            "landmarks": None if self.landmarks is None else [[rounded(x), rounded(y)] for x, y in self.landmarks],
            "label": self.label,
            "confidence": rounded(self.confidence),
            "probabilities": {k: rounded(v) for k, v in self.probabilities.items()},
            "track_id": self.track_id,
        }

    def to_row(self, classes: Sequence[str]) -> dict[str, Any]:
        """`to_dict()` flat, for tables (`face_columns(classes)`): `box_x..box_h`, `landmark_<i>_<x|y>` (None
        without landmarks) and one `prob_<class>` per class of `classes`, in that order, whatever the order of
        `probabilities`."""
        d = self.to_dict()
        points = d["landmarks"] or [[None, None]] * LANDMARK_POINTS
        values = (*d["box"], d["score"], *(v for point in points for v in point), d["label"], d["confidence"],
                  *(d["probabilities"][c] for c in classes), d["track_id"])
        return dict(zip(face_columns(classes), values, strict=True))
