"""Video I/O only: frames in (file, camera, or any iterable of images) and annotated frames out.

Analysis lives in `pipeline.Recognizer.stream`; outputs derived from it in `timeline`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ferkit.errors import FerkitError, ImageReadError

FALLBACK_FPS = 30.0  # cameras and some containers report 0 frames/s


@dataclass(frozen=True)
class Frame:
    """One video frame: its position, its time in seconds from the start, and the BGR image."""

    index: int
    time_s: float
    image: np.ndarray


class VideoSource:
    """Frames of a video file (`path`) or a camera (`int` device index), as an iterator of `Frame`.

    File frames are timed by their index and the container's frame rate; camera frames by the wall clock.

    Raises:
        ImageReadError: the file is missing, not a video, or has no readable frame.
    """

    def __init__(self, source: str | Path | int) -> None:
        self.source = source
        self.is_camera = isinstance(source, int)
        if not self.is_camera and not Path(source).is_file():
            raise ImageReadError(f"{source}: no such video file")
        self._capture = cv2.VideoCapture(source if self.is_camera else str(source))
        if not self._capture.isOpened():
            what = f"camera {source}" if self.is_camera else f"{source}: not a video OpenCV can read"
            raise ImageReadError(f"cannot open {what}")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or FALLBACK_FPS
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 and not self.is_camera else None  # None when unknown
        self.frames_read = 0

    def __iter__(self) -> Iterator[Frame]:
        start = time.monotonic()
        while True:
            ok, image = self._capture.read()
            if not ok:
                break
            index = self.frames_read
            time_s = time.monotonic() - start if self.is_camera else index / self.fps
            self.frames_read += 1
            yield Frame(index, time_s, image)
        if self.frames_read == 0:
            raise ImageReadError(f"{self._name()}: no frame could be read")

    @property
    def missing_frames(self) -> int:
        """Frames the container claims but that could not be decoded (after iterating to the end; 0 when the
        count is unknown). A truncated or damaged file stops decoding early without any error from OpenCV."""
        return max(0, (self.frame_count or 0) - self.frames_read)

    def _name(self) -> str:
        return f"camera {self.source}" if self.is_camera else str(self.source)

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Containers that take OpenCV's MPEG-4 Part 2 stream (checked with opencv-python-headless 4.14): any other
# suffix (none, .webm, .jpg) makes FFmpeg print its own complaints, or write an image sequence.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv")


class VideoSink:
    """Writes frames to an `.mp4` (MPEG-4 Part 2, which every OpenCV wheel can encode); sized by the first frame.

    Raises:
        FerkitError: a file name whose suffix is not one of `VIDEO_SUFFIXES`, when the sink is made (before any
            frame), or a folder where no video can be written.
    """

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in VIDEO_SUFFIXES:
            raise FerkitError(f"{self.path}: a video file name must end in one of {', '.join(VIDEO_SUFFIXES)}, "
                              f"e.g. {self.path.with_name(self.path.stem + '.mp4')}")
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, image_bgr: np.ndarray) -> None:
        if self._writer is None:
            size = (image_bgr.shape[1], image_bgr.shape[0])
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FerkitError(f"{self.path}: cannot write a video there ({exc.strerror})") from exc
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, size)
            if not self._writer.isOpened():
                raise FerkitError(f"{self.path}: cannot write a video there")
        self._writer.write(image_bgr)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FpsMeter:
    """Frames per second over a sliding window of the last `window` frames."""

    def __init__(self, window: int = 30) -> None:
        self._times: deque[float] = deque(maxlen=window + 1)

    def tick(self) -> float:
        """Record a frame; returns the current rate (0 until two frames were seen)."""
        self._times.append(time.perf_counter())
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)
