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
