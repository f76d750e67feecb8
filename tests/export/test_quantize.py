from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ferkit.constants import EMOTIONS
from ferkit.data.arrays import FaceArrays
from ferkit.export.onnx import ExportResult
from ferkit.export.quantize import compare_accuracy, quantize_int8
from ferkit.inference.classify import OnnxClassifier

FACES = np.random.default_rng(0).integers(0, 256, (40, 48, 48), dtype=np.uint8)


@pytest.mark.parametrize("calibration", [None, FACES[:16]], ids=["dynamic", "static"])
def test_int8_model_loads_predicts_and_notes_its_quantisation(exported: ExportResult, tmp_path: Path, calibration):
    out = quantize_int8(exported.onnx_path, tmp_path / "tiny.int8.onnx", calibration)
    probs = OnnxClassifier(out).predict(FACES)
    assert probs.shape == (40, len(EMOTIONS))
    np.testing.assert_allclose(probs, OnnxClassifier(exported.onnx_path).predict(FACES), atol=0.05)  # close to fp32
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["quantization"].startswith("int8 " + ("dynamic" if calibration is None else "static"))
    assert meta["classes"] == list(EMOTIONS)


def test_compare_accuracy_reports_both_models_and_the_change(exported: ExportResult, tmp_path: Path):
    int8 = quantize_int8(exported.onnx_path, tmp_path / "tiny.int8.onnx", FACES[:16])
    # Labels in a different class order than the model's: the comparison must map them by name.
    classes = tuple(reversed(EMOTIONS))
    fp32_pred = OnnxClassifier(exported.onnx_path).predict(FACES).argmax(1)
    labels = np.array([classes.index(EMOTIONS[i]) for i in fp32_pred])
    labels[:10] = (labels[:10] + 1) % len(classes)  # a quarter wrong on purpose
    report = compare_accuracy(exported.onnx_path, int8, FaceArrays(FACES, labels, classes))
    int8_pred = OnnxClassifier(int8).predict(FACES).argmax(1)
    truth = np.array([EMOTIONS.index(classes[i]) for i in labels])
    assert report["faces"] == 40 and report["accuracy_fp32"] == 0.75
    assert report["accuracy_int8"] == pytest.approx((int8_pred == truth).mean(), abs=1e-4)
    assert report["accuracy_change"] == pytest.approx(report["accuracy_int8"] - 0.75, abs=1e-4)
    assert report["top1_agreement"] == pytest.approx((int8_pred == fp32_pred).mean(), abs=1e-4)


def _weight_range(path: Path) -> tuple[int, int]:
    """The smallest and largest quantised weight of an int8 file (the int8 initialisers feeding DequantizeLinear)."""
    import onnx
    from onnx import numpy_helper

    values = [numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer
              if t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8) and np.prod(t.dims) > 8]
    flat = np.concatenate([v.ravel().astype(np.int32) for v in values])
    return int(flat.min()), int(flat.max())


def test_static_int8_weights_use_seven_bits_unless_the_full_range_is_asked_for(exported: ExportResult,
                                                                                tmp_path: Path):
    """7-bit weights keep ONNX Runtime's U8S8 kernels from saturating on x86 CPUs without VNNI."""
    seven = quantize_int8(exported.onnx_path, tmp_path / "seven.onnx", FACES[:16])
    full = quantize_int8(exported.onnx_path, tmp_path / "full.onnx", FACES[:16], reduce_range=False)
    assert max(map(abs, _weight_range(seven))) <= 64  # symmetric 7-bit: -64..64
    assert max(map(abs, _weight_range(full))) > 64
    assert "7-bit" in json.loads(seven.with_suffix(".json").read_text())["quantization"]
    assert "7-bit" not in json.loads(full.with_suffix(".json").read_text())["quantization"]


def test_quantising_only_the_convolutions_leaves_the_classifier_in_float(exported: ExportResult, tmp_path: Path):
    import onnx

    out = quantize_int8(exported.onnx_path, tmp_path / "conv.onnx", FACES[:16], op_types=("Conv",))
    graph = onnx.load(str(out)).graph
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    consumers = {n.op_type for n in graph.node if set(n.input) & dequantized}
    assert "Conv" in consumers and not consumers & {"Gemm", "MatMul"}
    assert OnnxClassifier(out).predict(FACES).shape == (40, len(EMOTIONS))
