"""Map a command's config dataclass onto argparse options and back, so every command's CLI is its config.

Field `learning_rate: float` becomes `--learning-rate`; bools become `--flag/--no-flag`; tuples are
comma-separated. Defaults come from the dataclass only, so the CLI can never drift from the library.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from ferkit.errors import ConfigError

C = TypeVar("C")


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(type, optional) for `X`, `X | None`, `Optional[X]`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], True
    return tp, False


def _parser_for(tp: Any):
    base, _ = _base_type(tp)
    if typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        return lambda s: tuple(item(x.strip()) for x in s.split(",") if x.strip())
    if base is Path:
        return Path
    if base in (int, float, str):
        return base
    if typing.get_origin(base) is typing.Literal:
        return str
    raise TypeError(f"unsupported config field type {tp!r}")


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add one option per field of dataclass `cls` (help text = the field's `help` metadata)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        tp = hints[f.name]
        flags = ["--" + f.name.replace("_", "-"), *f.metadata.get("aliases", ())]
        help_text = f.metadata.get("help", "")
        if "bounds" in f.metadata:
            help_text += f"; in {f.metadata['bounds'].text}"
        base, _ = _base_type(tp)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            parser.add_argument(*flags, dest=f.name, type=_parser_for(tp), required=True, help=help_text)
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if base is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{help_text} (default: {default})")
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "type": _parser_for(tp), "default": None}
        if typing.get_origin(base) is typing.Literal:
            kwargs["choices"] = list(typing.get_args(base))
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument(*flags, help=f"{help_text} (default: {shown})", **kwargs)


def config_from_args(cls: type[C], args: argparse.Namespace, defaults: Mapping[str, Any] | None = None,
                     **overrides: Any) -> C:
    """Build `cls` from dataclass defaults < `defaults` (a recipe, the apps' default paths) < values given on
    the command line < `overrides`."""
    values = dict(defaults or {})
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
                   if f.init and getattr(args, f.name, None) is not None})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return make_config(cls, values)


def make_config(cls: type[C], values: dict[str, Any]) -> C:
    """`cls(**values)`, but an unknown key is a ConfigError that suggests the closest valid key."""
    import difflib

    names = {f.name for f in dataclasses.fields(cls) if f.init}
    for key in values:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"unknown {cls.__name__} key '{key}'{hint}")
    return cls(**values)
