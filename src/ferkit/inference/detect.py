"""Face detectors behind one small interface: `detect(image_bgr) -> list[Detection]`.

- `YuNetDetector`: the YuNet ONNX model, run by OpenCV's FaceDetectorYN (the default) or directly by ONNX
  Runtime (same faces, about twice as fast); boxes, five landmarks and a score. The default detector: it
  finds faces rotated by 30 degrees and small faces that the Haar cascade misses.
- `HaarDetector`: OpenCV's frontal-face Haar cascade; no landmarks, no score. Kept as the offline fallback
  (it ships inside OpenCV 4.x wheels, so it needs no download).

Both downscale large images to a long side of `max_side` first (YuNet's scores fall for faces taller than
about 600 px, and both run faster) and report boxes in original image pixels.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Literal, Protocol, get_args

import cv2
import numpy as np

from ferkit import env
from ferkit.errors import ConfigError, ModelError
from ferkit.inference.download import YUNET, fetch
from ferkit.inference.runtime import create_session
from ferkit.inference.types import Box, Detection

log = logging.getLogger(__name__)

DetectorName = Literal["auto", "yunet", "yunet-ort", "haar"]
DETECTOR_NAMES: tuple[str, ...] = get_args(DetectorName)

# Minimum YuNet face score: 0.7 finds rotated and small faces that OpenCV's default of 0.9 misses.
SCORE_THRESHOLD = 0.7
# Smallest face side kept, in original image pixels: smaller faces carry too few pixels for a 48 px classifier.
MIN_FACE = 20


class FaceDetector(Protocol):
    """Anything that finds faces in a BGR uint8 image."""

    name: str

    def detect(self, image_bgr: np.ndarray) -> list[Detection]: ...


def _downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """`image` resized so its long side is at most `max_side`, and the factor applied."""
    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


class _OpenCvYuNet:
    """YuNet through `cv2.FaceDetectorYN`: rows `[x, y, w, h, 10 landmark coords, score]`."""

    def __init__(self, model_path: Path, score_threshold: float, nms_threshold: float) -> None:
        try:
            self._net = cv2.FaceDetectorYN.create(str(model_path), "", (320, 320), score_threshold, nms_threshold)
        except cv2.error as exc:
            raise ModelError(f"{model_path}: not a YuNet model OpenCV can load ({exc})") from exc
        self._lock = threading.Lock()  # FaceDetectorYN keeps per-call state (input size, buffers)

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray:
        with self._lock:
            self._net.setInputSize((image_bgr.shape[1], image_bgr.shape[0]))
            _, faces = self._net.detect(image_bgr)
        return np.zeros((0, 15), np.float32) if faces is None else faces


class _OnnxRuntimeYuNet:
    """YuNet run directly on ONNX Runtime (about twice as fast as OpenCV's runtime here), decoded as
    `cv2.FaceDetectorYN` decodes it: the same rows, the same boxes."""

    STRIDES = (8, 16, 32)

    def __init__(self, model_path: Path, score_threshold: float, nms_threshold: float) -> None:
        self._session = create_session(model_path)
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold

    def __call__(self, image_bgr: np.ndarray) -> np.ndarray:
        h, w = image_bgr.shape[:2]
        padded_h, padded_w = -(-h // 32) * 32, -(-w // 32) * 32  # the network needs multiples of 32
        x = np.zeros((1, 3, padded_h, padded_w), np.float32)
        x[0, :, :h, :w] = image_bgr.transpose(2, 0, 1)
        out = dict(zip(self._outputs, self._session.run(None, {"input": x}), strict=True))
        rows = [self._decode(out, stride, padded_w // stride) for stride in self.STRIDES]
        faces = np.concatenate(rows)
        keep = cv2.dnn.NMSBoxes(faces[:, :4].tolist(), faces[:, 14].tolist(), self.score_threshold,
                                self.nms_threshold)
        return faces[np.asarray(keep, dtype=int).reshape(-1)]

    def _decode(self, out: dict[str, np.ndarray], stride: int, cols: int) -> np.ndarray:
        """Rows for the anchors of one stride whose score passes the threshold (anchor-free grid decoding)."""
        score = np.sqrt(np.clip(out[f"cls_{stride}"][0, :, 0], 0, 1) * np.clip(out[f"obj_{stride}"][0, :, 0], 0, 1))
        idx = np.flatnonzero(score >= self.score_threshold)
        cell = np.stack([idx % cols, idx // cols], axis=1).astype(np.float32)  # (column, row) of each anchor
        bbox = out[f"bbox_{stride}"][0, idx]
        centre = (cell + bbox[:, :2]) * stride
        size = np.exp(bbox[:, 2:4]) * stride
        landmarks = (out[f"kps_{stride}"][0, idx].reshape(-1, 5, 2) + cell[:, None, :]) * stride
        return np.hstack([centre - size / 2, size, landmarks.reshape(-1, 10), score[idx, None]]).astype(np.float32)


class YuNetDetector:
    """The YuNet face detector: boxes, five landmarks and a score per face.

    Args:
        model_path: the YuNet `.onnx` file (see `create_detector` for the download).
        score_threshold: minimum face score (`SCORE_THRESHOLD`).
        nms_threshold: overlap above which the weaker of two boxes is dropped.
        min_face: smallest face side kept, in original image pixels.
        max_side: images are downscaled to this long side before detection.
        engine: "opencv" (`cv2.FaceDetectorYN`) or "onnxruntime"; both give the same faces.
    """

    def __init__(self, model_path: str | Path, score_threshold: float = SCORE_THRESHOLD,
                 nms_threshold: float = 0.3, min_face: int = MIN_FACE, max_side: int = 640,
                 engine: Literal["opencv", "onnxruntime"] = "opencv") -> None:
        runtime = {"opencv": _OpenCvYuNet, "onnxruntime": _OnnxRuntimeYuNet}.get(engine)
        if runtime is None:
            raise ModelError(f"unknown YuNet engine '{engine}' (expected opencv or onnxruntime)")
        self._run = runtime(Path(model_path), score_threshold, nms_threshold)
        self.name = "yunet" if engine == "opencv" else "yunet-ort"
        self.min_face = min_face
        self.max_side = max_side

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        small, scale = _downscale(image_bgr, self.max_side)
        height, width = image_bgr.shape[:2]
        detections = []
        for row in self._run(small):
            box = Box(*map(float, row[:4])).scaled(1 / scale).clip(width, height)
            if min(box.w, box.h) < self.min_face:
                continue
            landmarks = (row[4:14].reshape(5, 2) / scale).astype(np.float32)
            detections.append(Detection(box, float(row[14]), landmarks))
        return detections


class HaarDetector:
    """OpenCV's frontal-face Haar cascade. It gives no confidence, so every detection has score 1.0."""

    name = "haar"
    CASCADE = "haarcascade_frontalface_default.xml"

    def __init__(self, min_face: int = MIN_FACE, max_side: int = 640, scale_factor: float = 1.1,
                 min_neighbors: int = 5) -> None:
        if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
            raise ModelError(f"this OpenCV ({cv2.__version__}) has no Haar cascades; use the YuNet detector")
        path = Path(cv2.data.haarcascades) / self.CASCADE
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelError(f"{path}: cannot load the Haar cascade")
        self.min_face = min_face
        self.max_side = max_side
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self._lock = threading.Lock()

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        small, scale = _downscale(image_bgr, self.max_side)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        min_side = max(1, round(self.min_face * scale))
        with self._lock:
            boxes = self._cascade.detectMultiScale(gray, self.scale_factor, self.min_neighbors,
                                                   minSize=(min_side, min_side))
        return [Detection(Box(*map(float, b)).scaled(1 / scale), 1.0) for b in boxes]


def create_detector(name: DetectorName = "auto", *, score_threshold: float = SCORE_THRESHOLD,
                    min_face: int = MIN_FACE, max_side: int = 640, yunet_path: str | Path | None = None,
                    cache_dir: str | Path | None = None, download: bool = True) -> FaceDetector:
    """Build a detector by name.

    Args:
        name: "yunet" (on OpenCV), "yunet-ort" (the same model on ONNX Runtime: same faces, about twice as
            fast), "haar", or "auto" (YuNet on ONNX Runtime, falling back to Haar with one warning when the
            YuNet model is neither at `yunet_path`, nor cached, nor downloadable).
        score_threshold: YuNet's minimum face score (Haar has none).
        min_face: smallest face side kept, in original image pixels.
        max_side: images are downscaled to this long side before detection.
        yunet_path: a YuNet `.onnx` to use instead of the cached download (default: $FERKIT_YUNET, if set).
        cache_dir: where the YuNet model is downloaded to (default: $FERKIT_CACHE, else `~/.cache/ferkit`).
        download: allow downloading the YuNet model when it is not cached.

    Raises:
        ModelError: an unknown name, or "yunet" when its model cannot be found or fetched.
        ConfigError: a threshold or size out of range (OpenCV would fail later with a bare assertion).
    """
    if name not in DETECTOR_NAMES:
        raise ModelError(f"unknown detector '{name}'; choose one of {', '.join(DETECTOR_NAMES)}")
    if not 0.0 <= score_threshold <= 1.0:
        raise ConfigError(f"score_threshold must be in [0, 1], got {score_threshold}")
    if min_face < 0 or max_side < 32:
        raise ConfigError(f"min_face must be >= 0 and max_side >= 32, got {min_face} and {max_side}")
    if name == "haar":
        return HaarDetector(min_face=min_face, max_side=max_side)
    try:
        path = _yunet_model(yunet_path, cache_dir, download)
    except ModelError as exc:
        if name != "auto":
            raise
        log.warning("YuNet face detector unavailable (%s); falling back to the Haar cascade, which misses "
                    "rotated and small faces", exc)
        return HaarDetector(min_face=min_face, max_side=max_side)
    engine = "opencv" if name == "yunet" else "onnxruntime"
    return YuNetDetector(path, score_threshold=score_threshold, min_face=min_face, max_side=max_side, engine=engine)


def _yunet_model(path: str | Path | None, cache_dir: str | Path | None, download: bool) -> Path:
    path = path if path is not None else env.yunet_path()
    if path is not None:
        if not Path(path).is_file():
            raise ModelError(f"{path}: no such YuNet model file")
        return Path(path)
    return fetch(YUNET, cache_dir, download=download)
