"""ServeConfig: every setting of `ferkit serve`, and the only place the service reads environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ferkit.constants import ENV_YUNET_PATH
from ferkit.errors import ConfigError
from ferkit.inference.detect import DetectorName
from ferkit.transforms.decode import MAX_PIXELS

# Secrets and deployment settings that are better not typed on a command line (visible in `ps`).
ENV_API_KEY = "FERKIT_API_KEY"
ENV_CORS_ORIGINS = "FERKIT_CORS_ORIGINS"


@dataclass(frozen=True)
class ServeConfig:
    """Settings of the REST service and web page; defaults suit one machine serving a handful of clients."""

    host: str = field(default="127.0.0.1", metadata={"help": "interface to listen on (0.0.0.0 for all)"})
    port: int = field(default=8000, metadata={"help": "TCP port"})
    # The fast bundled model: 'large' (an ensemble) is more accurate but classifies ~7 faces/s on 2 cores.
    model: str = field(default="small", metadata={"help": "bundled model name (small, large) or a model file"})
    detector: DetectorName = field(default="auto", metadata={"help": "face detector (auto: YuNet, else Haar)"})
    yunet_path: str | None = field(default=None, metadata={"help": f"YuNet .onnx file (or env {ENV_YUNET_PATH})"})
    score_threshold: float = field(default=0.7, metadata={"help": "default minimum face detection score"})
    align: bool = field(default=True, metadata={"help": "rotate faces upright by their eyes before classifying"})
    max_upload_bytes: int = field(default=10 * 1024 * 1024, metadata={"help": "largest request body (413)"})
    max_pixels: int = field(default=MAX_PIXELS, metadata={"help": "largest image width*height (413)"})
    max_batch_images: int = field(default=16, metadata={"help": "most images in one batch request"})
    # A worker decodes and searches ~65 megapixels/s (issue #13: 16 images of 49 Mpx held one ~12 s); a batch at
    # this limit takes ~1.5 s of a worker's time: two images at max_pixels, well inside request_timeout_s.
    max_batch_pixels: int = field(default=2 * MAX_PIXELS, metadata={"help": "most width*height summed over the "
                                                                         "images of one batch request (413)"})
    workers: int = field(default=2, metadata={"help": "inference threads"})
    queue_size: int = field(default=16, metadata={"help": "requests waiting for a worker before 503"})
    request_timeout_s: float = field(default=10.0, metadata={"help": "per-request limit, upload to answer (504)"})
    max_connections: int = field(default=128, metadata={"help": "open connections before the server answers 503"})
    # Browsers open at most 6 connections to one host (Chrome, Firefox): 16 leaves room for two browsers and a
    # script behind one address, while one address alone can no longer take all max_connections.
    max_connections_per_client: int = field(default=16, metadata={"help": "open connections from one IP address "
                                                                          "before it gets 503"})
    # 5 s is uvicorn's own keep-alive timeout, which HTTP clients of uvicorn services already live with. A request
    # head is a few hundred bytes, one TCP segment: it needs one round trip, not seconds.
    idle_timeout_s: float = field(default=5.0, metadata={"help": "close a connection that has no request in "
                                                                 "progress after this long"})
    header_timeout_s: float = field(default=5.0, metadata={"help": "a request's headers must all arrive within "
                                                                   "this long of its first byte (408)"})
    cors_origins: tuple[str, ...] = field(
        default=(), metadata={"help": f"origins allowed to call the API from a browser (or env {ENV_CORS_ORIGINS})"}
    )
    api_key: str | None = field(default=None, metadata={"help": f"require this X-API-Key (or env {ENV_API_KEY})"})

    def __post_init__(self) -> None:
        positive = ("port", "max_upload_bytes", "max_pixels", "max_batch_images", "max_batch_pixels", "workers",
                    "request_timeout_s", "max_connections", "max_connections_per_client", "idle_timeout_s",
                    "header_timeout_s")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"ServeConfig.{name} must be positive, got {getattr(self, name)}")
        if self.queue_size < 0:
            raise ConfigError(f"ServeConfig.queue_size must be >= 0, got {self.queue_size}")
        if self.max_batch_pixels < self.max_pixels:
            raise ConfigError(f"ServeConfig.max_batch_pixels ({self.max_batch_pixels:,}) must be at least max_pixels "
                              f"({self.max_pixels:,}), or a batch could refuse an image that /v1/predict takes")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ConfigError(f"ServeConfig.score_threshold must be in [0, 1], got {self.score_threshold}")
        if "*" in self.cors_origins and self.api_key:
            raise ConfigError("cors_origins '*' with an api_key would let any web site use the key; list origins")


def config_values_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """ServeConfig fields set by environment variables (`environ`, default os.environ); CLI options go on top."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if environ.get(ENV_API_KEY):
        values["api_key"] = environ[ENV_API_KEY]
    if environ.get(ENV_CORS_ORIGINS):
        values["cors_origins"] = tuple(o.strip() for o in environ[ENV_CORS_ORIGINS].split(",") if o.strip())
    if environ.get(ENV_YUNET_PATH):
        values["yunet_path"] = environ[ENV_YUNET_PATH]
    return values

