"""`ferkit video` and `ferkit webcam` (replaying a file as if live) on a generated video of moving faces."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.apps.cli import main
from ferkit.constants import EMOTIONS
from ferkit.inference import sample_image_path
from ferkit.inference.result import row_columns

FRAMES = 12


@pytest.fixture(scope="module")
def two_faces_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 frames, 480x320 at 10 frames/s: the sample face moving right, its mirror image moving down-left."""
    face = cv2.resize(cv2.imread(str(sample_image_path()))[40:200, 145:300], (104, 108))
    path = tmp_path_factory.mktemp("video") / "faces.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (480, 320))
    for i in range(FRAMES):
        frame = np.full((320, 480, 3), 110, np.uint8)
        frame[40:148, 20 + 8 * i:124 + 8 * i] = face
        frame[150 + 5 * i:258 + 5 * i, 360 - 6 * i:464 - 6 * i] = face[:, ::-1]
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def model_args(tiny_onnx: Path, yunet_path: Path) -> list[str]:
    return ["--model", str(tiny_onnx), "--detector", "yunet", "--yunet-path", str(yunet_path)]


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    return count


def test_video_round_trip_keeps_every_frame_and_each_face_its_id(two_faces_video: Path, model_args: list[str],
                                                                 tmp_path: Path, capsys: pytest.CaptureFixture):
    out, timeline, plot = tmp_path / "annotated.mp4", tmp_path / "timeline.csv", tmp_path / "plot.png"
    code = main(["video", str(two_faces_video), "--out", str(out), "--csv", str(timeline), "--plot", str(plot),
                 "--smoothing", "0.5", *model_args])
    assert code == 0
    assert _frame_count(out) == FRAMES
    with timeline.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * FRAMES
    assert list(rows[0]) == list(row_columns(EMOTIONS))  # the rows of predict's table
    assert {row["source"] for row in rows} == {str(two_faces_video)}
    tracks = {}
    for row in rows:  # each track's boxes move one way only: the ids never swapped
        tracks.setdefault(row["track_id"], []).append(int(row["box_x"]))
    assert sorted(tracks) == ["1", "2"]
    xs = sorted(tracks.values(), key=lambda v: v[0])
    assert xs[0] == sorted(xs[0]) and xs[1] == sorted(xs[1], reverse=True)
    assert plot.read_bytes()[:4] == b"\x89PNG"
    summary = json.loads(capsys.readouterr().out)
    assert [t["frames"] for t in summary["tracks"]] == [FRAMES, FRAMES]
    assert all(sum(t["share"].values()) == pytest.approx(1) for t in summary["tracks"])


def test_every_nth_frame_is_analysed(two_faces_video: Path, model_args: list[str], tmp_path: Path):
    timeline = tmp_path / "t.csv"
    assert main(["video", str(two_faces_video), "--every", "3", "--csv", str(timeline),
                 "--summary", str(tmp_path / "s.json"), "--no-progress", *model_args]) == 0
    with timeline.open() as f:
        frames = sorted({int(r["frame"]) for r in csv.DictReader(f)})
    assert frames == [0, 3, 6, 9]


def test_unreadable_video_exits_2_naming_it(tmp_path: Path, model_args: list[str], capsys: pytest.CaptureFixture):
    bad = tmp_path / "holiday.mp4"
    bad.write_text("not a video")
    assert main(["video", str(bad), *model_args]) == 2
    assert "holiday.mp4" in capsys.readouterr().err
    assert main(["video", str(tmp_path / "missing.mp4"), *model_args]) == 2


def test_webcam_headless_prints_a_json_line_per_frame(two_faces_video: Path, model_args: list[str],
                                                      capsys: pytest.CaptureFixture):
    assert main(["webcam", "--device", str(two_faces_video), "--headless", "--max-frames", "5", *model_args]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["frame"] for r in lines] == [0, 1, 2, 3, 4]
    assert list(lines[0]) == ["source", "width", "height", "frame", "time_s", "faces", "timing_ms", "fps"]
    assert (lines[0]["width"], lines[0]["height"]) == (480, 320)
    assert all(len(r["faces"]) == 2 for r in lines)
    assert {f["track_id"] for r in lines for f in r["faces"]} == {1, 2}


def test_webcam_without_a_display_falls_back_to_json(two_faces_video: Path, model_args: list[str],
                                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["webcam", "--device", str(two_faces_video), "--max-frames", "2", *model_args]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_ctrl_c_keeps_the_timeline_plot_and_summary_of_the_frames_analysed(
        two_faces_video: Path, model_args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture):
    from ferkit.inference.video import VideoSource

    frames = VideoSource.__iter__

    def interrupted_after_5(self):
        for frame in frames(self):
            if frame.index == 5:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(VideoSource, "__iter__", interrupted_after_5)
    timeline, plot, summary = tmp_path / "t.csv", tmp_path / "p.png", tmp_path / "s.json"
    code = main(["video", str(two_faces_video), "--csv", str(timeline), "--plot", str(plot), "--summary",
                 str(summary), "--no-progress", *model_args])
    assert code == 130
    assert sorted({int(r["frame"]) for r in _rows(timeline)}) == [0, 1, 2, 3, 4]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(summary.read_text())["frames_processed"] == 5
    assert "interrupted after 5 frame(s)" in capsys.readouterr().err


@pytest.mark.parametrize("option, target, message", [
    ("--csv", "a_file.txt/timeline.csv", "cannot write there"),
    ("--plot", "a_folder", "is a folder"),
    ("--summary", "INPUT", "is one of the inputs"),
])
def test_bad_output_paths_are_refused_before_the_first_frame(
        two_faces_video: Path, model_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture,
        option: str, target: str, message: str):
    (tmp_path / "a_file.txt").write_text("keep me")
    (tmp_path / "a_folder").mkdir()
    video = tmp_path / "input.mp4"
    video.write_bytes(two_faces_video.read_bytes())
    path = video if target == "INPUT" else tmp_path / target
    out = tmp_path / "annotated.mp4"
    assert main(["video", str(video), option, str(path), "--out", str(out), *model_args]) == 2
    err = capsys.readouterr().err
    assert f"{option} {path}" in err and message in err and "Traceback" not in err
    assert not out.exists()  # refused before any frame was read or written
    assert video.read_bytes() == two_faces_video.read_bytes()


def test_a_video_that_stops_decoding_early_exits_3_with_what_was_read(tmp_path: Path, model_args: list[str],
                                                                        capsys: pytest.CaptureFixture):
    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    face = cv2.resize(cv2.imread(str(sample_image_path()))[40:200, 145:300], (78, 81))
    for _ in range(40):
        frame = np.full((120, 160, 3), 110, np.uint8)
        frame[20:101, 40:118] = face
        writer.write(frame)
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 6 // 10])  # the header still claims 40 frames
    timeline = tmp_path / "t.csv"
    assert main(["video", str(cut), "--csv", str(timeline), "--no-progress", *model_args]) == 3
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["frames_claimed"] == 40 and 0 < summary["frames_processed"] < 40
    assert f"decoding stopped after {summary['frames_processed']} of the 40 frames" in captured.err
    assert len({r["frame"] for r in _rows(timeline)}) == summary["frames_processed"]


@pytest.mark.parametrize("option, value", [("--every", "0"), ("--smoothing", "1"), ("--iou-threshold", "2"),
                                           ("--max-missed", "-1")])
def test_out_of_range_video_options_are_named(two_faces_video: Path, capsys: pytest.CaptureFixture, option: str,
                                              value: str):
    assert main(["video", str(two_faces_video), option, value, "--detector", "haar"]) == 2
    err = capsys.readouterr().err
    assert f"({option}) must be in" in err and "Traceback" not in err
