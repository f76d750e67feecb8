"""`Analyzer`: inputs in, table rows out, with one Recognizer. Every engine runs this same code: the local
engine in each worker process, the Ray engine in each actor, so both give the same rows.

Images of a task are decoded one by one (a failure becomes that input's error row), their faces found one
image at a time and classified in one batch. A video is one task: its frames are analysed in order with a
tracker of its own, so track ids are per video.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ferkit.batch.inputs import Input
from ferkit.batch.table import ModelTag, error_row, face_rows
from ferkit.errors import FerkitError
from ferkit.inference.download import sha256_of
from ferkit.inference.images import load_image
from ferkit.inference.pipeline import Recognizer
from ferkit.inference.result import ImageResult
from ferkit.inference.track import IoUTracker
from ferkit.inference.video import VideoSource


def model_tag(name: str, source: str | None, classes: Sequence[str]) -> ModelTag:
    """The model columns of the rows: the name asked for and a content hash of its file (`source`)."""
    version = sha256_of(Path(source))[:12] if source and Path(source).is_file() else "unknown"
    return ModelTag(name, version, tuple(classes))


class Analyzer:
    """Turns inputs into rows with `recognizer`; optionally saves an annotated copy of each image."""

    def __init__(self, recognizer: Recognizer, model: ModelTag, annotate_dir: Path | None = None) -> None:
        self.recognizer = recognizer
        self.model = model
        self.annotate_dir = annotate_dir

    def __call__(self, items: Sequence[Input]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        images = []
        for item in items:
            if item.kind == "missing":
                rows.append(error_row(item.source, item.problem, self.model))
            elif item.kind == "video":
                rows.extend(self.video(item.source))
            else:
                images.append(item.source)
        rows.extend(self.images(images))
        return rows

    def images(self, sources: Sequence[str]) -> list[dict[str, Any]]:
        loaded, rows = [], []
        for source in sources:
            try:
                loaded.append((source, load_image(source)))
            except FerkitError as exc:
                rows.append(error_row(source, str(exc), self.model))
        if not loaded:
            return rows
        try:
            results = self.recognizer.analyze_batch([image for _, image in loaded])
        except FerkitError as exc:  # rare: one image breaks detection; analyse them one by one to name it
            if len(loaded) == 1:
                return [*rows, error_row(loaded[0][0], str(exc), self.model)]
            return rows + [row for source, _ in loaded for row in self.images([source])]
        for (source, _), result in zip(loaded, results, strict=True):
            rows.extend(face_rows(source, result, self.model))
            if self.annotate_dir is not None:
                self._save_annotated(source, result)
        return rows

    def video(self, source: str) -> list[dict[str, Any]]:
        """Every frame of one video, tracked; an unreadable video or one that stops early says so in a row."""
        rows: list[dict[str, Any]] = []
        tracker = IoUTracker()
        try:
            with VideoSource(source) as video:
                for step in self.recognizer.stream(video, tracker):
                    rows.extend(face_rows(source, step.result, self.model))
                if video.missing_frames:
                    rows.append(error_row(source, f"decoding stopped after {video.frames_read} of the "
                                                  f"{video.frame_count} frames the file claims", self.model))
        except FerkitError as exc:
            rows.append(error_row(source, str(exc), self.model))
        return rows

    def _save_annotated(self, source: str, result: ImageResult) -> None:
        """`<stem>-<8 hex of the source path>.jpg`: unique whichever worker writes it; a file already there (an
        earlier run's copy of the same input) is never replaced."""
        assert self.annotate_dir is not None
        tag = hashlib.blake2b(source.encode(), digest_size=4).hexdigest()
        target = self.annotate_dir / f"{Path(source).stem}-{tag}.jpg"
        if not target.exists():
            result.save(target)
