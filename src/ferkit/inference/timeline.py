"""Emotions over time for a video: `ImageResult.rows()` of each analysed frame written as CSV (one row per face,
or one for a frame without a face; the columns and rounding of `ferkit predict`'s table), summarised per track
(share of time in each emotion) and plotted as one panel per tracked face."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ferkit.inference.result import ImageResult, row_columns
from ferkit.inference.types import FacePrediction


@dataclass(frozen=True)
class TimelineRow:
    frame: int
    time_s: float
    face: FacePrediction

    @classmethod
    def of(cls, result: ImageResult) -> list[TimelineRow]:
        """The rows of one analysed video frame: one per face.

        Raises:
            ValueError: `result` is a still image (it has no frame index or time).
        """
        if result.frame is None or result.time_s is None:
            raise ValueError("a timeline row needs a video frame; this result is a still image")
        return [cls(result.frame, result.time_s, face) for face in result.faces]


class TimelineWriter:
    """The timeline as CSV, written as the video is analysed and flushed after every frame, so that an
    interrupted or crashed run keeps every frame analysed before it stopped.

    Columns: `row_columns(classes)` (source, width, height, frame, time_s, box_x..box_h, score, landmarks,
    label, confidence, one `prob_<class>` per class, track_id); a frame without a face is one row whose face
    columns are empty.
    """

    def __init__(self, path: str | Path, classes: Sequence[str]) -> None:
        self.path = Path(path)
        self.classes = tuple(classes)
        self.rows = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", newline="")
        self._writer = csv.DictWriter(self._file, row_columns(self.classes))
        self._writer.writeheader()
        self._file.flush()

    def write(self, result: ImageResult) -> None:
        """Append the rows of one analysed frame and flush them to disk."""
        rows = result.rows(self.classes)
        self._writer.writerows(rows)
        self.rows += len(rows)
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> TimelineWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _by_track(rows: Sequence[TimelineRow]) -> list[tuple[int | None, list[TimelineRow]]]:
    """Rows grouped by track id, tracks in id order (untracked faces, id None, last)."""
    groups: dict[int | None, list[TimelineRow]] = defaultdict(list)
    for row in rows:
        groups[row.face.track_id].append(row)
    return sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))


def summarize(rows: Sequence[TimelineRow], classes: Sequence[str]) -> dict[str, Any]:
    """Per track: frames seen, first and last time, and the share of its frames spent in each emotion."""
    tracks = []
    for track_id, track_rows in _by_track(rows):
        labels = [r.face.label for r in track_rows]
        tracks.append({
            "track_id": track_id,
            "frames": len(track_rows),
            "start_s": round(track_rows[0].time_s, 3),
            "end_s": round(track_rows[-1].time_s, 3),
            "share": {c: round(labels.count(c) / len(labels), 4) for c in classes},
        })
    return {"frames_with_faces": len({r.frame for r in rows}), "tracks": tracks}


def plot_timeline(rows: Sequence[TimelineRow], classes: Sequence[str], path: str | Path) -> Path:
    """A PNG with one panel per track: each class's probability against time."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = _by_track(rows)
    n = max(1, len(groups))
    fig = Figure(figsize=(9, 2.2 * n), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for ax, (track_id, track_rows) in zip(axes, groups, strict=False):
        times = [r.time_s for r in track_rows]
        for c in classes:
            ax.plot(times, [r.face.probabilities[c] for r in track_rows], label=c, linewidth=1.2)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"face #{track_id}" if track_id is not None else "faces")
    axes[0].legend(ncols=len(classes), loc="lower left", bbox_to_anchor=(0, 1.02), fontsize="small", frameon=False)
    axes[-1].set_xlabel("time (s)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
