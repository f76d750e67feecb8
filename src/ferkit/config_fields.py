"""How every config dataclass declares its fields: `option(default, help, bounds=...)` (a field with its CLI help
text and valid range), `required(help)`, and `nested(default, help, prefix=...)` (a field holding another config).

A range is written as an interval, `"[0, 1)"`, `"(0, inf)"`, `"[1, inf)"`, so the field says what it accepts
in the notation its help text shows, and a wrong number fails when the config is built (`check_bounds`), naming
the field and its option, instead of deep inside OpenCV or PyTorch.

A nested config is shown flat: `TrainConfig.augment.flip` is the option `--aug-flip` and the key `aug_flip` of a
run's config.json and of a recipe. `flat_fields`, `from_flat` and `to_flat` are that mapping's one owner, used by
the command line (`ferkit.apps.config_args`), recipes and saved configs alike.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ferkit.errors import ConfigError

C = TypeVar("C")


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


@dataclass(frozen=True)
class Nesting:
    """How a nested config's fields are named flat: `prefix + name`, or `rename[name]`; `exclude` lists fields
    the outer config sets itself (e.g. the data split's seed, which is the run's `--seed`)."""

    prefix: str
    rename: Mapping[str, str]
    exclude: tuple[str, ...]


def nested(default: Any, help: str, prefix: str = "", rename: Mapping[str, str] | None = None,
           exclude: tuple[str, ...] = ()) -> Any:
    """A field holding another (frozen) config dataclass, `default` its value; see `Nesting` for the flat names."""
    return field(default=default, metadata={"help": help, "nested": Nesting(prefix, dict(rename or {}), exclude)})


@dataclass(frozen=True)
class FlatField:
    """One leaf of a config as the command line, recipes and saved configs name it."""

    name: str  # flat name: `aug_flip`
    path: tuple[str, ...]  # attributes from the outer config: ("augment", "flip")
    field: dataclasses.Field
    hint: Any  # the resolved type annotation
    default: Any  # dataclasses.MISSING when the value is required

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def flat_fields(cls: type) -> list[FlatField]:
    """The leaves of config class `cls`, nested configs (one level deep) expanded by their `Nesting`; a nested
    leaf's default is its value in the outer field's default."""
    hints = typing.get_type_hints(cls)
    leaves = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        nesting: Nesting | None = f.metadata.get("nested")
        if nesting is None:
            default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
            leaves.append(FlatField(f.name, (f.name,), f, hints[f.name], default))
            continue
        for inner in flat_fields(hints[f.name]):
            if inner.name in nesting.exclude:
                continue
            name = nesting.rename.get(inner.name, nesting.prefix + inner.name)
            default = getattr(f.default, inner.name)
            leaves.append(FlatField(name, (f.name, inner.name), inner.field, inner.hint, default))
    names = [leaf.name for leaf in leaves]
    if len(set(names)) < len(names):  # a programming error: two options would share one flag
        raise TypeError(f"{cls.__name__}: flat field names repeat: {sorted(n for n in names if names.count(n) > 1)}")
    return leaves


def from_flat(cls: type[C], values: Mapping[str, Any]) -> C:
    """`cls` built from flat `values` (its defaults fill the rest). An unknown key is a ConfigError suggesting the
    closest valid one, and a value outside its range names the flat option (`--aug-erase`), not the inner field."""
    leaves = {leaf.name: leaf for leaf in flat_fields(cls)}
    for key in values:
        if key not in leaves:
            close = difflib.get_close_matches(key, leaves, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"unknown {cls.__name__} key '{key}'{hint}")
    top: dict[str, Any] = {}
    inner: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        leaf = leaves[key]
        _check_value(leaf, value)
        if len(leaf.path) == 1:
            top[key] = value
        else:
            inner.setdefault(leaf.path[0], {})[leaf.path[1]] = value
    outer_fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for name, changes in inner.items():
        top[name] = dataclasses.replace(outer_fields[name].default, **changes)
    return cls(**top)


def to_flat(config: Any) -> dict[str, Any]:
    """The flat values of `config`, one per `flat_fields` leaf: what `from_flat` turns back into it."""
    flat = {}
    for leaf in flat_fields(type(config)):
        value = config
        for attr in leaf.path:
            value = getattr(value, attr)
        flat[leaf.name] = value
    return flat


def check_bounds(config: Any) -> None:
    """Raise ConfigError for the first field of dataclass `config` whose value lies outside its `bounds`.

    None (an unset optional) is always accepted; a tuple is checked item by item.
    """
    for f in dataclasses.fields(config):
        if "bounds" in f.metadata:
            _check_value(FlatField(f.name, (f.name,), f, None, None), getattr(config, f.name))


def _check_value(leaf: FlatField, value: Any) -> None:
    bounds: Bounds | None = leaf.field.metadata.get("bounds")
    if bounds is None or value is None:
        return
    for item in value if isinstance(value, tuple) else (value,):
        if item not in bounds:
            raise ConfigError(f"{leaf.name} ({leaf.flag}) must be in {bounds.text}, got {item}")
