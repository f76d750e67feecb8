"""Model zoo. Importing this package registers every architecture module listed below."""

from ferkit.models import ensemble, mobilenet, resnet, vgg, xception  # noqa: F401  (registers the models)
from ferkit.models._registry import create_model, is_model, list_models, register_model

__all__ = ["create_model", "is_model", "list_models", "register_model"]
