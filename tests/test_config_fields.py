"""Config fields: declared ranges are enforced where a config is built, and shown in the CLI help."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ferkit.apps.cli import main
from ferkit.config_fields import Bounds, check_bounds, option
from ferkit.errors import ConfigError


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
