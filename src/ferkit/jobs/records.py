"""`RecordMaker`: inputs in, records out, with one Recognizer. Every engine runs this same code: the local
engine in each worker process, the Ray engine in each actor, so both give the same records.

A record is a table row (`table.face_rows`, `table.error_row`) for a results table, or, for JSON lines, each
image's (or video frame's) `ImageResult.to_dict()` and `{"source", "error"}` for an input that failed. Either way
a failure is the record whose `error` is set.

Images of a task are decoded one by one (a failure becomes that input's error record), their faces found one
image at a time and classified in one batch. A video is one task: its frames are analysed in order with a
tracker of its own, so track ids are per video. An annotated copy keeps a lossless input lossless (PNG) and is
named in its rows' `annotated` column, relative to the results folder.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ferkit.errors import FerkitError
from ferkit.inference.images import load_image
from ferkit.inference.pipeline import Recognizer
from ferkit.inference.result import ImageResult
from ferkit.inference.track import IoUTracker
from ferkit.inference.video import VideoSource
from ferkit.jobs.folder import ANNOTATED_DIR
from ferkit.jobs.inputs import Input
from ferkit.jobs.table import ModelVersion, error_row, face_rows

LOSSLESS_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")  # annotated as PNG: JPEG would blur what the input kept


class RecordMaker:
    """Turns inputs into records with `recognizer`: table rows tagged with `model` (`table=True`), or JSON lines'
    records; optionally saves an annotated copy of each image in `annotate_dir` (a results folder's
    `annotated/`)."""

    def __init__(self, recognizer: Recognizer, model: ModelVersion, annotate_dir: Path | None = None,
                 table: bool = True) -> None:
        self.recognizer = recognizer
        self.model = model
        self.annotate_dir = annotate_dir
        self.table = table

    def __call__(self, items: Sequence[Input]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        images = []
        for item in items:
            if item.kind == "missing":
                rows.append(self._failure(item, item.problem))
            elif item.kind == "video":
                rows.extend(self.video(item))
            else:
                images.append(item)
        rows.extend(self.images(images))
        return rows

    def images(self, items: Sequence[Input]) -> list[dict[str, Any]]:
        loaded, rows = [], []
        for item in items:
            start = time.perf_counter()
            try:
                loaded.append((item, load_image(item.source), (time.perf_counter() - start) * 1000.0))
            except (FerkitError, OSError) as exc:  # OSError: a file removed or replaced since it was listed
                rows.append(self._failure(item, _reason(item.source, exc)))
        if not loaded:
            return rows
        try:
            results = self.recognizer.analyze_batch([image for _, image, _ in loaded])
        except FerkitError as exc:  # rare: one image breaks detection; analyse them one by one to name it
            if len(loaded) == 1:
                return [*rows, self._failure(loaded[0][0], str(exc))]
            return rows + [row for item, _, _ in loaded for row in self.images([item])]
        for (item, _, decode_ms), result in zip(loaded, results, strict=True):
            result = replace(result.with_timings(decode=decode_ms), source=item.source)  # decoded here, not there
            annotated = self._save_annotated(item, result) if self.annotate_dir is not None else None
            rows.extend(self._records(item, result, annotated))
        return rows

    def video(self, item: Input) -> list[dict[str, Any]]:
        """Every frame of one video, tracked; an unreadable video or one that stops early says so in a row."""
        rows: list[dict[str, Any]] = []
        tracker = IoUTracker()
        try:
            with VideoSource(item.source) as video:
                for step in self.recognizer.stream(video, tracker):
                    rows.extend(self._records(item, replace(step.result, source=item.source)))
                if video.missing_frames:
                    rows.append(self._failure(item, f"decoding stopped after {video.frames_read} of the "
                                                    f"{video.frame_count} frames the file claims"))
        except (FerkitError, OSError) as exc:
            rows.append(self._failure(item, _reason(item.source, exc)))
        return rows

    def _records(self, item: Input, result: ImageResult, annotated: str | None = None) -> list[dict[str, Any]]:
        if self.table:
            return face_rows(result, self.model, item.path, annotated)
        return [result.to_dict()]

    def _failure(self, item: Input, reason: str) -> dict[str, Any]:
        if self.table:
            return error_row(item.source, reason, self.model, item.path)
        return {"source": item.source, "error": reason}

    def _save_annotated(self, item: Input, result: ImageResult) -> str:
        """`<stem>-<8 hex of the real path>.<png for a lossless input, else jpg>`, unique whichever worker writes
        it; a file already there (an earlier run's copy of the same input) is never replaced. Returns its path
        within the results folder."""
        assert self.annotate_dir is not None
        tag = hashlib.blake2b(item.path.encode(), digest_size=4).hexdigest()
        suffix = ".png" if Path(item.source).suffix.lower() in LOSSLESS_SUFFIXES else ".jpg"
        target = self.annotate_dir / f"{Path(item.source).stem}-{tag}{suffix}"
        if not target.exists():
            result.save(target)
        return f"{ANNOTATED_DIR}/{target.name}"


def _reason(source: str, exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{source}: cannot read it ({exc.strerror or exc})"
    return str(exc)
