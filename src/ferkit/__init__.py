"""ferkit: facial expression recognition, from training to a webcam demo."""

from ferkit.constants import EMOTIONS
from ferkit.inference import FacePrediction, Recognizer

__version__ = "0.1.0"

__all__ = ["EMOTIONS", "FacePrediction", "Recognizer", "__version__"]
