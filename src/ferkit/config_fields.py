"""`option(default, help, bounds=...)`: a dataclass field carrying its CLI help text and its valid range, shared
by every command config, and `check_bounds`, which every config calls where it is built.

A range is written as an interval, `"[0, 1)"`, `"(0, inf)"`, `"[1, inf)"`, so the field says what it accepts
in the notation its help text shows, and a wrong number fails when the config is built, naming the field and
its option, instead of deep inside OpenCV or PyTorch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ferkit.errors import ConfigError


@dataclass(frozen=True)
class Bounds:
    """A closed, open or half-open interval of numbers."""

    low: float
    high: float
    low_open: bool
    high_open: bool
    text: str

    @classmethod
    def parse(cls, text: str) -> Bounds:
        """`"[0, 1)"` -> 0 <= x < 1; `inf` stands for no upper bound."""
        left, right = text[0], text[-1]
        if left not in "[(" or right not in "])":
            raise ValueError(f"bounds must look like '[0, 1)', got {text!r}")
        low, high = (float(part) for part in text[1:-1].split(","))
        return cls(low, high, left == "(", right == ")", text)

    def __contains__(self, value: float) -> bool:
        if isinstance(value, float) and math.isnan(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


def option(default: Any, help: str, bounds: str | None = None) -> Any:
    """A config field with a default, the help text `ferkit.apps.config_args` shows for its option and, for a
    number (or a tuple of numbers), the interval every value must lie in."""
    metadata: dict[str, Any] = {"help": help}
    if bounds is not None:
        metadata["bounds"] = Bounds.parse(bounds)
    return field(default=default, metadata=metadata)


def required(help: str, aliases: tuple[str, ...] = ()) -> Any:
    """A config field without a default: the command line must give it (also as any of `aliases`, old option
    names kept working)."""
    return field(metadata={"help": help, "aliases": aliases})


def check_bounds(config: Any) -> None:
    """Raise ConfigError for the first field of dataclass `config` whose value lies outside its `bounds`.

    None (an unset optional) is always accepted; a tuple is checked item by item.
    """
    for f in dataclasses.fields(config):
        bounds: Bounds | None = f.metadata.get("bounds")
        value = getattr(config, f.name)
        if bounds is None or value is None:
            continue
        for item in value if isinstance(value, tuple) else (value,):
            if item not in bounds:
                flag = "--" + f.name.replace("_", "-")
                raise ConfigError(f"{f.name} ({flag}) must be in {bounds.text}, got {item}")
