from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferkit.errors import FerkitError, ImageReadError
from ferkit.inference.video import FpsMeter, VideoSink, VideoSource


def _numbered_frames(n: int) -> list[np.ndarray]:
    """Frames whose brightness encodes their index (survives lossy encoding)."""
    return [np.full((48, 64, 3), 20 + 20 * i, np.uint8) for i in range(n)]


def test_sink_then_source_round_trip(tmp_path: Path):
    path = tmp_path / "clip.mp4"
    with VideoSink(path, fps=10) as sink:
        for frame in _numbered_frames(8):
            sink.write(frame)
    with VideoSource(path) as source:
        assert source.frame_count == 8 and source.fps == pytest.approx(10)
        frames = list(source)
    assert [f.index for f in frames] == list(range(8))
    assert [f.time_s for f in frames] == pytest.approx([i / 10 for i in range(8)])
    assert [round((float(f.image.mean()) - 20) / 20) for f in frames] == list(range(8))


def test_missing_and_unreadable_videos_are_clear_errors(tmp_path: Path):
    with pytest.raises(ImageReadError, match="no such video file"):
        VideoSource(tmp_path / "missing.mp4")
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(ImageReadError, match=r"notes\.mp4"):
        list(VideoSource(bad))


def test_a_sink_that_cannot_write_says_where(tmp_path: Path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(FerkitError, match="taken"):
        VideoSink(tmp_path / "taken" / "out.mp4", fps=10).write(np.zeros((8, 8, 3), np.uint8))


@pytest.mark.parametrize("name", ["annotated", "annotated.webm", "annotated.jpg"])
def test_a_video_name_without_a_video_suffix_is_refused_naming_those_that_work(tmp_path: Path, name: str):
    with pytest.raises(FerkitError, match=r"must end in one of \.mp4, \.m4v, \.mov, \.avi, \.mkv"):
        VideoSink(tmp_path / name, fps=10)
    assert list(tmp_path.iterdir()) == []


def test_fps_meter_measures_the_rate_of_its_last_window_of_frames(monkeypatch: pytest.MonkeyPatch):
    clock = iter([0.0, 0.1, 0.2, 0.3, 0.8, 1.3])  # 10 frames/s, then 2 frames/s
    monkeypatch.setattr("ferkit.inference.video.time.perf_counter", lambda: next(clock))
    meter = FpsMeter(window=2)
    assert meter.tick() == 0.0
    assert [meter.tick() for _ in range(3)] == pytest.approx([10.0, 10.0, 10.0])
    assert meter.tick() == pytest.approx(2 / 0.6)  # the window now spans 0.2 s to 0.8 s
    assert meter.tick() == pytest.approx(2.0)  # only the slow frames are left in it
