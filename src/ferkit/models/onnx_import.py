"""Trainable weights back from an exported ONNX file: for shipped models whose training run is gone.

ferkit's exporter folds each BatchNorm into the conv (or linear) layer before it: the ONNX file holds that
layer's weight under its own name, scaled, and the folded bias as `<layer>.weight_bias`. `model_from_onnx`
rebuilds the architecture named in the file's metadata, loads those weights, and turns each BatchNorm into
`x + bias` (running mean 0, variance 1, scale sqrt(1 + eps)), which reproduces the ONNX outputs exactly.

A BatchNorm in training mode normalises by the batch's statistics, not its running ones, so before such a
model is trained `calibrate_batchnorm` sets each BatchNorm's running mean and variance to those of its input
over real faces, and its scale and bias so that it still computes `x + bias` on them: in evaluation mode
exactly, in training mode as closely as a batch's statistics follow the data's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ferkit.errors import ModelError
from ferkit.models import create_model
from ferkit.models.meta import read_onnx_metadata
from ferkit.transforms.preprocess import to_model_input

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
_LAYERS = (nn.Conv2d, nn.Linear)


def model_from_onnx(path: Path, atol: float = 1e-4, member: int | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """The torch model an exported ONNX file was made from, in eval mode, and its metadata; with `member`, that
    network of an exported ensemble and metadata naming it (`large:0` for fine-tuning or pruning). The whole file's
    model is rebuilt and checked against ONNX Runtime's outputs before a member is taken from it.

    Raises:
        ModelError: the file is not a ferkit export, is an ensemble and no `member` is named (or lacks that
            member), misses a weight, or the rebuilt model's outputs differ from ONNX Runtime's by more than `atol`.
    """
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    meta = read_onnx_metadata(path, {p.key: p.value for p in proto.metadata_props})
    members = meta["model_args"].get("members", []) if meta.get("model_name") == "ensemble" else []
    if member is None and members:
        raise ModelError(f"{path}: an ensemble of {len(members)} networks cannot be fine-tuned as one; name one of "
                         f"them ({path.stem}:0 ... {path.stem}:{len(members) - 1}) or a single network (small, or "
                         "a model you trained)")
    if member is not None and not 0 <= member < len(members):
        raise ModelError(f"{path}: no member {member}: the file holds "
                         + (f"an ensemble of {len(members)} networks" if members else "a single network"))
    model = create_model(meta["model_name"], **meta["model_args"]).eval()
    # Weights stored as float16 (`ferkit export --fp16-weights`) carry a `_fp16` suffix and a Cast back.
    weights = {t.name.removesuffix("_fp16"): numpy_helper.to_array(t) for t in proto.graph.initializer}
    weights |= {name: weights[shared] for name, shared in _shared_batchnorm_inputs(proto).items()}
    state = model.state_dict()
    layer, unfolded = None, set()
    for name, module in model.named_modules():
        if isinstance(module, _LAYERS):
            layer = name
        elif isinstance(module, _BN) and f"{name}.running_mean" not in weights:
            _unfold(state, name, weights.get(f"{layer}.weight_bias"), module.eps, path)
            unfolded.add(name)
    buffers = {name for name, _ in model.named_buffers()}
    for key, value in state.items():
        if key in weights:
            state[key] = torch.tensor(np.asarray(weights[key], np.float32)).reshape(value.shape)
        elif key.rsplit(".", 1)[0] not in unfolded and key not in buffers:
            raise ModelError(f"{path}: no weight '{key}' in the file; it cannot be rebuilt for training")
    # A buffer the file does not name (the exporter stores equal constants once: one input normalisation for
    # several members) keeps its built value; the parity check tells if that was wrong.
    model.load_state_dict(state)
    _check_parity(model, path, meta, atol)
    if member is not None:  # the ensemble's figures and output kind are not its member's
        model = model.members[member]
        meta = {k: v for k, v in meta.items() if k not in ("metrics", "output")} | members[member]
    model.model_args = dict(meta["model_args"])
    return model, meta


def _shared_batchnorm_inputs(proto: Any) -> dict[str, str]:
    """`{"<bn>.bias": "<other>.bias", ...}` for BatchNorm inputs the exporter merged with an equal tensor of another
    name, read from each BatchNormalization node (inputs: x, scale, bias, mean, var; the scale keeps its name)."""
    shared = {}
    for node in proto.graph.node:
        if node.op_type == "BatchNormalization" and node.input[1].endswith(".weight"):
            bn = node.input[1].removesuffix(".weight")
            for suffix, name in zip((".bias", ".running_mean", ".running_var"), node.input[2:5], strict=True):
                if name != bn + suffix:
                    shared[bn + suffix] = name.removesuffix("_fp16")
    return shared


def _unfold(state: dict[str, torch.Tensor], bn: str, bias: np.ndarray | None, eps: float, path: Path) -> None:
    if bias is None:
        raise ModelError(f"{path}: the BatchNorm '{bn}' is folded away but its layer's bias is missing")
    n = state[f"{bn}.weight"].numel()
    state[f"{bn}.running_mean"] = torch.zeros(n)
    state[f"{bn}.running_var"] = torch.ones(n)
    state[f"{bn}.weight"] = torch.full((n,), float(np.sqrt(1.0 + eps)))
    state[f"{bn}.bias"] = torch.tensor(np.asarray(bias, np.float32)).reshape(n)


def _check_parity(model: nn.Module, path: Path, meta: dict[str, Any], atol: float) -> None:
    import onnxruntime as ort

    size = meta.get("preprocess", {}).get("input_size", 48)
    faces = np.random.default_rng(0).integers(0, 256, (8, size, size), dtype=np.uint8)
    x = to_model_input(faces)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.inference_mode():
        got = model(torch.from_numpy(x)).numpy()
    diff = float(np.abs(got - expected).max())
    if diff > atol:
        raise ModelError(f"{path}: the rebuilt model differs from the ONNX file by {diff:.2e} (> {atol})")


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, faces: np.ndarray, batch_size: int = 256) -> None:
    """Give each BatchNorm the running statistics of its input over `faces` (uint8 `[N, H, W]`), keeping what it
    computes in evaluation mode, so that training starts from the same function (see the module docstring)."""
    layers = [m for m in model.modules() if isinstance(m, _BN)]
    sums: dict[nn.Module, list[torch.Tensor]] = {m: [] for m in layers}

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], _: torch.Tensor) -> None:
        x = inputs[0].transpose(0, 1).reshape(inputs[0].shape[1], -1)  # channels first, then everything else
        sums[module].append(torch.stack([x.sum(1), (x * x).sum(1), torch.full_like(x[:, 0], x.shape[1])]))

    hooks = [m.register_forward_hook(record) for m in layers]
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(faces), batch_size):
            model(torch.from_numpy(to_model_input(faces[start:start + batch_size])))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    for bn in layers:
        total, squares, count = torch.stack(sums[bn]).sum(0)
        mean = total / count
        var = (squares / count - mean * mean).clamp_min(0)
        # Now: out = (x - rm) / sqrt(rv + eps) * w + b. Keep `out` for every x with rm = mean, rv = var.
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        std = torch.sqrt(var + bn.eps)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_(scale * std)
        bn.bias.copy_(shift + scale * mean)
