"""`ImageResult`: everything found in one image or video frame, and the one place that turns it into JSON
(`to_dict`), table rows (`rows`), an annotated picture (`plot`) or an annotated file (`save`), as ultralytics'
`Results` does.

`rows()` is `to_dict()` flattened, one row per face, with the same values (one rounding rule,
`ferkit.inference.types.rounded`): `ferkit predict`'s JSON lines are `to_dict()`, its results table and `ferkit
video --csv` are `rows()` (the table adds the columns of the job), the webcam and the web service answer
`to_dict()`. So a face has one shape wherever it is reported, nested or flat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ferkit.errors import FerkitError
from ferkit.files import atomic_write
from ferkit.inference.draw import annotate
from ferkit.inference.types import FacePrediction, face_columns, rounded

IMAGE_COLUMNS = ("source", "width", "height", "frame", "time_s")  # the keys of `to_dict()` each row repeats


def row_columns(classes: Sequence[str]) -> tuple[str, ...]:
    """The keys of `ImageResult.rows(classes)`, in order: the image's, then the face's (`face_columns`)."""
    return (*IMAGE_COLUMNS, *face_columns(classes))


@dataclass(frozen=True)
class ImageResult:
    """The faces of one image, where the image came from, its size and where the time went.

    The result keeps the decoded image it was computed on (the same array, not a copy), so `plot()` and `save()`
    need no argument and can never draw the boxes onto another image than the one they were found in; its
    size is read from that array. The price is that a result holds its image in memory while it lives.

    Attributes:
        source: the path the image was read from; None for arrays, PIL images and video frames.
        image: the analysed image, BGR uint8 `HxWx3`.
        faces: the faces found, [] when none.
        timings: milliseconds per stage, as measured by whoever made the result (the Recognizer measures
            "decode", "detect" and "classify"; the web service adds "queue").
        frame: the frame's index in its video; None for a still image.
        time_s: the frame's time in seconds from the start of its video; None for a still image.
    """

    source: str | None
    image: np.ndarray = field(repr=False, compare=False)
    faces: list[FacePrediction]
    timings: dict[str, float] = field(default_factory=dict)
    frame: int | None = None
    time_s: float | None = None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def with_timings(self, **ms: float) -> ImageResult:
        """A copy with `ms` added to its timings: a caller's own stages (the service's "queue"), or its share
        of one already there (the service decodes the upload before the Recognizer sees an array)."""
        timings = dict(self.timings)
        for stage, value in ms.items():
            timings[stage] = timings.get(stage, 0.0) + value
        return replace(self, timings=timings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, the same keys for every image (frame and time_s are null for a still image)."""
        return {
            "source": self.source,
            "width": self.width,
            "height": self.height,
            "frame": self.frame,
            "time_s": None if self.time_s is None else rounded(self.time_s),
            "faces": [face.to_dict() for face in self.faces],
            "timing_ms": {stage: rounded(ms) for stage, ms in self.timings.items()},
        }

    def rows(self, classes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """`to_dict()` as flat rows (`row_columns(classes)`), for tables: one per face, each with the image's keys
        (not `timing_ms`: a table describes faces, not one run's speed); an image without a face is one row whose
        face columns are None, so that a table keeps it. `classes` names the `prob_<class>` columns, default
        those of the faces' probabilities."""
        image = {key: value for key, value in self.to_dict().items() if key in IMAGE_COLUMNS}
        if not self.faces:
            return [{**image, **dict.fromkeys(face_columns(classes or ()))}]
        return [{**image, **face.to_row(tuple(face.probabilities) if classes is None else classes)}
                for face in self.faces]

    def plot(self, caption: str | None = None, probabilities: bool = True) -> np.ndarray:
        """A copy of the image with every face drawn (see `ferkit.inference.draw.annotate` for the arguments)."""
        return annotate(self.image, self.faces, caption, probabilities)

    def save(self, path: str | Path, caption: str | None = None, probabilities: bool = True) -> Path:
        """Write `plot()` to `path`, in the format its suffix names; a crash never leaves half a file there.

        Raises:
            FerkitError: naming the path, when its suffix is not an image format OpenCV can write.
        """
        path = Path(path)
        try:
            ok, encoded = cv2.imencode(path.suffix, self.plot(caption, probabilities))
        except cv2.error:
            ok = False
        if not ok:
            raise FerkitError(f"{path}: cannot write an image with suffix '{path.suffix}' (use .jpg or .png)")
        return atomic_write(path, encoded.tobytes())
