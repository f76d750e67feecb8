"""`ferkit serve`: the REST API, its OpenAPI docs and the web page, on one uvicorn server.

Settings: ServeConfig defaults < environment (FERKIT_API_KEY, FERKIT_CORS_ORIGINS; FERKIT_YUNET and FERKIT_CACHE
through `ferkit.env`, as everywhere) < options.
The API key is read from the environment only, so it never shows in the process list.
"""

from __future__ import annotations

import argparse
import logging
import os

from ferkit.apps.config_args import add_config_arguments, config_from_args
from ferkit.apps.service.config import ServeConfig, config_values_from_env
from ferkit.errors import FerkitError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, ServeConfig, skip=("api_key",))


def run(args: argparse.Namespace) -> int:
    import cv2
    import uvicorn

    from ferkit.apps.service import create_app
    from ferkit.apps.service.logs import JsonLineFormatter
    from ferkit.apps.service.server import uvicorn_config

    config = config_from_args(ServeConfig, args, defaults=config_values_from_env())
    for handler in logging.getLogger().handlers:  # one JSON object per line, for log collectors
        handler.setFormatter(JsonLineFormatter())
    # Parallelism comes from the workers; OpenCV threads inside each would only compete for the same cores
    # (measured: 2 workers x 1 thread gave 1.6x the predictions/s of 1 worker x 2 threads on 2 cores).
    cv2.setNumThreads(max(1, (os.cpu_count() or 1) // config.workers))
    log.info("serving on http://%s:%d (web page at /, API docs at /docs, API key %s)", config.host, config.port,
             "required" if config.api_key else "not required")
    app = create_app(config)
    server = uvicorn.Server(uvicorn_config(
        app,
        config,
        log_config=None,  # keep the JSON handlers set above
        access_log=False,  # ferkit.access logs each request with its latency instead
    ))
    try:
        server.run()
    except SystemExit:  # uvicorn exits when the app fails to start; name the cause (e.g. an unknown model)
        startup_error: FerkitError | None = getattr(app.state, "startup_error", None)
        if startup_error is None:
            raise
        raise startup_error from None
    return 0
