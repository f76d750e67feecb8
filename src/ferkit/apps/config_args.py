"""Map a command's config dataclass onto argparse options and back, so every command's CLI is its config.

Field `learning_rate: float` becomes `--learning-rate`; bools become `--flag/--no-flag`; tuples are
comma-separated; a nested config's fields appear under their flat names (`ferkit.config_fields.flat_fields`:
`TrainConfig.augment.flip` is `--aug-flip`). Defaults come from the dataclass only, so the CLI can never drift
from the library.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from ferkit.config_fields import flat_fields, from_flat

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
    """Add one option per flat field of dataclass `cls` (help text = the field's `help` metadata)."""
    for leaf in flat_fields(cls):
        if leaf.name in skip:
            continue
        flags = [leaf.flag, *leaf.field.metadata.get("aliases", ())]
        help_text = leaf.field.metadata.get("help", "")
        if "bounds" in leaf.field.metadata:
            help_text += f"; in {leaf.field.metadata['bounds'].text}"
        base, _ = _base_type(leaf.hint)
        if leaf.default is dataclasses.MISSING:
            parser.add_argument(*flags, dest=leaf.name, type=_parser_for(leaf.hint), required=True, help=help_text)
            continue
        if base is bool:
            parser.add_argument(*flags, dest=leaf.name, action=argparse.BooleanOptionalAction, default=None,
                                help=f"{help_text} (default: {leaf.default})")
            continue
        kwargs: dict[str, Any] = {"dest": leaf.name, "type": _parser_for(leaf.hint), "default": None}
        if typing.get_origin(base) is typing.Literal:
            kwargs["choices"] = list(typing.get_args(base))
        shown = ",".join(map(str, leaf.default)) if isinstance(leaf.default, tuple) else leaf.default
        parser.add_argument(*flags, help=f"{help_text} (default: {shown})", **kwargs)


def given_options(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The flat fields of `cls` given on the command line (argparse leaves the others None)."""
    return {leaf.name: getattr(args, leaf.name) for leaf in flat_fields(cls)
            if getattr(args, leaf.name, None) is not None}


def config_from_args(cls: type[C], args: argparse.Namespace, defaults: Mapping[str, Any] | None = None,
                     **overrides: Any) -> C:
    """Build `cls` from dataclass defaults < `defaults` (a recipe, the environment) < values given on the
    command line < `overrides`, all keyed by flat field name."""
    values = {**(defaults or {}), **given_options(cls, args)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return from_flat(cls, values)
