"""ServeConfig: every setting of `ferkit serve`; the API key and CORS origins may come from the environment
(`ferkit.env`, which also gives the recognizer its paths)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ferkit import env
from ferkit.config_fields import check_bounds, nested, option
from ferkit.env import ENV_API_KEY, ENV_CORS_ORIGINS
from ferkit.errors import ConfigError
from ferkit.inference.config import RecognizerConfig
from ferkit.transforms.decode import MAX_PIXELS


@dataclass(frozen=True)
class ServeConfig:
    """Settings of the REST service and web page; defaults suit one machine serving a handful of clients."""

    host: str = option("127.0.0.1", "interface to listen on (0.0.0.0 for all)")
    port: int = option(8000, "TCP port", "[1, 65535]")
    recognizer: RecognizerConfig = nested(RecognizerConfig(), "the model and the face detector; "
                                          "score_threshold and align are each request's defaults")
    max_upload_bytes: int = option(10 * 1024 * 1024, "largest request body (413)", "[1, inf)")
    max_pixels: int = option(MAX_PIXELS, "largest image width*height (413)", "[1, inf)")
    max_batch_images: int = option(16, "most images in one batch request", "[1, inf)")
    # A worker decodes and searches ~65 megapixels/s (issue #13: 16 images of 49 Mpx held one ~12 s); a batch at
    # this limit takes ~1.5 s of a worker's time: two images at max_pixels, well inside request_timeout_s.
    max_batch_pixels: int = option(2 * MAX_PIXELS, "most width*height summed over the images of one batch "
                                                   "request (413)", "[1, inf)")
    workers: int = option(2, "inference threads", "[1, inf)")
    queue_size: int = option(16, "requests waiting for a worker before 503", "[0, inf)")
    request_timeout_s: float = option(10.0, "per-request limit, upload to answer (504)", "(0, inf)")
    max_connections: int = option(128, "open connections before the server answers 503", "[1, inf)")
    # Browsers open at most 6 connections to one host (Chrome, Firefox): 16 leaves room for two browsers and a
    # script behind one address, while one address alone can no longer take all max_connections.
    max_connections_per_client: int = option(16, "open connections from one IP address before it gets 503",
                                             "[1, inf)")
    # 5 s is uvicorn's own keep-alive timeout, which HTTP clients of uvicorn services already live with. A request
    # head is a few hundred bytes, one TCP segment: it needs one round trip, not seconds.
    idle_timeout_s: float = option(5.0, "close a connection that has no request in progress after this long",
                                   "(0, inf)")
    header_timeout_s: float = option(5.0, "a request's headers must all arrive within this long of its first byte "
                                          "(408)", "(0, inf)")
    cors_origins: tuple[str, ...] = option((), "origins allowed to call the API from a browser "
                                               f"(or env {ENV_CORS_ORIGINS})")
    api_key: str | None = option(None, f"require this X-API-Key (or env {ENV_API_KEY})")

    def __post_init__(self) -> None:
        check_bounds(self)
        if self.max_batch_pixels < self.max_pixels:
            raise ConfigError(f"ServeConfig.max_batch_pixels ({self.max_batch_pixels:,}) must be at least max_pixels "
                              f"({self.max_pixels:,}), or a batch could refuse an image that /v1/predict takes")
        if "*" in self.cors_origins and self.api_key:
            raise ConfigError("cors_origins '*' with an api_key would let any web site use the key; list origins")


def config_values_from_env() -> dict[str, Any]:
    """ServeConfig fields the environment sets (`ferkit.env`); CLI options go on top."""
    values: dict[str, Any] = {}
    if api_key := env.api_key():
        values["api_key"] = api_key
    if origins := env.cors_origins():
        values["cors_origins"] = origins
    return values
