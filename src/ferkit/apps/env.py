"""The only place the apps layer reads environment variables for paths (library code takes arguments)."""

from __future__ import annotations

import os
from pathlib import Path

from ferkit.constants import ENV_CACHE_DIR


def default_cache_dir() -> Path:
    """ferkit's cache root: $FERKIT_CACHE, else ~/.cache/ferkit."""
    return Path(os.environ.get(ENV_CACHE_DIR) or Path.home() / ".cache" / "ferkit").expanduser()


def default_data_cache_dir() -> Path:
    """Where decoded data sets are cached (loading FER2013 a second time takes well under 2 s)."""
    return default_cache_dir() / "data"
