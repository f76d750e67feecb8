"""`ferkit export`: ONNX with parity report, and int8 with its accuracy change on an evaluation split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ferkit.apps.cli import main
from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays
from ferkit.inference.classify import OnnxClassifier

torch = pytest.importorskip("torch")


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    from ferkit.models import create_model
    from ferkit.models.checkpoint import save_model
    from ferkit.models.meta import ModelMeta

    torch.manual_seed(0)
    model = create_model("test_tiny")
    return save_model(tmp_path / "run" / "model.pt", model, ModelMeta("test_tiny", model.model_args, EMOTIONS))


def test_export_writes_onnx_and_metadata_and_reports_parity(model_file: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture):
    out = tmp_path / "m.onnx"
    assert main(["export", str(model_file.parent), "--onnx", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["onnx"] == str(out) and Path(report["metadata"]) == tmp_path / "m.json"
    assert 0 <= report["max_abs_diff"] < 1e-4
    assert OnnxClassifier(out).classes == EMOTIONS


def test_int8_export_reports_accuracy_change_on_the_eval_split(model_file: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture):
    rng = np.random.default_rng(0)
    faces = FaceArrays(rng.integers(0, 256, (70, 48, 48), dtype=np.uint8), np.arange(70) % 7, EMOTIONS)
    data = faces.save(tmp_path / "faces.npz")  # an unsplit set: train/val are held out from it
    out = tmp_path / "m.onnx"
    assert main(["export", str(model_file), "--onnx", str(out), "--int8", "--calibration-data", str(data),
                 "--calibration-faces", "16", "--eval-data", str(data), "--eval-split", "val"]) == 0
    report = json.loads(capsys.readouterr().out)["int8"]
    assert report["onnx"] == str(tmp_path / "m.int8.onnx") and report["calibration_faces"] == 16
    val = report["val"]
    assert val["faces"] > 0 and val["accuracy_change"] == pytest.approx(val["accuracy_int8"] - val["accuracy_fp32"],
                                                                         abs=1e-4)


def test_missing_checkpoint_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["export", str(tmp_path / "nope.pt"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "nope.pt" in capsys.readouterr().err


@pytest.mark.parametrize("onnx_name, extra", [("model.pt", []), ("model.onnx", ["--flip-tta"])],
                         ids=["onnx onto the model file", "the ensemble's model file onto the input"])
def test_an_export_that_would_overwrite_its_input_is_refused(model_file: Path, capsys: pytest.CaptureFixture,
                                                             onnx_name: str, extra: list[str]):
    before = model_file.read_bytes()
    assert main(["export", str(model_file.parent), "--onnx", str(model_file.parent / onnx_name), *extra]) == 2
    assert "is one of the inputs" in capsys.readouterr().err
    assert model_file.read_bytes() == before


def test_export_for_a_smaller_input_keeps_the_weights_and_drops_the_old_sizes_metrics(model_file: Path,
                                                                                        tmp_path: Path):
    from ferkit.models.checkpoint import load_model

    out = tmp_path / "m40.onnx"
    assert main(["export", str(model_file), "--onnx", str(out), "--input-size", "40"]) == 0
    classifier = OnnxClassifier(out)
    assert classifier.preprocess.input_size == 40 and classifier.meta.model_args["input_size"] == 40
    assert classifier.meta.metrics == {}  # measured at 48 px, they would not describe this file
    model, _ = load_model(model_file)
    faces = np.random.default_rng(0).integers(0, 256, (3, 40, 40), dtype=np.uint8)
    with torch.inference_mode():
        expected = torch.softmax(model(torch.from_numpy(faces[:, None] / np.float32(255.0))), 1).numpy()
    np.testing.assert_allclose(classifier.predict(faces), expected, atol=1e-5)


def test_export_for_an_input_below_the_networks_stride_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture):
    from ferkit.models import create_model
    from ferkit.models.checkpoint import save_model
    from ferkit.models.meta import ModelMeta

    vgg = create_model("vgg_slim")  # four 2x2 pools: a stride of 16
    model_file = save_model(tmp_path / "vgg.pt", vgg, ModelMeta("vgg_slim", vgg.model_args, EMOTIONS))
    assert main(["export", str(model_file), "--onnx", str(tmp_path / "m.onnx"), "--input-size", "8"]) == 2
    assert "input_size 8 is smaller than the network's total stride 16" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
