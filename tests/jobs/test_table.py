"""The results table: rows for faces, empty and failed inputs; parts written whole; the record of done inputs."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from ferkit.inference import Box, FacePrediction, ImageResult
from ferkit.inference.result import row_columns
from ferkit.jobs.run import _progress_bar
from ferkit.jobs.table import (
    JOB_COLUMNS,
    DoneInputs,
    ModelVersion,
    PartWriter,
    columns,
    drop_inputs,
    error_row,
    face_rows,
    parts,
    table_model,
    upgrade_parts,
)

from .conftest import old_columns, old_rows, write_old_part

MODEL = ModelVersion("stub", "0123456789ab", ("happy", "sad"))
IMAGE = np.zeros((48, 64, 3), np.uint8)


def _face(happy: float) -> FacePrediction:
    return FacePrediction(Box(1, 2, 30, 40), 0.9, {"happy": happy, "sad": 1 - happy},
                          np.arange(10, dtype=np.float32).reshape(5, 2), track_id=3)


def test_rows_have_every_column_for_faces_no_face_and_errors():
    faces = face_rows(ImageResult("a.jpg", IMAGE, [_face(0.8), _face(0.1)]), MODEL)
    empty = face_rows(ImageResult("b.jpg", IMAGE, []), MODEL)
    failed = error_row("c.jpg", "c.jpg: not a readable image", MODEL)
    for row in [*faces, *empty, failed]:
        assert list(row) == columns(MODEL.classes) == [*row_columns(MODEL.classes), *JOB_COLUMNS]
    rows = ImageResult("a.jpg", IMAGE, [_face(0.8), _face(0.1)]).rows(MODEL.classes)
    assert [{k: row[k] for k in row_columns(MODEL.classes)} for row in faces] == rows  # the table only adds
    assert [r["label"] for r in faces] == ["happy", "sad"] and faces[0]["landmark_4_y"] == 9.0
    assert (empty[0]["status"], empty[0]["label"], empty[0]["width"]) == ("no_face", None, 64)
    assert (failed["status"], failed["error"], failed["model_version"]) == ("error", "c.jpg: not a readable image",
                                                                            "0123456789ab")


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_written_parts_are_the_record_of_done_inputs(tmp_path: Path, fmt: str):
    writer = PartWriter(tmp_path, fmt, MODEL.classes)
    writer.write(face_rows(ImageResult("a.jpg", IMAGE, [_face(0.8)]), MODEL)
                 + face_rows(ImageResult("b.jpg", IMAGE, []), MODEL))
    writer.write([error_row("c.jpg", "broken", MODEL)])
    (tmp_path / f".part-x-000000.{fmt}.tmp").write_text("a part a killed run left half-written")
    done = DoneInputs.scan(tmp_path, fmt)
    assert len(done) == 2 and all(os.path.realpath(name) in done for name in ("a.jpg", "b.jpg"))
    assert os.path.realpath("d.jpg") not in done and writer.rows_written == 3
    assert os.path.realpath("c.jpg") not in done and len(done.failed) == 1  # failed: not done, retried


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_rows_of_failed_inputs_are_dropped_so_a_rerun_replaces_them(tmp_path: Path, fmt: str):
    writer = PartWriter(tmp_path, fmt, MODEL.classes)
    writer.write([*face_rows(ImageResult("a.jpg", IMAGE, [_face(0.8)]), MODEL),
                  error_row("c.jpg", "broken", MODEL)])
    writer.write([error_row("d.jpg", "broken", MODEL)])
    done = DoneInputs.scan(tmp_path, fmt)
    assert drop_inputs(parts(tmp_path, fmt), fmt, done.failed.tolist()) == 2
    assert len(parts(tmp_path, fmt)) == 1  # the part holding only d.jpg's row is gone
    again = DoneInputs.scan(tmp_path, fmt)
    assert len(again) == 1 and os.path.realpath("a.jpg") in again and not len(again.failed)


def test_a_second_writer_never_overwrites_the_first_ones_parts(tmp_path: Path):
    first, second = PartWriter(tmp_path, "parquet", MODEL.classes), PartWriter(tmp_path, "parquet", MODEL.classes)
    paths = {first.write([error_row("a", "x", MODEL)]), second.write([error_row("b", "y", MODEL)])}
    assert len(paths) == 2 and all(p.is_file() for p in paths)


def test_the_progress_bar_is_silent_unless_stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch):
    for tty in (False, True):
        stream = io.StringIO()
        stream.isatty = lambda tty=tty: tty  # type: ignore[method-assign]
        monkeypatch.setattr(sys, "stderr", stream)
        bar = _progress_bar([], enabled=True)
        bar.update(5)
        bar.close()
        assert ("input/s" in stream.getvalue() or "5input" in stream.getvalue()) == tty


def test_a_results_folder_keeps_one_format(tmp_path: Path, tiny_onnx: Path):
    from ferkit.errors import ConfigError
    from ferkit.inference.config import RecognizerConfig
    from ferkit.jobs import BatchConfig, run

    PartWriter(tmp_path / "out" / "predictions", "parquet", MODEL.classes).write([error_row("a", "x", MODEL)])
    with pytest.raises(ConfigError, match=r"holds parquet parts: resume with --format parquet"):
        run([], RecognizerConfig(model=str(tiny_onnx), detector="haar"), tmp_path / "out", BatchConfig(format="csv"),
            progress=False)


def _contents(part: Path, fmt: str) -> list[dict]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(part).to_pylist()
    with part.open(newline="") as f:
        return list(csv.DictReader(f)) if fmt == "csv" else [json.loads(line) for line in f]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_a_part_of_the_old_shape_is_rewritten_as_today_writes_the_same_results(tmp_path: Path, fmt: str):
    odd = FacePrediction(Box(1.4, 2.6, 30.2, 39.5), 0.91234567, {"happy": 0.712345, "sad": 0.287655},
                         np.arange(10, dtype=np.float32).reshape(5, 2) / 3, track_id=3)
    results = [ImageResult("a.jpg", IMAGE, [odd, _face(0.1)]), ImageResult("b.jpg", IMAGE, []),
               ImageResult("v.mp4", IMAGE, [odd], frame=2, time_s=2 / 30)]
    failed = {**dict.fromkeys(old_columns(MODEL.classes)), "input": "c.jpg", "path": os.path.realpath("c.jpg"),
              "status": "error", "error": "broken", "model": MODEL.name, "model_version": MODEL.version}
    old = write_old_part(tmp_path / "old", fmt, [*(row for r in results for row in old_rows(str(r.source), r, MODEL)),
                                                 failed], MODEL.classes)
    assert table_model(tmp_path / "old", fmt) == MODEL  # read in the old shape, as a run checks it
    new = PartWriter(tmp_path / "new", fmt, MODEL.classes).write(
        [*(row for r in results for row in face_rows(r, MODEL)), error_row("c.jpg", "broken", MODEL)])
    assert upgrade_parts(tmp_path / "old", fmt, MODEL.classes) == 1
    assert upgrade_parts(tmp_path / "old", fmt, MODEL.classes) == 0  # once only: the part has today's columns
    assert _contents(old, fmt) == _contents(new, fmt)
    done = DoneInputs.scan(tmp_path / "old", fmt)
    assert len(done) == 3 and os.path.realpath("v.mp4") in done and len(done.failed) == 1
