"""The contract every registered model follows, checked on each of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ferkit.models import create_model, list_models

ALL_MODELS = list_models(include_test=True)


@pytest.fixture(scope="module", params=ALL_MODELS)
def model(request: pytest.FixtureRequest) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(request.param).eval()


@pytest.mark.parametrize("size", [48, 64, 50])  # 50: odd sizes inside the network
def test_forward_gives_one_logit_per_class(model: torch.nn.Module, size: int) -> None:
    with torch.no_grad():
        logits = model(torch.randn(2, 1, size, size))
    assert logits.shape == (2, model.num_classes) == (2, 7)
    assert torch.isfinite(logits).all()


def test_forward_is_head_of_features(model: torch.nn.Module) -> None:
    x = torch.rand(2, 1, 48, 48)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.ndim == 4
        pre = model.forward_head(feats, pre_logits=True)
        assert pre.shape[0] == 2 and pre.ndim == 2
        torch.testing.assert_close(model.forward_head(feats), model(x))


def test_reset_classifier_changes_output_width(model: torch.nn.Module) -> None:
    model = copy.deepcopy(model)  # the fixture is shared by the other tests
    model.reset_classifier(3)
    assert model.num_classes == 3
    with torch.no_grad():
        assert model(torch.rand(1, 1, 48, 48)).shape == (1, 3)


def test_gradcam_layer_gives_4d_activation(model: torch.nn.Module) -> None:
    seen: list[torch.Tensor] = []
    handle = model.gradcam_layer.register_forward_hook(lambda _m, _i, out: seen.append(out))
    with torch.no_grad():
        model(torch.rand(1, 1, 48, 48))
    handle.remove()
    assert len(seen) == 1
    assert seen[0].ndim == 4 and seen[0].shape[-1] >= 3


def test_backbone_and_head_parameters_partition_the_model(model: torch.nn.Module) -> None:
    backbone = [id(p) for p in model.backbone_parameters()]
    head = [id(p) for p in model.head_parameters()]
    assert head and backbone
    assert sorted(backbone + head) == sorted(id(p) for p in model.parameters())


@pytest.mark.parametrize("dynamo", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["torchscript", "dynamo"])
def test_exports_to_onnx_opset17_with_dynamic_batch(tmp_path: Path, dynamo: bool) -> None:
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = create_model("test_tiny").eval()
    path = tmp_path / "test_tiny.onnx"
    batch_axis = (
        {"dynamic_shapes": ({0: torch.export.Dim.DYNAMIC},)} if dynamo
        else {"dynamic_axes": {"pixels": {0: "batch"}, "logits": {0: "batch"}}}
    )
    torch.onnx.export(model, (torch.rand(2, 1, 48, 48),), path, opset_version=17, input_names=["pixels"],
                      output_names=["logits"], dynamo=dynamo, **batch_axis)
    assert onnx.load(path).opset_import[0].version == 17
    x = torch.rand(5, 1, 48, 48)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"pixels": x.numpy()})
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", ["test_tiny", "mobilenet_small"])
def test_runs_channels_last_under_bf16_autocast(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = torch.rand(4, 1, 48, 48)
    with torch.no_grad():
        expected = model(x)
        model = model.to(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = model(x.to(memory_format=torch.channels_last))
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), expected, atol=0.1, rtol=0.1)


@pytest.mark.parametrize(("name", "variant"), [
    ("small", {"stages": ((8, 1, 2, 1), (16, 2, 2, 2.0)), "head_chs": 32}),
    ("vgg", {"widths": (8, 16), "head_hidden": (8,)}),
    ("resnet18", {"layers": (1, 1), "widths": (8, 16)}),
    ("mini_xception", {"widths": (8, 16)}),
])
def test_variant_args_survive_json_and_rebuild_the_same_architecture(name: str, variant: dict) -> None:
    # Checkpoints and ONNX metadata store model_args as JSON, where tuples come back as lists.
    model = create_model(name, **variant)
    rebuilt = create_model(name, **json.loads(json.dumps(model.model_args)))
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


def test_test_tiny_learns_a_small_batch() -> None:
    # Gradients reach every block: a few dozen steps fit 8 random faces (small ones, to keep this fast).
    torch.manual_seed(0)
    model = create_model("test_tiny", input_size=24, drop_rate=0.0).train()
    x, y = torch.rand(8, 1, 24, 24), torch.arange(8) % 7
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
