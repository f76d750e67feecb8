"""`ferkit predict`: each image's `ImageResult.to_dict()` as a JSON line or rows in a results table, inputs as
files/folders/globs, checked outputs and exit codes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.apps.cli import main
from ferkit.constants import EMOTIONS
from ferkit.inference import sample_image_path
from ferkit.inference.config import RecognizerConfig


@pytest.fixture
def model_args(tiny_onnx: Path, yunet_path: Path) -> list[str]:
    return ["--model", str(tiny_onnx), "--yunet-path", str(yunet_path), "--workers", "1", "--no-progress"]


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A folder with the sample photo, a faceless image and a non-image file that is not an image suffix."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(sample_image_path(), folder / "astronaut.jpg")
    cv2.imwrite(str(folder / "wall.png"), np.full((120, 160, 3), 200, np.uint8))
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    return folder


def _rows(text: str) -> dict[str, list[dict]]:
    """JSON lines (table rows, or the JSON lines of a run without --out) grouped by the input's file name."""
    grouped: dict[str, list[dict]] = {}
    for row in map(json.loads, text.splitlines()):
        grouped.setdefault(Path(row["source"]).name, []).append(row)
    return grouped


def test_sample_photo_one_face_in_the_table_and_an_annotated_copy(model_args: list[str], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture):
    out = tmp_path / "results"
    assert main(["predict", "--sample", "--out", str(out), "--annotate", "--format", "jsonl", *model_args]) == 0
    (part,) = (out / "predictions").glob("part-*.jsonl")
    (face,) = _rows(part.read_text())["astronaut.jpg"]
    assert face["status"] == "ok" and 175 < face["box_x"] + face["box_w"] / 2 < 270
    assert 55 < face["box_y"] + face["box_h"] / 2 < 180 and face["confidence"] == face[f"prob_{face['label']}"]
    assert face["label"] in EMOTIONS and sum(face[f"prob_{c}"] for c in EMOTIONS) == pytest.approx(1, abs=1e-3)
    assert face["model_version"] and len([k for k in face if k.startswith("landmark_")]) == 10
    (annotated,) = (out / "annotated").glob("astronaut-*.jpg")
    assert cv2.imread(str(annotated)).shape == (512, 512, 3)
    assert str(out / "predictions") in capsys.readouterr().err  # says where the table went


def test_folders_and_globs_as_one_json_line_per_image_its_to_dict(model_args: list[str], images: Path,
                                                                  tiny_onnx: Path, yunet_path: Path, tmp_path: Path):
    jsonl = tmp_path / "out.jsonl"
    assert main(["predict", str(images), str(images / "*.png"), "--jsonl", str(jsonl), *model_args]) == 0
    lines = _rows(jsonl.read_text())
    assert [len(line["faces"]) for line in lines["wall.png"]] == [0]  # named by the folder and the glob: one line
    (line,) = lines["astronaut.jpg"]
    expected = RecognizerConfig(model=str(tiny_onnx), yunet_path=yunet_path).build().analyze(line["source"])
    assert {**line, "timing_ms": None} == {**expected.to_dict(), "timing_ms": None}
    assert set(line["timing_ms"]) == {"decode", "detect", "classify"} and line["timing_ms"]["decode"] > 0


def test_unreadable_inputs_are_each_a_line_with_their_error_and_exit_2(model_args: list[str], images: Path,
                                                                       tmp_path: Path, capsys: pytest.CaptureFixture):
    (images / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    code = main(["predict", str(images / "astronaut.jpg"), str(images / "broken.jpg"), str(tmp_path / "gone.png"),
                 str(tmp_path / "*.gif"), *model_args])
    assert code == 2
    captured = capsys.readouterr()
    assert "3 input(s) failed" in captured.err
    for name in ("broken.jpg", "gone.png", "*.gif"):
        assert name in captured.err
    lines = _rows(captured.out)
    assert len(lines["astronaut.jpg"][0]["faces"]) == 1  # the readable input still got its result
    for name in ("broken.jpg", "gone.png", "*.gif"):
        (line,) = lines[name]
        assert set(line) == {"source", "error"} and line["error"]


def test_no_inputs_is_an_error(model_args: list[str], capsys: pytest.CaptureFixture):
    assert main(["predict", *model_args]) == 2
    assert "no inputs" in capsys.readouterr().err


def test_unknown_model_is_a_clear_error(capsys: pytest.CaptureFixture):
    assert main(["predict", "--sample", "--model", "nope", "--detector", "haar"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("where", ["the input folder", "inside it", "a file's folder"])
def test_a_results_folder_where_the_inputs_are_is_refused_and_nothing_is_touched(
        model_args: list[str], images: Path, capsys: pytest.CaptureFixture, where: str):
    before = _snapshot(images)
    source = str(images / "astronaut.jpg") if where == "a file's folder" else str(images)
    out = images / "results" if where == "inside it" else images
    assert main(["predict", source, "--out", str(out), *model_args]) == 2
    captured = capsys.readouterr()
    assert f"--out {out} is where the input" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""  # refused before the first image was analysed
    assert _snapshot(images) == before


def test_an_annotated_copy_never_replaces_a_file_already_there(model_args: list[str], images: Path, tmp_path: Path):
    out = tmp_path / "results"
    source = str(images / "wall.png")
    name = f"wall-{hashlib.blake2b(source.encode(), digest_size=4).hexdigest()}.jpg"
    (out / "annotated").mkdir(parents=True)
    (out / "annotated" / name).write_bytes(b"the user's own file")
    assert main(["predict", source, "--out", str(out), "--annotate", *model_args]) == 0
    assert (out / "annotated" / name).read_bytes() == b"the user's own file"


@pytest.mark.parametrize("option, target, message", [
    ("--out", "a_file.txt", "is a file; give a folder"),
    ("--jsonl", "a_folder", "is a folder; give a file name"),
    ("--jsonl", "a_file.txt/out.jsonl", "cannot write there"),
    ("--jsonl", "INPUT", "is one of the inputs"),
])
def test_bad_output_paths_are_refused_before_any_work(model_args: list[str], images: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture, option: str, target: str,
                                                      message: str):
    (tmp_path / "a_file.txt").write_text("keep me")
    (tmp_path / "a_folder").mkdir()
    path = images / "astronaut.jpg" if target == "INPUT" else tmp_path / target
    before = _snapshot(images)
    assert main(["predict", str(images), str(images / "astronaut.jpg"), option, str(path), *model_args]) == 2
    captured = capsys.readouterr()
    assert f"{option} {path}" in captured.err and message in captured.err
    assert captured.out == "" and "Traceback" not in captured.err
    assert (tmp_path / "a_file.txt").read_text() == "keep me" and _snapshot(images) == before


def test_a_decompression_bomb_is_named_and_the_run_goes_on(model_args: list[str], images: Path, png_header,
                                                           capsys: pytest.CaptureFixture):
    png_header(images / "aaa-bomb.png", 30_000, 30_000)  # sorted first: the files after it must still run
    assert main(["predict", str(images), *model_args]) == 2
    captured = capsys.readouterr()
    assert "1 input(s) failed" in captured.err and "aaa-bomb.png" in captured.err
    assert "limit is 50,000,000 pixels" in captured.err and "Traceback" not in captured.err
    lines = _rows(captured.out)
    assert len(lines["astronaut.jpg"][0]["faces"]) == 1 and lines["wall.png"][0]["faces"] == []


@pytest.mark.parametrize("option, value", [("--score-threshold", "-1"), ("--min-face", "-5"), ("--chunk", "0")])
def test_out_of_range_options_are_named(images: Path, capsys: pytest.CaptureFixture, option: str, value: str):
    assert main(["predict", str(images), option, value, "--detector", "haar"]) == 2
    assert f"({option}) must be in" in capsys.readouterr().err


def test_a_write_the_system_refuses_midway_is_one_line_not_a_traceback(model_args: list[str], images: Path,
                                                                       capsys: pytest.CaptureFixture):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    assert main(["predict", str(images), "--jsonl", "/dev/full", *model_args]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
