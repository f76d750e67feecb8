"""Importing this module registers every architecture: add a new family's module here."""

from ferkit.models import ensemble, mobilenet, resnet, vgg, xception  # noqa: F401
