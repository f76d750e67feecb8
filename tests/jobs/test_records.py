"""The RecordMaker of `ferkit predict`: each image file decoded once, its rows and annotated copy from one result."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.inference import images as images_module
from ferkit.jobs.inputs import Input
from ferkit.jobs.records import RecordMaker
from ferkit.jobs.table import ModelVersion


def test_each_image_is_decoded_once_and_sized_from_that_decoding(recognizer, face: np.ndarray, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "photo.png"
    image = np.full((120, 160, 3), 128, np.uint8)
    image[20:101, 40:118] = face
    cv2.imwrite(str(path), image)
    rec = recognizer.build()
    make_records = RecordMaker(rec, ModelVersion("tiny", "unknown", rec.classes), annotate_dir=tmp_path / "annotated")
    calls: list[str] = []
    real_decode = images_module.decode

    def counting_decode(data, name, *args, **kwargs):
        calls.append(name)
        return real_decode(data, name, *args, **kwargs)

    monkeypatch.setattr(images_module, "decode", counting_decode)
    rows = make_records([Input(str(path), "image")])
    assert calls == [str(path)]
    assert {(r["width"], r["height"]) for r in rows} == {(160, 120)} and rows[0]["status"] == "ok"
    [annotated] = (tmp_path / "annotated").iterdir()
    assert annotated.name.startswith("photo-") and cv2.imread(str(annotated)).shape == image.shape


def test_an_annotated_copy_keeps_a_png_lossless_and_its_rows_name_it(recognizer, face: np.ndarray, tmp_path: Path):
    image = np.full((120, 160, 3), 128, np.uint8)
    image[20:101, 40:118] = face
    for name in ("photo.png", "photo.jpg"):
        cv2.imwrite(str(tmp_path / name), image)
    rec = recognizer.build()
    make_records = RecordMaker(rec, ModelVersion("tiny", "unknown", rec.classes),
                               annotate_dir=tmp_path / "out" / "annotated")
    rows = make_records([Input(str(tmp_path / "photo.png"), "image"), Input(str(tmp_path / "photo.jpg"), "image")])
    named = {Path(r["source"]).suffix: r["annotated"] for r in rows}
    assert named[".png"].startswith("annotated/photo-") and named[".png"].endswith(".png")
    assert named[".jpg"].endswith(".jpg") and (tmp_path / "out" / named[".png"]).read_bytes()[:4] == b"\x89PNG"
