"""`ferkit predict`: JSON lines, annotated images, inputs as files/folders/globs, and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.apps.cli import main
from ferkit.constants import EMOTIONS
from ferkit.inference import sample_image_path


@pytest.fixture
def model_args(tiny_onnx: Path, yunet_path: Path) -> list[str]:
    return ["--model", str(tiny_onnx), "--yunet-path", str(yunet_path)]


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A folder with the sample photo, a faceless image and a non-image file that is not an image suffix."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(sample_image_path(), folder / "astronaut.jpg")
    cv2.imwrite(str(folder / "wall.png"), np.full((120, 160, 3), 200, np.uint8))
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    return folder


def _records(text: str) -> dict[str, dict]:
    return {Path(r["input"]).name: r for r in map(json.loads, text.splitlines())}


def test_sample_photo_one_face_json_and_annotated_copy(model_args: list[str], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture):
    out = tmp_path / "annotated"
    assert main(["predict", "--sample", "--out", str(out), *model_args]) == 0
    captured = capsys.readouterr()
    (face,) = _records(captured.out)["astronaut.jpg"]["faces"]
    x, y, w, h = face["box"]
    assert 175 < x + w / 2 < 270 and 55 < y + h / 2 < 180
    assert set(face["probabilities"]) == set(EMOTIONS) and face["label"] in EMOTIONS
    assert cv2.imread(str(out / "astronaut.jpg")).shape == (512, 512, 3)
    assert str(out.resolve()) in captured.err  # says where the annotated images went


def test_folders_and_globs_with_jsonl_file(model_args: list[str], images: Path, tmp_path: Path):
    jsonl = tmp_path / "out.jsonl"
    assert main(["predict", str(images), str(images / "*.png"), "--jsonl", str(jsonl), *model_args]) == 0
    lines = jsonl.read_text().splitlines()
    assert len(lines) == 3  # folder: astronaut.jpg + wall.png; glob: wall.png again
    records = _records(jsonl.read_text())
    assert len(records["astronaut.jpg"]["faces"]) == 1 and records["wall.png"]["faces"] == []


def test_unreadable_inputs_are_each_named_and_exit_2(model_args: list[str], images: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture):
    (images / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    code = main(["predict", str(images / "astronaut.jpg"), str(images / "broken.jpg"), str(tmp_path / "gone.png"),
                 str(tmp_path / "*.gif"), *model_args])
    assert code == 2
    captured = capsys.readouterr()
    assert "3 input(s) could not be read" in captured.err
    for name in ("broken.jpg", "gone.png", "*.gif"):
        assert name in captured.err
    assert list(_records(captured.out)) == ["astronaut.jpg"]  # the readable input still got its result


def test_no_inputs_is_an_error(model_args: list[str], capsys: pytest.CaptureFixture):
    assert main(["predict", *model_args]) == 2
    assert "no inputs" in capsys.readouterr().err


def test_same_file_names_from_two_folders_do_not_overwrite(model_args: list[str], images: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(images / "wall.png", other / "wall.png")
    out = tmp_path / "annotated"
    assert main(["predict", str(images / "wall.png"), str(other / "wall.png"), "--out", str(out), *model_args]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["wall-2.jpg", "wall.jpg"]


def test_unknown_model_is_a_clear_error(capsys: pytest.CaptureFixture):
    assert main(["predict", "--sample", "--model", "nope", "--detector", "haar"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_out_folder_holding_the_inputs_is_refused_and_nothing_is_touched(model_args: list[str], images: Path,
                                                                         capsys: pytest.CaptureFixture):
    before = _snapshot(images)
    assert main(["predict", str(images), "--out", str(images), *model_args]) == 2
    captured = capsys.readouterr()
    assert f"--out {images} holds the input" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""  # refused before the first image was analysed
    assert _snapshot(images) == before


def test_annotated_copies_never_replace_a_file_already_in_the_out_folder(model_args: list[str], images: Path,
                                                                         tmp_path: Path):
    out = tmp_path / "annotated"
    out.mkdir()
    (out / "wall.jpg").write_bytes(b"the user's own file")
    assert main(["predict", str(images / "wall.png"), "--out", str(out), *model_args]) == 0
    assert (out / "wall.jpg").read_bytes() == b"the user's own file"
    assert cv2.imread(str(out / "wall-2.jpg")) is not None


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
    assert main(["predict", str(images), option, str(path), *model_args]) == 2
    captured = capsys.readouterr()
    assert f"{option} {path}" in captured.err and message in captured.err
    assert captured.out == "" and "Traceback" not in captured.err
    assert (tmp_path / "a_file.txt").read_text() == "keep me" and _snapshot(images) == before


def test_a_decompression_bomb_is_named_and_the_run_goes_on(model_args: list[str], images: Path, png_header,
                                                           capsys: pytest.CaptureFixture):
    png_header(images / "aaa-bomb.png", 30_000, 30_000)  # sorted first: the files after it must still run
    assert main(["predict", str(images), *model_args]) == 2
    captured = capsys.readouterr()
    assert "1 input(s) could not be read" in captured.err and "aaa-bomb.png" in captured.err
    assert "limit is 50,000,000 pixels" in captured.err and "Traceback" not in captured.err
    assert sorted(_records(captured.out)) == ["astronaut.jpg", "wall.png"]


@pytest.mark.parametrize("option, value", [("--score-threshold", "-1"), ("--min-face", "-5")])
def test_out_of_range_recognizer_options_are_named(images: Path, capsys: pytest.CaptureFixture, option: str,
                                                   value: str):
    assert main(["predict", str(images), option, value, "--detector", "haar"]) == 2
    assert f"({option}) must be in" in capsys.readouterr().err


def test_a_write_the_system_refuses_midway_is_one_line_not_a_traceback(model_args: list[str], images: Path,
                                                                       capsys: pytest.CaptureFixture):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    assert main(["predict", str(images), "--jsonl", "/dev/full", *model_args]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
