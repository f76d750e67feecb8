"""The models shipped in `src/ferkit/weights/`: each is selected by name (the `base` alias included) and
carries complete metadata beside its `.onnx` file (issue #12)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.errors import ModelError
from ferkit.inference import classify
from ferkit.inference.classify import (
    BUNDLED_ALIASES,
    OnnxClassifier,
    bundled_model_path,
    bundled_models,
    load_classifier,
)

SHIPPED = ("large", "small")
FACES = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)

# The fields every shipped model's metadata holds (those of large.json and small.json when `large` was named).
META_FIELDS = {"format", "model_name", "model_args", "classes", "preprocess", "metrics", "train_config", "input",
               "output", "normalization", "training_data", "weights_dtype"}
METRIC_FIELDS = {"split", "faces", "accuracy", "balanced_accuracy", "macro_f1", "ece", "recall", "measured_by"}


def test_the_shipped_models_are_large_and_small_and_no_alias_is_listed_as_a_model():
    assert sorted(bundled_models()) == sorted(SHIPPED)


@pytest.mark.parametrize("name", [*SHIPPED, "base"])
def test_each_bundled_name_gives_a_working_classifier_of_the_seven_expressions(name: str):
    classifier = load_classifier(name)
    assert isinstance(classifier, OnnxClassifier) and classifier.classes == EMOTIONS
    probs = classifier.predict(FACES)
    assert probs.shape == (len(FACES), len(EMOTIONS)) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_base_is_for_now_an_alias_of_the_large_ensemble():
    assert BUNDLED_ALIASES == {"base": "large"}
    assert bundled_model_path("base") == bundled_models()["large"]
    info = load_classifier("base").info()
    assert Path(info["source"]).name == "large.onnx" and info["name"] == "ensemble"


def test_a_shipped_file_of_the_alias_name_wins_over_the_alias(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    own = {"base": tmp_path / "base.onnx", "large": tmp_path / "large.onnx"}
    monkeypatch.setattr(classify, "bundled_models", lambda: own)
    assert bundled_model_path("base") == own["base"]


def test_an_unknown_name_lists_the_shipped_models_and_the_alias():
    with pytest.raises(ModelError, match=r"not a bundled model \(large, small, base \(= large\)\)"):
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
