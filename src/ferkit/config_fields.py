"""`option(default, help)`: a dataclass field carrying its CLI help text, shared by every command config."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def option(default: Any, help: str) -> Any:
    """A config field with a default and the help text `ferkit.apps.config_args` shows for its option."""
    return field(default=default, metadata={"help": help})


def required(help: str) -> Any:
    """A config field without a default: the command line must give it."""
    return field(metadata={"help": help})
