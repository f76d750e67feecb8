"""One way from a name to trainable weights (`models.pretrained`): bundled names first, then paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.errors import ModelError
from ferkit.inference.classify import OnnxClassifier
from ferkit.models import create_model
from ferkit.models.bundled import bundled_model_path, split_member
from ferkit.models.checkpoint import save_model
from ferkit.models.meta import ModelMeta
from ferkit.models.pretrained import load_pretrained, source_file
from ferkit.transforms.preprocess import resize_faces, to_model_input

FACES = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)


def test_a_member_index_is_split_from_a_name_but_a_drive_letter_is_not():
    assert split_member("large:1") == ("large", 1)
    assert split_member("C:\\runs\\a") == ("C:\\runs\\a", None)
    assert split_member("model.onnx") == ("model.onnx", None)


def test_a_bundled_name_wins_over_a_folder_of_that_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "small").mkdir()
    monkeypatch.chdir(tmp_path)
    loaded = load_pretrained("small")
    assert loaded.meta.model_name == "small" and loaded.onnx_file == bundled_model_path("small")
    assert source_file("small") == bundled_model_path("small")


def test_the_shipped_int8_base_rebuilds_the_float_network_it_was_quantised_from():
    float_file = bundled_model_path("base").parent / "float" / "base.onnx"
    base = load_pretrained("base")
    assert base.meta.model_name == "vgg" and base.onnx_file == float_file
    assert source_file("base") == float_file  # the file an export's outputs are checked against
    faces = resize_faces(FACES, base.meta.preprocess.input_size)
    with torch.inference_mode():
        probs = base.model(torch.from_numpy(to_model_input(faces))).softmax(1).numpy()
    np.testing.assert_allclose(probs, OnnxClassifier(float_file).predict(faces), atol=2e-3)
    # and it is the network inside base.onnx, up to int8 rounding
    assert (probs.argmax(1) == OnnxClassifier(bundled_model_path("base")).predict(faces).argmax(1)).mean() >= 0.75


def test_a_model_file_loads_as_saved_and_is_not_marked_as_rebuilt(tmp_path: Path):
    model = create_model("cnn", num_classes=3)
    meta = ModelMeta(model_name="cnn", model_args=model.model_args, classes=("a", "b", "c"))
    path = save_model(tmp_path / "model.pt", model, meta)
    loaded = load_pretrained(tmp_path)
    assert loaded.onnx_file is None and loaded.meta.classes == ("a", "b", "c")
    assert source_file(tmp_path) == path


def test_a_missing_onnx_file_is_named(tmp_path: Path):
    with pytest.raises(ModelError, match=r"missing\.onnx: no such file"):
        load_pretrained(tmp_path / "missing.onnx")


def test_an_int8_file_without_its_float_network_is_refused_by_name(monkeypatch: pytest.MonkeyPatch):
    from ferkit.models import pretrained

    meta = {"model_name": "vgg", "quantization": "int8 static, calibrated on 512 faces"}
    monkeypatch.setattr(pretrained, "bundled_metadata", lambda name: meta)
    with pytest.raises(ModelError, match=r"small ships as an int8 static file, whose weights cannot be trained"):
        load_pretrained("small")


def test_an_int8_file_shipped_with_its_float_network_beside_it_rebuilds_that(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    """A distilled `base` has no float network inside `large`: its float copy ships under weights/float/."""
    import json
    import shutil

    from ferkit.constants import EMOTIONS
    from ferkit.export.onnx import export_onnx
    from ferkit.models import bundled

    net = create_model("vgg_slim").eval()
    for bn in (m for m in net.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))):  # trained
        bn.running_mean.uniform_(-0.2, 0.2)
    exported = export_onnx(save_model(tmp_path / "net.pt", net, ModelMeta("vgg_slim", net.model_args, EMOTIONS)),
                           tmp_path / "net.onnx").onnx_path
    weights = tmp_path / "weights"
    (weights / "float").mkdir(parents=True)
    for target in (weights / "mine.onnx", weights / "float" / "mine.onnx"):
        shutil.copy(exported, target)
        shutil.copy(exported.with_suffix(".json"), target.with_suffix(".json"))
    meta = json.loads(exported.with_suffix(".json").read_text())
    meta.update(quantization="int8 static", fine_tune_from="float/mine.onnx")
    (weights / "mine.json").write_text(json.dumps(meta))
    monkeypatch.setattr(bundled, "bundled_models", lambda: {"mine": weights / "mine.onnx"})
    monkeypatch.chdir(tmp_path / "weights" / "float")  # the path is the weights folder's, not the working folder's
    assert bundled.single_network_names() == ["mine"]
    loaded = load_pretrained("mine")
    assert loaded.onnx_file == weights / "float" / "mine.onnx" and loaded.meta.model_name == "vgg_slim"
    assert source_file("mine") == weights / "float" / "mine.onnx"
