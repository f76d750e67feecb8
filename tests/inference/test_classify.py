from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from ferkit.constants import EMOTIONS
from ferkit.errors import ModelError
from ferkit.inference.classify import (
    ONNX_CHUNK,
    OnnxClassifier,
    TorchClassifier,
    load_classifier,
)
from ferkit.models.bundled import bundled_models
from ferkit.transforms.preprocess import resize_faces, to_model_input

FACES = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)


def test_onnx_classifier_returns_probabilities_per_face(tiny_onnx: Path):
    clf = OnnxClassifier(tiny_onnx)
    assert clf.classes == EMOTIONS and clf.preprocess.input_size == 48
    probs = clf.predict(FACES)
    assert probs.shape == (5, 7) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert np.allclose(clf.predict(FACES[:1]), probs[:1], atol=1e-6)  # dynamic batch, same answer
    assert clf.predict(FACES[:0]).shape == (0, 7)


def test_faces_of_another_size_are_resized_to_the_models_input(tiny_onnx: Path):
    clf = OnnxClassifier(tiny_onnx)  # 48 px, as the shipped `base` is 44 px and FER2013's faces 48
    big = np.repeat(np.repeat(FACES, 2, axis=1), 2, axis=2)  # each face at 96 px
    assert np.allclose(clf.predict(big), clf.predict(resize_faces(big, 48)), atol=1e-6)
    assert np.allclose(clf.predict(big), clf.predict(FACES), atol=1e-6)  # 2x2 area averaging gives FACES back


def test_outputs_of_a_batch_larger_than_a_chunk_match_face_by_face(tiny_onnx: Path):
    clf = OnnxClassifier(tiny_onnx)
    faces = np.random.default_rng(1).integers(0, 256, (2 * ONNX_CHUNK + 3, 48, 48), dtype=np.uint8)
    outputs = clf.outputs(to_model_input(faces))
    one_by_one = np.concatenate([clf.outputs(to_model_input(faces[i:i + 1])) for i in range(len(faces))])
    assert outputs.shape == (len(faces), 7) and np.allclose(outputs, one_by_one, atol=1e-5)
    assert clf.meta.output_kind == "logits"
    assert np.allclose(clf.meta.probabilities(outputs), clf.predict(faces), atol=1e-6)


def test_the_large_ensemble_returns_log_probabilities_and_gets_no_second_softmax():
    clf = load_classifier("large")
    outputs = clf.outputs(to_model_input(FACES))
    assert clf.meta.output_kind == "log_probs"
    assert np.allclose(np.exp(outputs).sum(1), 1, atol=1e-4)  # the graph's own softmax, averaged, then log
    assert np.allclose(clf.predict(FACES), np.exp(outputs), atol=1e-6)


def test_info_names_model_classes_size_and_source(tiny_onnx: Path):
    info = OnnxClassifier(tiny_onnx).info()
    assert info["name"] == "test_tiny" and info["classes"] == list(EMOTIONS) and info["input_size"] == 48
    assert info["source"] == str(tiny_onnx) and "metrics" in info


def test_metadata_embedded_in_the_onnx_file_is_enough(tiny_onnx: Path, tmp_path: Path):
    alone = shutil.copy(tiny_onnx, tmp_path / "alone.onnx")  # no sidecar .json
    assert OnnxClassifier(alone).classes == EMOTIONS


def test_onnx_without_ferkit_metadata_is_a_clear_error(tiny_onnx: Path, tmp_path: Path):
    proto = onnx.load(str(tiny_onnx))
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ModelError, match="no ferkit metadata"):
        OnnxClassifier(tmp_path / "foreign.onnx")


def test_torch_model_file_matches_its_onnx_export(tiny_onnx: Path):
    pytest.importorskip("torch")
    torch_clf = load_classifier(tiny_onnx.with_suffix(".pt"))
    assert isinstance(torch_clf, TorchClassifier)
    assert np.abs(torch_clf.predict(FACES) - OnnxClassifier(tiny_onnx).predict(FACES)).max() < 1e-5


def test_load_classifier_by_path_and_unknown_names(tiny_onnx: Path):
    assert isinstance(load_classifier(tiny_onnx), OnnxClassifier)
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        load_classifier("nope")
    with pytest.raises(ModelError, match="no such ONNX model file"):
        load_classifier("missing.onnx")


def test_bundled_models_load_by_name():
    for name, path in bundled_models().items():
        assert path.suffix == ".onnx"
        assert load_classifier(name).predict(FACES).shape[0] == len(FACES)
