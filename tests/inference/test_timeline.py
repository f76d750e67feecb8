from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ferkit.inference.result import ImageResult
from ferkit.inference.timeline import TimelineRow, TimelineWriter, plot_timeline, summarize
from ferkit.inference.types import Box, FacePrediction

CLASSES = ("happy", "sad")


def _face(track: int, happy: float) -> FacePrediction:
    return FacePrediction(Box(10 * track, 0, 20, 20), 0.9, {"happy": happy, "sad": 1 - happy}, track_id=track)


def _frame(index: int, *faces: FacePrediction) -> ImageResult:
    return ImageResult("clip.mp4", np.zeros((48, 64, 3), np.uint8), list(faces), frame=index, time_s=index / 10)


FRAMES = [_frame(0, _face(1, 0.9), _face(2, 0.2)), _frame(1, _face(1, 0.8)), _frame(2, _face(1, 0.3)),
          _frame(3, _face(1, 0.7)), _frame(4)]
ROWS = [row for frame in FRAMES for row in TimelineRow.of(frame)]


def test_a_frame_result_gives_one_row_per_face_and_a_still_image_none():
    faces = [ROWS[0].face, ROWS[1].face]
    result = ImageResult(None, np.zeros((8, 8, 3), np.uint8), faces, frame=7, time_s=0.7)
    assert [(r.frame, r.time_s, r.face) for r in TimelineRow.of(result)] == [(7, 0.7, f) for f in faces]
    with pytest.raises(ValueError, match="video frame"):
        TimelineRow.of(replace(result, frame=None, time_s=None))


def test_csv_has_the_rows_of_each_frame_one_per_face_with_all_probabilities(tmp_path: Path):
    with TimelineWriter(tmp_path / "t.csv", CLASSES) as writer:
        for frame in FRAMES:
            writer.write(frame)
    with writer.path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6  # five faces, and the frame without one
    assert rows[1] == {"source": "clip.mp4", "width": "64", "height": "48", "frame": "0", "time_s": "0.0",
                       "box_x": "20", "box_y": "0", "box_w": "20", "box_h": "20", "score": "0.9",
                       **{f"landmark_{i}_{axis}": "" for i in range(5) for axis in "xy"}, "label": "sad",
                       "confidence": "0.8", "prob_happy": "0.2", "prob_sad": "0.8", "track_id": "2"}
    assert (rows[5]["frame"], rows[5]["label"], rows[5]["prob_happy"]) == ("4", "", "")


def test_summary_gives_each_track_its_share_of_time_per_emotion():
    summary = summarize(ROWS, CLASSES)
    assert summary["frames_with_faces"] == 4
    one, two = summary["tracks"]
    assert one == {"track_id": 1, "frames": 4, "start_s": 0.0, "end_s": 0.3, "share": {"happy": 0.75, "sad": 0.25}}
    assert two["share"] == {"happy": 0.0, "sad": 1.0}


def test_plot_is_a_png(tmp_path: Path):
    path = plot_timeline(ROWS, CLASSES, tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeline_rows_are_on_disk_as_soon_as_a_frame_is_written(tmp_path: Path):
    path = tmp_path / "live.csv"
    with TimelineWriter(path, CLASSES) as writer:
        writer.write(FRAMES[0])
        with path.open() as f:  # read while the writer is still open, as after a crash
            assert len(list(csv.DictReader(f))) == 2
        for frame in FRAMES[1:]:
            writer.write(frame)
    assert writer.rows == len(ROWS) + 1
