"""The models shipped in `src/ferkit/weights/`: each name selects a working network (`base` one int8 network,
`large` the ensemble, `small` the real-time one), and each carries complete metadata beside its `.onnx` file."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from ferkit.constants import EMOTIONS
from ferkit.errors import ModelError
from ferkit.inference.classify import OnnxClassifier, load_classifier
from ferkit.inference.config import RecognizerConfig
from ferkit.inference.pipeline import DEFAULT_MODEL
from ferkit.models.bundled import bundled_metadata, bundled_model_path, bundled_models

SHIPPED = ("base", "large", "small")
FACES = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)

# The fields every shipped model's metadata holds.
META_FIELDS = {"format", "model_name", "model_args", "classes", "preprocess", "metrics", "train_config", "input",
               "output", "normalization", "training_data", "weights_dtype"}
METRIC_FIELDS = {"split", "faces", "accuracy", "balanced_accuracy", "macro_f1", "ece", "recall", "measured_by"}


def test_the_shipped_models_are_base_large_and_small():
    assert sorted(bundled_models()) == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_bundled_name_gives_a_working_classifier_of_the_seven_expressions(name: str):
    classifier = load_classifier(name)
    assert isinstance(classifier, OnnxClassifier) and classifier.classes == EMOTIONS
    probs = classifier.predict(FACES)
    assert probs.shape == (len(FACES), len(EMOTIONS)) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_base_is_one_int8_network_and_the_default_everywhere():
    assert DEFAULT_MODEL == "base" and RecognizerConfig().model == "base"
    meta = bundled_metadata("base")
    assert meta["model_name"] == "vgg" and meta["quantization"].startswith("int8 static")
    ops = {node.op_type for node in onnx.load(str(bundled_model_path("base"))).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert bundled_model_path("base").stat().st_size <= 10 * 2**20  # issue #20: at most 10 MB


def test_large_is_the_ensemble_and_small_one_network():
    assert bundled_metadata("large")["model_name"] == "ensemble"
    assert bundled_metadata("small")["model_name"] == "small"


def test_an_unknown_name_lists_the_shipped_models():
    with pytest.raises(ModelError, match=r"not a bundled model \(base, large, small\)"):
        load_classifier("medium")


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_has_complete_metadata_beside_its_onnx_file(name: str):
    meta = json.loads(bundled_models()[name].with_suffix(".json").read_text())
    assert set(meta) >= META_FIELDS, f"{name}.json lacks {sorted(META_FIELDS - set(meta))}"
    assert meta["format"] == "ferkit-onnx/1" and meta["classes"] == list(EMOTIONS)
    assert meta["preprocess"]["input_size"] == meta["model_args"]["input_size"] == 48
    metrics = meta["metrics"]
    assert set(metrics) >= METRIC_FIELDS, f"{name}.json metrics lack {sorted(METRIC_FIELDS - set(metrics))}"
    assert metrics["split"] == "FER2013 PublicTest" and metrics["faces"] == 3589
    assert 0.5 < metrics["accuracy"] < 1 and set(metrics["recall"]) == set(EMOTIONS)
