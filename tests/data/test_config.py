"""DataConfig validation and the preprocessing it implies."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferkit.data.config import DataConfig
from ferkit.errors import ConfigError
from ferkit.transforms.preprocess import PreprocessConfig


def test_strings_become_paths_and_tuples():
    cfg = DataConfig(path="data/fer2013", classes=["happy", "sad"], cache_dir="/tmp/c")  # type: ignore[arg-type]
    assert cfg.path == Path("data/fer2013") and cfg.cache_dir == Path("/tmp/c")
    assert cfg.classes == ("happy", "sad")
    assert cfg == DataConfig(path=Path("data/fer2013"), classes=("happy", "sad"), cache_dir=Path("/tmp/c"))


def test_home_is_expanded():
    assert DataConfig(path=Path("~/faces.csv")).path == Path.home() / "faces.csv"


def test_preprocess_carries_the_pixel_settings():
    cfg = DataConfig(path=Path("x"), input_size=64, clahe=True)
    assert cfg.preprocess == PreprocessConfig(input_size=64, clahe=True, denoise=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"val_fraction": 1.0}, r"val_fraction \(--val-fraction\) must be in \[0, 1\)"),
    ({"val_fraction": -0.1}, r"val_fraction \(--val-fraction\) must be in \[0, 1\)"),
    ({"input_size": 4}, r"input_size \(--input-size\) must be in \[8, inf\)"),
])
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DataConfig(path=Path("x"), **kwargs)


def test_a_models_data_config_keeps_its_extra_classes_and_preprocessing() -> None:
    cfg = DataConfig.for_model(Path("faces"), ("happy", "sad", "contempt"), PreprocessConfig(input_size=40, clahe=True),
                               seed=3)
    assert cfg.classes == ("happy", "sad", "contempt") and cfg.extra_classes == ("contempt",)
    assert cfg.preprocess == PreprocessConfig(input_size=40, clahe=True) and cfg.seed == 3
