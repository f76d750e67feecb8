"""Config fields: declared ranges are enforced where a config is built, and shown in the CLI help."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ferkit.apps.cli import main
from ferkit.config_fields import Bounds, check_bounds, flat_fields, from_flat, nested, option, to_flat
from ferkit.data import DataConfig
from ferkit.errors import ConfigError
from ferkit.train.config import TrainConfig


@dataclass(frozen=True)
class _Config:
    share: float = option(0.5, "a share", "[0, 1)")
    count: int = option(1, "a count", "(0, inf)")
    sizes: tuple[int, ...] = option((1, 2), "sizes", "[1, 10]")
    limit: float | None = option(None, "optional", "[0, 1]")

    def __post_init__(self) -> None:
        check_bounds(self)


@pytest.mark.parametrize("text, inside, outside", [
    ("[0, 1)", [0, 0.5, 0.999], [-0.1, 1, float("nan")]),
    ("(0, inf)", [1e-9, 1e9], [0, -1]),
    ("[1, 10]", [1, 10], [0, 11]),
])
def test_intervals_contain_what_their_brackets_say(text: str, inside: list[float], outside: list[float]):
    bounds = Bounds.parse(text)
    assert all(v in bounds for v in inside) and not any(v in bounds for v in outside)


@pytest.mark.parametrize("kwargs, message", [
    ({"share": 1.0}, r"share \(--share\) must be in \[0, 1\), got 1.0"),
    ({"count": 0}, r"count \(--count\) must be in \(0, inf\), got 0"),
    ({"sizes": (3, 11)}, r"sizes \(--sizes\) must be in \[1, 10\], got 11"),
    ({"limit": 2.0}, r"limit \(--limit\) must be in \[0, 1\], got 2.0"),
])
def test_a_value_outside_its_range_is_refused_naming_field_and_option(kwargs: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        _Config(**kwargs)


def test_unset_optionals_and_values_inside_pass():
    assert _Config(share=0.0, count=3, sizes=(10,), limit=None).count == 3


def test_ranges_appear_in_the_cli_help(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        main(["video", "--help"])
    assert "in [1, inf)" in capsys.readouterr().out.replace("\n", " ")


@pytest.mark.parametrize("argv, option", [
    (["train", "--lr", "0", "--print-config"], "--lr"),
    (["train", "--aug-erase", "1.5", "--print-config"], "--aug-erase"),
    (["train", "--devices", "zero", "--print-config"], "--devices"),
    (["tune", "--timeout-s", "-1"], "--timeout-s"),
    (["export", "model.pt", "--onnx", "m.onnx", "--calibration-faces", "0"], "--calibration-faces"),
    (["webcam", "--smoothing", "1.0"], "--smoothing"),
])
def test_every_command_names_an_out_of_range_option(argv: list[str], option: str,
                                                    capsys: pytest.CaptureFixture[str]):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"({option}) must" in err and "Traceback" not in err


@dataclass(frozen=True)
class _Inner:
    strength: float = option(0.5, "a strength", "[0, 1]")
    path: str = option("in", "a path")
    seed: int = option(0, "set by the outer config")


@dataclass(frozen=True)
class _Outer:
    inner: _Inner = nested(_Inner(strength=0.25), "the inner part", prefix="in_", rename={"path": "source"},
                           exclude=("seed",))
    count: int = option(1, "a count", "(0, inf)")


def test_nested_fields_are_named_flat_with_prefix_rename_and_exclusions():
    leaves = {leaf.name: leaf for leaf in flat_fields(_Outer)}
    assert list(leaves) == ["in_strength", "source", "count"]
    assert leaves["in_strength"].default == 0.25  # the outer default's value, not the inner class default
    assert leaves["source"].path == ("inner", "path") and leaves["source"].flag == "--source"


def test_from_flat_and_to_flat_are_inverse_and_keep_the_outer_defaults():
    config = from_flat(_Outer, {"source": "x", "count": 3})
    assert config == _Outer(inner=_Inner(strength=0.25, path="x"), count=3)
    assert to_flat(config) == {"in_strength": 0.25, "source": "x", "count": 3}
    assert from_flat(_Outer, to_flat(config)) == config


def test_a_nested_value_out_of_range_names_the_flat_option():
    with pytest.raises(ConfigError, match=r"in_strength \(--in-strength\) must be in \[0, 1\], got 2"):
        from_flat(_Outer, {"in_strength": 2})


def test_an_unknown_flat_key_suggests_the_closest():
    with pytest.raises(ConfigError, match="unknown _Outer key 'in_strenght'; did you mean 'in_strength'"):
        from_flat(_Outer, {"in_strenght": 0.1})


def test_train_options_keep_their_names_and_reach_the_nested_configs(capsys: pytest.CaptureFixture[str]):
    from ferkit.train.augment import AugmentConfig

    assert main(["train", "--data", "faces/", "--skip-bad", "--denoise", "--aug-rotate", "5", "--seed", "3",
                 "--print-config"]) == 0
    printed = json.loads(capsys.readouterr().out)
    config = TrainConfig.from_dict(printed)
    faces = Path("faces").resolve()  # stored absolute: the run's folder is read from anywhere
    assert (config.data.path, config.data.skip_bad, config.data.denoise) == (faces, True, True)
    assert config.data.seed == 3  # the run's --seed also seeds the data split
    assert config.augment == replace(AugmentConfig(), rotate=5.0)
    assert "rotate" not in printed and printed["aug_rotate"] == 5.0 and printed["data"] == str(faces)


def test_a_run_config_written_before_nesting_still_loads():
    old = {"data": "d.npz", "classes": ["happy", "sad"], "input_size": 40, "cache_dir": "/c", "aug_rotate": 15.0,
           "aug_erase": 0.5, "model": "small", "epochs": 3, "seed": 2}
    config = TrainConfig.from_dict(old)
    assert config.data == DataConfig(path=Path("d.npz"), classes=("happy", "sad"), input_size=40,
                                     cache_dir=Path("/c"), seed=2)
    assert (config.augment.rotate, config.augment.erase, config.epochs) == (15.0, 0.5, 3)
