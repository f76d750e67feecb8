"""Plain result types of the inference pipeline: what a detector finds and what the Recognizer returns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np


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
            "score": round(float(self.score), 4),
            "landmarks": None if self.landmarks is None else [[round(float(x), 1), round(float(y), 1)]
                                                               for x, y in self.landmarks],
            "label": self.label,
            "confidence": round(float(self.confidence), 4),
            "probabilities": {k: round(float(v), 4) for k, v in self.probabilities.items()},
            "track_id": self.track_id,
        }
