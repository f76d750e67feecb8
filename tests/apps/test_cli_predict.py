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
