"""ferkit's exceptions. The CLI turns a FerkitError into a one-line message and a non-zero exit."""


class FerkitError(Exception):
    """Base class: an error the user can fix (bad input, missing file, wrong option)."""


class DataError(FerkitError, ValueError):
    """A data set, CSV row or image file is malformed; the message names the file/row and the problem."""


class ImageReadError(FerkitError, ValueError):
    """An image or video could not be read or decoded; the message names it."""


class ModelError(FerkitError, ValueError):
    """A model name, checkpoint or exported model is unknown or inconsistent."""


class ConfigError(FerkitError, ValueError):
    """A configuration key or value is invalid."""
