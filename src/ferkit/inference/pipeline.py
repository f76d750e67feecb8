"""`Recognizer`: image in, faces with expression probabilities out (detect -> crop -> classify in one batch).

Example:
    >>> from ferkit import Recognizer
    >>> rec = Recognizer()  # the bundled model; YuNet (downloaded once), or Haar when offline
    >>> for face in rec.predict("photo.jpg"):
    ...     print(face.box.to_list(), face.label, round(face.confidence, 2))
    >>> result = rec.analyze("photo.jpg")  # the same faces with the image, its size and timings
    >>> result.save("annotated.jpg")
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ferkit.constants import FACE_MARGIN
from ferkit.inference.align import crop_face
from ferkit.inference.classify import Classifier, load_classifier
from ferkit.inference.detect import MIN_FACE, SCORE_THRESHOLD, DetectorName, FaceDetector, create_detector
from ferkit.inference.images import ColorOrder, ImageInput, load_image
from ferkit.inference.result import ImageResult
from ferkit.inference.track import IoUTracker
from ferkit.inference.types import Detection, FacePrediction
from ferkit.inference.video import Frame
from ferkit.transforms.preprocess import prepare_faces, to_gray

DEFAULT_MODEL = "base"  # one fast network (weights/base.onnx); the one default of every command and the service


@dataclass(frozen=True)
class FrameResult:
    """A frame of a stream with its result; `analyzed` is False for frames skipped under `every`, whose result
    carries the latest faces (and no timings) on the new frame."""

    frame: Frame
    result: ImageResult
    analyzed: bool

    @property
    def faces(self) -> list[FacePrediction]:
        return self.result.faces


class Recognizer:
    """Facial expression recognition on whole images.

    Args:
        model: a bundled model name, an exported `.onnx` file, a ferkit model file (`.pt` or run directory;
            needs torch), or any object with the `Classifier` interface.
        detector: "auto" (YuNet, or the Haar cascade when YuNet's model cannot be had), "yunet",
            "yunet-ort" (YuNet on ONNX Runtime: same faces, faster), "haar",
            or any object with the `FaceDetector` interface.
        score_threshold: minimum detector score of a face.
        min_face: smallest face side kept, in original image pixels.
        align: rotate each face so its eyes are level before classifying (needs landmarks, i.e. YuNet).
        margin: share of the face box added on each side of the crop (FER2013-like framing).
        max_side: images are downscaled to this long side for detection (boxes are reported in the original).
        yunet_path: use this YuNet `.onnx` instead of the downloaded one (default: $FERKIT_YUNET, if set).
        cache_dir: where the YuNet model is downloaded to (default: $FERKIT_CACHE, else `~/.cache/ferkit`).
        download: allow downloading the YuNet model on first use.
    """

    def __init__(
        self,
        model: str | Path | Classifier = DEFAULT_MODEL,
        detector: DetectorName | FaceDetector = "auto",
        *,
        score_threshold: float = SCORE_THRESHOLD,
        min_face: int = MIN_FACE,
        align: bool = True,
        margin: float = FACE_MARGIN,
        max_side: int = 640,
        yunet_path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        download: bool = True,
    ) -> None:
        self.classifier = load_classifier(model) if isinstance(model, (str, Path)) else model
        if isinstance(detector, str):
            detector = create_detector(detector, score_threshold=score_threshold, min_face=min_face,
                                       max_side=max_side, yunet_path=yunet_path, cache_dir=cache_dir,
                                       download=download)
        self.detector = detector
        self.align = align
        self.margin = margin

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.classifier.classes)

    def model_info(self) -> dict[str, Any]:
        """The model's name, classes, input size, metrics and source file, plus the detector in use."""
        return {**self.classifier.info(), "detector": self.detector.name}

    def predict(self, image: ImageInput, color: ColorOrder = "bgr") -> list[FacePrediction]:
        """Every face in `image` (a path, a NumPy array in `color` order, or a PIL image); [] when none.

        The plain list is all most callers need; `analyze` returns the same faces inside an `ImageResult`
        (image, size, timings, `to_dict`/`plot`/`save`).

        Raises:
            ImageReadError: the image cannot be read or has an unsupported layout.
        """
        return self.analyze(image, color).faces

    def predict_batch(self, images: Sequence[ImageInput], color: ColorOrder = "bgr") -> list[list[FacePrediction]]:
        """`predict` for many images, classifying the faces of all of them in one batch."""
        return [result.faces for result in self.analyze_batch(images, color)]

    def analyze(self, image: ImageInput, color: ColorOrder = "bgr") -> ImageResult:
        """`predict`, as an `ImageResult`: a path is decoded once, and its size is that of the decoded array.

        Raises:
            ImageReadError: the image cannot be read or has an unsupported layout.
        """
        return self.analyze_batch([image], color)[0]

    def analyze_batch(self, images: Sequence[ImageInput], color: ColorOrder = "bgr") -> list[ImageResult]:
        """`analyze` for many images, classifying the faces of all of them in one batch.

        Timings per image: "decode" (reading a file, or converting an array to BGR) and "detect" are its own;
        "classify" (cropping, preprocessing and the model) is its share of the batch's one classification, by
        its number of faces.
        """
        frames, timings = [], []
        for image in images:
            start = time.perf_counter()
            frames.append(load_image(image, color))
            timings.append({"decode": _ms_since(start)})
        detections = []
        for frame, timing in zip(frames, timings, strict=True):
            start = time.perf_counter()
            detections.append(self.detector.detect(frame))
            timing["detect"] = _ms_since(start)
        start = time.perf_counter()
        faces = self._classify(frames, detections)
        classify_ms, total = _ms_since(start), max(1, sum(map(len, detections)))
        return [ImageResult(str(image) if isinstance(image, (str, Path)) else None, frame, image_faces,
                            {**timing, "classify": classify_ms * len(image_faces) / total})
                for image, frame, image_faces, timing in zip(images, frames, faces, timings, strict=True)]

    def stream(self, frames: Iterable[Frame], tracker: IoUTracker | None = None,
               every: int = 1) -> Iterator[FrameResult]:
        """Analyse every `every`-th frame of a video-like sequence (with track ids when a tracker is given).

        Every frame is yielded; skipped frames carry the latest predictions, so annotated output stays smooth.
        """
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        faces: list[FacePrediction] = []
        for frame in frames:
            analyzed = frame.index % every == 0
            if analyzed:
                result = self.analyze(frame.image)
                faces = result.faces if tracker is None else tracker.update(result.faces)
                result = replace(result, faces=faces, frame=frame.index, time_s=frame.time_s)
            else:
                result = ImageResult(None, frame.image, faces, frame=frame.index, time_s=frame.time_s)
            yield FrameResult(frame, result, analyzed)

    def _classify(self, frames: list[np.ndarray], detections: list[list[Detection]]) -> list[list[FacePrediction]]:
        """The faces of every frame, from one classifier call for all of them (none when there is no face)."""
        crops: list[np.ndarray] = []
        for frame, dets in zip(frames, detections, strict=True):
            if dets:
                gray = to_gray(frame)
                crops.extend(crop_face(gray, d, self.margin, self.align) for d in dets)
        if not crops:
            return [[] for _ in frames]
        probs = iter(self.classifier.predict(prepare_faces(crops, self.classifier.preprocess)))
        return [[self._prediction(d, next(probs)) for d in dets] for dets in detections]

    def _prediction(self, detection: Detection, probs: np.ndarray) -> FacePrediction:
        return FacePrediction(
            box=detection.box,
            score=detection.score,
            probabilities=dict(zip(self.classes, map(float, probs), strict=True)),
            landmarks=detection.landmarks,
        )


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
