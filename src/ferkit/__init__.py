"""ferkit: facial expression recognition, from training to a webcam demo."""

from ferkit.constants import EMOTIONS

__version__ = "0.1.0"

__all__ = ["EMOTIONS", "__version__"]
