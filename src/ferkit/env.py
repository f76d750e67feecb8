"""The environment variables ferkit reads, read here only, so the library, the CLI and the service agree.

- `FERKIT_CACHE`: the cache root (downloads such as YuNet, and `data/` for decoded data sets); default
  `~/.cache/ferkit`.
- `FERKIT_YUNET`: a YuNet .onnx file to use instead of downloading one (offline machines).
- `FERKIT_API_KEY`, `FERKIT_CORS_ORIGINS`: `ferkit serve`'s key and allowed browser origins, settings better
  kept off a command line (visible in `ps`).

Each is read when asked for, not at import, so a process (or a test) that sets one later is honoured.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE_DIR = "FERKIT_CACHE"
ENV_YUNET_PATH = "FERKIT_YUNET"
ENV_API_KEY = "FERKIT_API_KEY"
ENV_CORS_ORIGINS = "FERKIT_CORS_ORIGINS"


def cache_dir() -> Path:
    """ferkit's cache root: $FERKIT_CACHE, else ~/.cache/ferkit."""
    return Path(os.environ.get(ENV_CACHE_DIR) or Path.home() / ".cache" / "ferkit").expanduser()


def data_cache_dir() -> Path:
    """Where decoded data sets are cached (loading FER2013 a second time takes well under 2 s)."""
    return cache_dir() / "data"


def yunet_path() -> Path | None:
    """The YuNet file $FERKIT_YUNET names, or None."""
    value = os.environ.get(ENV_YUNET_PATH)
    return Path(value).expanduser() if value else None


def api_key() -> str | None:
    """The key $FERKIT_API_KEY sets for the service, or None (an empty value counts as unset)."""
    return os.environ.get(ENV_API_KEY) or None


def cors_origins() -> tuple[str, ...]:
    """The comma-separated origins of $FERKIT_CORS_ORIGINS."""
    return tuple(o.strip() for o in os.environ.get(ENV_CORS_ORIGINS, "").split(",") if o.strip())
