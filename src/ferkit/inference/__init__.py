"""Inference: detect faces, classify their expressions, track them through video. Needs no torch.

Example:
    >>> from ferkit.inference import Recognizer
    >>> faces = Recognizer().predict("photo.jpg")
"""

from ferkit.inference.images import load_image, sample_image_path
from ferkit.inference.pipeline import FrameResult, Recognizer
from ferkit.inference.result import ImageResult
from ferkit.inference.track import IoUTracker
from ferkit.inference.types import Box, Detection, FacePrediction

__all__ = ["Box", "Detection", "FacePrediction", "FrameResult", "ImageResult", "IoUTracker", "Recognizer",
           "load_image", "sample_image_path"]
