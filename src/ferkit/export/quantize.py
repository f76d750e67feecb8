"""int8 quantisation of an exported model, and what it costs in accuracy.

Static quantisation (QDQ, activations calibrated on real faces) is what speeds up convolutions on CPU;
without calibration faces it falls back to dynamic quantisation (weights only, ConvInteger/MatMulInteger).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from ferkit.data.arrays import FaceArrays
from ferkit.errors import ModelError
from ferkit.export.onnx import INPUT_NAME, read_metadata, write_metadata
from ferkit.inference.classify import OnnxClassifier
from ferkit.transforms.preprocess import to_model_input


class _FaceReader(CalibrationDataReader):
    """Feeds calibration faces to the quantiser in small batches."""

    def __init__(self, faces: np.ndarray, batch: int = 32) -> None:
        self._batches = iter([faces[i:i + batch] for i in range(0, len(faces), batch)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {INPUT_NAME: to_model_input(batch)}


def quantize_int8(onnx_path: str | Path, out: str | Path, calibration_faces: np.ndarray | None = None,
                  per_channel: bool = True, op_types: tuple[str, ...] | None = None, reduce_range: bool = True,
                  unsigned_weights: bool = False) -> Path:
    """Write an int8 copy of `onnx_path` to `out` (plus its `.json` metadata, noting the quantisation).

    Args:
        onnx_path: a model written by `export_onnx`.
        out: the int8 `.onnx` to write.
        calibration_faces: uint8 faces `[N, S, S]` from the training data for static quantisation;
            None for dynamic quantisation.
        per_channel: static only: one weight scale per output channel (the default; per-tensor is the other choice
            `benchmarks/bench_int8.py` measures).
        op_types: static only: the operator types to quantise (e.g. `("Conv",)`); None = every one ONNX Runtime can.
        reduce_range: static only: 7-bit weights (the default). On x86 CPUs without VNNI, ONNX Runtime multiplies
            uint8 activations by int8 weights with an instruction whose 16-bit sums can saturate; 7-bit weights
            cannot, so the file scores the same on every CPU (`large:0` with 8-bit weights lost 1.9 points of
            PublicTest on an AVX2-only EPYC, with 7-bit weights 0.2: `benchmarks/results/int8_options.json`).
        unsigned_weights: static only: uint8 weights (U8U8), the other way around that saturation.
    """
    onnx_path, out = Path(onnx_path), Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(onnx_path), str(prepared))  # shape inference + folding, as ORT recommends
        if calibration_faces is not None and len(calibration_faces):
            weights = QuantType.QUInt8 if unsigned_weights else QuantType.QInt8
            quantize_static(str(prepared), str(out), _FaceReader(calibration_faces),
                            activation_type=QuantType.QUInt8, weight_type=weights, per_channel=per_channel,
                            reduce_range=reduce_range, op_types_to_quantize=list(op_types) if op_types else None)
            method = (f"static, calibrated on {len(calibration_faces)} faces, "
                      f"{'per-channel' if per_channel else 'per-tensor'} {'u' if unsigned_weights else ''}int8 "
                      f"weights{' (7-bit range)' if reduce_range else ''}, "
                      f"{'+'.join(op_types) if op_types else 'all'} operators")
        else:
            quantize_dynamic(str(prepared), str(out), weight_type=QuantType.QUInt8)
            method = "dynamic"
    meta = {**read_metadata(onnx_path), "quantization": f"int8 {method}"}
    write_metadata(out, meta)
    return out


def compare_accuracy(fp32_path: str | Path, int8_path: str | Path, faces: FaceArrays) -> dict[str, Any]:
    """Accuracy of both models on `faces`, the change, and how often they agree on the top class."""
    fp32, int8 = OnnxClassifier(fp32_path), OnnxClassifier(int8_path)
    missing = set(faces.classes) - set(fp32.classes)
    if missing:
        raise ModelError(f"{fp32_path}: evaluation faces have classes the model lacks: {', '.join(sorted(missing))}")
    # Labels index `faces.classes`; the models' outputs follow their own class order.
    truth = np.array([fp32.classes.index(c) for c in faces.classes])[faces.labels]
    pred32, pred8 = fp32.predict(faces.images).argmax(1), int8.predict(faces.images).argmax(1)
    acc32, acc8 = float((pred32 == truth).mean()), float((pred8 == truth).mean())
    return {"faces": len(faces), "accuracy_fp32": round(acc32, 4), "accuracy_int8": round(acc8, 4),
            "accuracy_change": round(acc8 - acc32, 4), "top1_agreement": round(float((pred32 == pred8).mean()), 4)}
