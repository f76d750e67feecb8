"""Registry behaviour: names are unique, unknown names get suggestions, kwargs reach the model."""

from __future__ import annotations

import pytest
from torch import nn

from ferkit.errors import ModelError
from ferkit.models import create_model, is_model, list_models, register_model


def test_registering_an_existing_name_raises() -> None:
    def vgg(**kwargs: object) -> nn.Module:
        return nn.Identity()

    with pytest.raises(ModelError, match="'vgg' is registered twice"):
        register_model(vgg)
    assert type(create_model("vgg")).__name__ == "Vgg"


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(ModelError, match="resnet18"):
        create_model("resnet19")
    assert not is_model("resnet19")


def test_test_models_are_listed_only_on_request() -> None:
    assert "test_tiny" not in list_models()
    assert "test_tiny" in list_models(include_test=True)
    assert list_models("res*") == ["resnet18"]


def test_variant_kwargs_override_defaults_and_none_is_dropped() -> None:
    model = create_model("vgg", num_classes=3, widths=(8, 16), depth=1, drop_rate=None)
    assert model.num_classes == 3
    assert len(model.stages) == 2
    assert model.head.drop.p == 0.5  # the entrypoint's default survives an explicit None
    assert model.model_args["widths"] == (8, 16)


def test_model_args_pin_the_variants_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    from ferkit.models import _registry
    from ferkit.models.mobilenet import MobileNet

    model = create_model("mobilenet_small", num_classes=3)
    assert model.model_args["stages"] == ((16, 1, 1, 1), (32, 1, 2, 1), (48, 2, 2, 3), (128, 2, 2, 3))
    assert model.model_args["head_chs"] == 256 and model.model_args["drop_rate"] == 0.2

    def mobilenet_small(num_classes: int = 7, in_chans: int = 1, input_size: int = 48, **kwargs) -> MobileNet:
        """A later release of `mobilenet_small` with another layout."""
        args = dict(stem_chs=8, stages=((8, 1, 2, 1),), head_chs=0)
        return MobileNet(num_classes, in_chans, input_size, **{**args, **kwargs})

    monkeypatch.setitem(_registry._MODELS, "mobilenet_small", mobilenet_small)
    assert [p.shape for p in create_model("mobilenet_small", num_classes=3).parameters()] != \
        [p.shape for p in model.parameters()]
    rebuilt = create_model("mobilenet_small", **model.model_args)  # what loading a saved model file does
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in model.parameters()]
    assert rebuilt.model_args == model.model_args


def test_no_architecture_is_named_like_a_shipped_model_and_old_names_still_build() -> None:
    """`small` is the shipped weights; its architecture is `mobilenet_small`. Files and run configs written
    before the rename name `small`: they still build the same network."""
    from ferkit.models.bundled import bundled_names
    from ferkit.train.config import TrainConfig

    assert not set(list_models(include_test=True)) & set(bundled_names())
    old, new = create_model("small"), create_model("mobilenet_small")
    assert old.model_name == "mobilenet_small" and old.model_args == new.model_args and is_model("small")
    assert TrainConfig(model="small").model == "mobilenet_small"
