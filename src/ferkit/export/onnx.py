"""Export a ferkit model file to ONNX for torch-free inference, and prove the export computes the same thing.

The ONNX file takes 0..1 grayscale faces `input [batch, C, S, S]` (dynamic batch) and returns `logits
[batch, num_classes]` (for an ensemble, log-probabilities: the metadata's `output.kind` says which); mean/std
normalisation is inside the graph. What inference needs to use it (classes,
preprocessing, normalisation, training data, metrics) is embedded as JSON under the metadata key
"ferkit" and also written beside it as `<name>.json`, the form the bundled models ship in.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.files import atomic_path
from ferkit.models import create_model
from ferkit.models.layers import InputNorm
from ferkit.models.meta import ONNX_METADATA_KEY, ModelMeta, read_onnx_metadata
from ferkit.models.pretrained import load_pretrained

log = logging.getLogger(__name__)

METADATA_FORMAT = "ferkit-onnx/1"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


@dataclass(frozen=True)
class ExportResult:
    onnx_path: Path
    metadata_path: Path
    max_abs_diff: float  # largest |torch logit - ONNX logit| over the parity batch


def build_metadata(model: nn.Module, meta: ModelMeta) -> dict[str, Any]:
    """The JSON that travels with an exported model."""
    norm = next((m for m in model.modules() if isinstance(m, InputNorm)), None)
    normalization = None if norm is None else {"mean": round(float(norm.mean), 6),
                                               "std": round(1.0 / float(norm.inv_std), 6), "in_graph": True}
    core = {key: value for key, value in meta.to_dict().items() if key != "output_kind"}  # `output.kind` says it
    return {
        "format": METADATA_FORMAT,
        **core,
        "input": {"name": INPUT_NAME, "layout": "NCHW", "channels": meta.model_args.get("in_chans", 1),
                  "scale": "gray 0..1"},
        "output": {"name": OUTPUT_NAME, "kind": meta.output_kind},
        "normalization": normalization,
        "training_data": meta.train_config.get("data"),
    }


def read_metadata(onnx_path: Path) -> dict[str, Any]:
    """The whole ferkit metadata of an exported file (sidecar or embedded), to carry over to a derived file."""
    props = {p.key: p.value for p in onnx.load(str(onnx_path), load_external_data=False).metadata_props}
    return read_onnx_metadata(onnx_path, props)


def write_metadata(onnx_path: Path, metadata: dict[str, Any]) -> Path:
    """Embed `metadata` in the ONNX file and write it beside it as `<stem>.json`; returns the .json path."""
    proto = onnx.load(str(onnx_path))
    onnx.helper.set_model_props(proto, {ONNX_METADATA_KEY: json.dumps(metadata)})
    onnx.checker.check_model(proto)
    onnx.save(proto, str(onnx_path))
    sidecar = onnx_path.with_suffix(".json")
    sidecar.write_text(json.dumps(metadata, indent=2) + "\n")
    return sidecar


def store_weights_fp16(onnx_path: Path, min_elements: int = 1024) -> None:
    """Halve the file: store large float32 weights as float16 with a Cast back to float32 in front of them.

    Compute stays float32 (ONNX Runtime folds the casts once, when the session starts); only the weights are
    rounded to float16, so accuracy must be re-measured on the exported file (the model card does).
    """
    proto = onnx.load(str(onnx_path))
    graph = proto.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or np.prod(init.dims) < min_elements:
            continue
        values = onnx.numpy_helper.to_array(init).astype(np.float16)
        name = init.name
        init.CopyFrom(onnx.numpy_helper.from_array(values, name + "_fp16"))
        casts.append(onnx.helper.make_node("Cast", [name + "_fp16"], [name], to=onnx.TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(onnx_path))


def at_input_size(model: nn.Module, meta: ModelMeta, size: int) -> tuple[nn.Module, ModelMeta]:
    """`model` for faces resized to `size` pixels instead of the size it was trained on: the same weights, since
    ferkit's networks end in global pooling. It costs accuracy, to be measured (`benchmarks/bench_levers.py`:
    `large:0` at 44 px keeps its int8 PublicTest accuracy within 0.1 point for 1.2x the speed). The metrics, measured
    at the old size, are dropped.

    Raises:
        ModelError: `size` is below the network's total stride.
    """
    args = {**meta.model_args, "input_size": size}
    resized = create_model(meta.model_name, **args)
    resized.load_state_dict(model.state_dict())
    return resized.eval(), replace(meta, model_args=args, preprocess=replace(meta.preprocess, input_size=size),
                                   metrics={})


def export_onnx(source: str | Path, out: str | Path, opset: int = 18, parity_batch: int = 16,
                atol: float = 1e-3, seed: int = 0, fp16_weights: bool = False,
                input_size: int | None = None) -> ExportResult:
    """Export `source` (a ferkit `.pt` or run directory, or a network of a shipped model such as `large:0`; see
    `models.pretrained`) to `out`, with metadata, and check parity.

    Args:
        source: the trained model.
        out: the `.onnx` path to write; `<out stem>.json` is written beside it.
        opset: ONNX opset version.
        parity_batch: random faces run through both PyTorch and ONNX Runtime for the parity check.
        atol: largest tolerated logit difference.
        seed: seed of the parity batch.
        fp16_weights: store weights as float16 (half the file size; see `store_weights_fp16`).
        input_size: export for faces of this side (see `at_input_size`); None: the size it was trained on.

    Raises:
        ModelError: the model file is unreadable, or the ONNX output differs from PyTorch's by more than `atol`.
    """
    pretrained = load_pretrained(source)
    model, meta = pretrained.model.eval(), pretrained.meta
    if input_size is not None and input_size != meta.preprocess.input_size:
        model, meta = at_input_size(model, meta, input_size)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    size, chans = meta.preprocess.input_size, meta.model_args.get("in_chans", 1)
    example = torch.rand(2, chans, size, size, generator=torch.Generator().manual_seed(seed))
    with tempfile.TemporaryDirectory() as scratch, atomic_path(out) as staged:
        raw = Path(scratch) / "raw.onnx"
        torch.onnx.export(
            model, (example,), str(raw), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: torch.export.Dim("batch")},), opset_version=opset, dynamo=True, verbose=False,
        )
        # The exporter may spill weights to "raw.onnx.data"; loading and saving inlines them into one file.
        onnx.save(onnx.load(str(raw)), str(staged))
    if fp16_weights:
        store_weights_fp16(out)
    metadata = build_metadata(model, meta)
    metadata["weights_dtype"] = "float16" if fp16_weights else "float32"
    metadata_path = write_metadata(out, metadata)

    faces = torch.rand(parity_batch, chans, size, size, generator=torch.Generator().manual_seed(seed + 1))
    diff = max_abs_diff(model, out, faces)
    log.info("exported %s to %s; max |torch - onnx| logit difference %.2e", meta.model_name, out, diff)
    if diff > atol:
        raise ModelError(f"{out}: ONNX output differs from PyTorch by {diff:.2e} (> {atol:.0e})")
    return ExportResult(out, metadata_path, diff)


def max_abs_diff(model: nn.Module, onnx_path: Path, inputs: torch.Tensor) -> float:
    """Largest absolute difference between the PyTorch and ONNX Runtime logits for `inputs`."""
    with torch.inference_mode():
        expected = model(inputs).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {INPUT_NAME: inputs.numpy()})
    return float(np.abs(expected - got).max())
