"""`ImageResult`: the one JSON shape of an image, its rows, its drawing and its annotated file; a path decoded once."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.errors import FerkitError
from ferkit.inference import Box, FacePrediction, ImageResult, IoUTracker, Recognizer, sample_image_path
from ferkit.inference import images as images_module
from ferkit.inference.detect import YuNetDetector
from ferkit.inference.result import IMAGE_COLUMNS, row_columns
from ferkit.inference.video import Frame


@pytest.fixture
def recognizer(yunet_path: Path, stub_classifier) -> Recognizer:
    return Recognizer(stub_classifier, YuNetDetector(yunet_path))


@pytest.fixture
def result(recognizer: Recognizer) -> ImageResult:
    return recognizer.analyze(sample_image_path())


def test_to_dict_is_the_image_with_its_faces_and_timings(result: ImageResult, sample_bgr: np.ndarray):
    d = result.to_dict()
    assert list(d) == ["source", "width", "height", "frame", "time_s", "faces", "timing_ms"]
    assert d["source"] == str(sample_image_path())
    assert (d["width"], d["height"]) == (sample_bgr.shape[1], sample_bgr.shape[0])
    assert d["frame"] is None and d["time_s"] is None
    assert len(d["faces"]) == 1 and d["faces"] == [face.to_dict() for face in result.faces]
    assert set(d["timing_ms"]) == {"decode", "detect", "classify"}
    assert all(ms > 0 for ms in d["timing_ms"].values())


def test_predict_returns_the_faces_of_analyze(recognizer: Recognizer, result: ImageResult):
    faces = recognizer.predict(sample_image_path())
    assert [face.to_dict() for face in faces] == result.to_dict()["faces"]


def test_a_path_is_decoded_once_and_sized_by_the_decoded_array(recognizer: Recognizer,
                                                               monkeypatch: pytest.MonkeyPatch):
    decoded: list[np.ndarray] = []
    real_decode = images_module.decode

    def counting_decode(*args, **kwargs):
        decoded.append(real_decode(*args, **kwargs))
        return decoded[-1]

    monkeypatch.setattr(images_module, "decode", counting_decode)
    result = recognizer.analyze(sample_image_path())
    assert len(decoded) == 1
    assert result.image is decoded[0] and (result.height, result.width) == decoded[0].shape[:2]


def test_an_array_has_no_source_and_keeps_the_same_image(recognizer: Recognizer, sample_bgr: np.ndarray):
    result = recognizer.analyze(sample_bgr)
    assert result.source is None and result.image is sample_bgr


def test_classification_time_of_a_batch_is_shared_by_faces(recognizer: Recognizer, sample_bgr: np.ndarray):
    two = np.hstack([sample_bgr, sample_bgr[:, ::-1]])
    one, none, both = recognizer.analyze_batch([sample_bgr, np.zeros((100, 100, 3), np.uint8), two])
    assert [len(r.faces) for r in (one, none, both)] == [1, 0, 2]
    assert none.timings["classify"] == 0.0
    assert both.timings["classify"] == pytest.approx(2 * one.timings["classify"])


def test_stream_results_are_frames_with_their_index_and_time(recognizer: Recognizer, sample_bgr: np.ndarray):
    frames = [Frame(i, i / 10, sample_bgr) for i in range(3)]
    steps = list(recognizer.stream(frames, IoUTracker(), every=2))
    assert [(s.result.frame, s.result.time_s) for s in steps] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    assert [f["track_id"] for s in steps for f in s.result.to_dict()["faces"]] == [1, 1, 1]
    assert steps[1].result.timings == {} and steps[1].result.image is sample_bgr  # skipped: last faces, new frame


def test_with_timings_adds_stages_and_shares(result: ImageResult):
    timed = result.with_timings(queue=5.0, decode=1.0)
    assert timed.timings["queue"] == 5.0
    assert timed.timings["decode"] == pytest.approx(result.timings["decode"] + 1.0)
    assert timed.faces == result.faces and "queue" not in result.timings


def test_plot_draws_the_boxes_on_a_copy(result: ImageResult, sample_bgr: np.ndarray):
    drawn = result.plot()
    assert np.array_equal(result.image, sample_bgr)  # the analysed image itself is untouched
    x, y, _, h = result.faces[0].box.to_list()
    edge = np.s_[y:y + h, x:x + 2]  # the box's left edge
    assert not np.array_equal(drawn[edge], sample_bgr[edge])
    assert np.array_equal(drawn[-20:, :20], sample_bgr[-20:, :20])  # far from the face nothing changes


def test_plot_of_no_faces_is_the_image(sample_bgr: np.ndarray):
    assert np.array_equal(ImageResult(None, sample_bgr, []).plot(), sample_bgr)


def test_save_writes_the_annotated_image(result: ImageResult, tmp_path: Path):
    path = result.save(tmp_path / "out" / "annotated.png")
    assert np.array_equal(cv2.imread(str(path)), result.plot())
    assert os.listdir(path.parent) == ["annotated.png"]  # no temporary file left beside it


def test_save_is_atomic_an_interrupted_write_keeps_the_old_file(result: ImageResult, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "annotated.jpg"
    path.write_bytes(b"the earlier copy")

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        result.save(path)
    assert path.read_bytes() == b"the earlier copy" and os.listdir(tmp_path) == ["annotated.jpg"]


def test_save_refuses_a_suffix_that_is_no_image_format(result: ImageResult, tmp_path: Path):
    with pytest.raises(FerkitError, match=r"annotated\.txt"):
        result.save(tmp_path / "annotated.txt")
    assert not list(tmp_path.iterdir())


def test_results_compare_by_content_not_by_image(sample_bgr: np.ndarray, result: ImageResult):
    face: FacePrediction = result.faces[0]
    assert ImageResult("a", sample_bgr, [face]) == ImageResult("a", sample_bgr.copy(), [face])
    assert "image" not in repr(ImageResult("a", sample_bgr, []))


def test_rows_are_to_dict_flat_one_per_face_and_one_for_an_image_without(sample_bgr: np.ndarray):
    faces = [FacePrediction(Box(x, 5.5, 40, 40), 0.95, {"happy": 0.6, "sad": 0.4}, track_id=i)
             for i, x in enumerate((10.4, 80.6))]
    frame = ImageResult("clip.mp4", sample_bgr, faces, frame=7, time_s=7 / 30)
    d = frame.to_dict()
    rows = frame.rows(("sad", "happy"))
    assert [list(row) for row in rows] == [list(row_columns(("sad", "happy")))] * 2
    for row, face in zip(rows, faces, strict=True):
        assert {k: row[k] for k in IMAGE_COLUMNS} == {k: d[k] for k in IMAGE_COLUMNS}
        assert row == {**{k: d[k] for k in IMAGE_COLUMNS}, **face.to_row(("sad", "happy"))}
    assert rows[0]["time_s"] == d["time_s"] == 0.2333 and [r["box_x"] for r in rows] == [10, 81]
    assert [k for k in frame.rows()[0] if k.startswith("prob_")] == ["prob_happy", "prob_sad"]  # the faces' order
    (empty,) = ImageResult("wall.png", sample_bgr, []).rows(("happy", "sad"))
    assert list(empty) == list(row_columns(("happy", "sad"))) and empty["width"] == sample_bgr.shape[1]
    assert {empty[k] for k in row_columns(("happy", "sad")) if k not in IMAGE_COLUMNS} == {None}
