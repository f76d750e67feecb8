"""How `ferkit serve` puts the app on the network: the uvicorn settings that come from `ServeConfig`.

The app itself (routes, limits on uploads and inference) is `app.py`; this file owns what happens per
connection, before a request reaches the app.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from ferkit.apps.service.config import ServeConfig


def uvicorn_config(app: Any, config: ServeConfig, **settings: Any) -> uvicorn.Config:
    """The uvicorn configuration serving `app` under `config`; `settings` adds uvicorn's own (logging, ...)."""
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        limit_concurrency=config.max_connections,
        ws_max_size=config.max_upload_bytes,
        **settings,
    )
