"""The REST service and web page of `ferkit serve`; `create_app` builds it, `ServeConfig` configures it."""

from ferkit.apps.service.app import create_app
from ferkit.apps.service.config import ServeConfig

__all__ = ["ServeConfig", "create_app"]
