"""The models shipped in `src/ferkit/weights/`: each name selects a working network (`base` one int8 network,
`large` the ensemble, `small` the real-time one, `ferplus` eight classes learnt from the FER+ votes), and each
carries complete metadata beside its `.onnx` file, scored on both label sets."""

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

SHIPPED = ("base", "ferplus", "large", "small")
FERPLUS_CLASSES = (*EMOTIONS, "contempt")


def _classes(name: str) -> tuple[str, ...]:
    return FERPLUS_CLASSES if name == "ferplus" else EMOTIONS
FACES = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)

# The fields every shipped model's metadata holds.
META_FIELDS = {"format", "model_name", "model_args", "classes", "preprocess", "metrics", "train_config", "input",
               "output", "normalization", "training_data", "weights_dtype"}
METRIC_FIELDS = {"split", "faces", "accuracy", "balanced_accuracy", "macro_f1", "ece", "recall", "measured_by"}


def test_the_shipped_models_are_base_ferplus_large_and_small():
    assert sorted(bundled_models()) == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_bundled_name_gives_a_working_classifier_of_its_classes(name: str):
    classifier = load_classifier(name)
    assert isinstance(classifier, OnnxClassifier) and classifier.classes == _classes(name)
    probs = classifier.predict(FACES)
    assert probs.shape == (len(FACES), len(_classes(name))) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_base_is_one_int8_network_and_the_default_everywhere():
    assert DEFAULT_MODEL == "base" and RecognizerConfig().model == "base"
    meta = bundled_metadata("base")
    assert meta["model_name"] == "vgg" and meta["quantization"].startswith("int8 static")
    ops = {node.op_type for node in onnx.load(str(bundled_model_path("base"))).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert bundled_model_path("base").stat().st_size <= 10 * 2**20  # issue #20: at most 10 MB


def test_large_is_the_ensemble_and_small_and_ferplus_one_network_each():
    assert bundled_metadata("large")["model_name"] == "ensemble"
    assert bundled_metadata("small")["model_name"] == "small"
    meta = bundled_metadata("ferplus")
    assert meta["model_name"] == "vgg" and meta["quantization"].startswith("int8 static")
    assert bundled_model_path("ferplus").stat().st_size <= 10 * 2**20


def test_an_unknown_name_lists_the_shipped_models():
    with pytest.raises(ModelError, match=r"not a bundled model \(base, ferplus, large, small\)"):
        load_classifier("medium")


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_has_complete_metadata_beside_its_onnx_file(name: str):
    meta = json.loads(bundled_models()[name].with_suffix(".json").read_text())
    assert set(meta) >= META_FIELDS, f"{name}.json lacks {sorted(META_FIELDS - set(meta))}"
    assert meta["format"] == "ferkit-onnx/1" and meta["classes"] == list(_classes(name))
    # `base` takes 44 px faces (model card, "Speed levers"), the others FER2013's 48
    assert meta["preprocess"]["input_size"] == meta["model_args"]["input_size"] == (44 if name == "base" else 48)
    metrics = meta["metrics"]
    assert set(metrics) >= METRIC_FIELDS, f"{name}.json metrics lack {sorted(METRIC_FIELDS - set(metrics))}"
    assert metrics["split"] == "FER2013 PublicTest" and metrics["faces"] == 3589
    assert 0.5 < metrics["accuracy"] < 1 and set(metrics["recall"]) == set(EMOTIONS)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_is_scored_on_both_label_sets(name: str):
    ferplus = bundled_metadata(name)["metrics_ferplus"]  # FER2013's labels are `metrics` (issue #21)
    assert ferplus["split"] == "FER+ FER2013Valid" and 0.5 < ferplus["majority_accuracy"] < 1
    assert ferplus["majority_faces"] + ferplus["left_out_majority"] == 3191  # the faces with a majority vote


_SLOW = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.mark.parametrize("name", [
    "small",  # in every run: thousands of faces/s
    pytest.param("base", marks=_SLOW),  # base and ferplus: 107 s together on 2 quiet AVX2 cores (2026-12-03)
    pytest.param("ferplus", marks=_SLOW),
    pytest.param("large", marks=_SLOW),  # 3,589 faces at large's 8 faces/s there (accuracy_speed.json): ~7.5 min
])
def test_each_shipped_accuracy_is_what_the_model_scores_on_publictest(name: str, shared_dir, tmp_path):
    """The figure `ferkit models`, the README and the model card show is measured again here, from the file."""
    from ferkit.evaluate.run import EvalConfig, evaluate

    data = shared_dir / "data" / "fer2013"
    report = evaluate(EvalConfig(model=name, data=data, split="PublicTest", out_dir=tmp_path, gradcam_per_class=0,
                                 mistakes=0))
    shipped = bundled_metadata(name)["metrics"]
    assert report.metrics.num_faces == shipped["faces"] == 3589
    assert report.metrics.accuracy == pytest.approx(shipped["accuracy"], abs=1.5e-4)  # rounded to 4 places
    assert report.metrics.macro_f1 == pytest.approx(shipped["macro_f1"], abs=1.5e-4)
