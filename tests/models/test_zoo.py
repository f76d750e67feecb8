"""The contract every registered model follows, checked on each of them."""

from __future__ import annotations

import pytest
import torch

from ferkit.models import create_model, list_models

ALL_MODELS = list_models(include_test=True)


@pytest.fixture(scope="module", params=ALL_MODELS)
def model(request: pytest.FixtureRequest) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(request.param).eval()


@pytest.mark.parametrize("size", [48, 64])
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


def test_reset_classifier_changes_output_width() -> None:
    for name in ALL_MODELS:
        model = create_model(name).eval()
        model.reset_classifier(3)
        assert model.num_classes == 3
        with torch.no_grad():
            assert model(torch.rand(1, 1, 48, 48)).shape == (1, 3), name


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
