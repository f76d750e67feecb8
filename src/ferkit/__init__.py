"""ferkit: facial expression recognition, from training to a webcam demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferkit.constants import EMOTIONS

if TYPE_CHECKING:
    from ferkit.inference import FacePrediction, Recognizer

__version__ = "0.1.0"

__all__ = ["EMOTIONS", "FacePrediction", "Recognizer", "__version__"]


def __getattr__(name: str) -> Any:
    """`ferkit.Recognizer` and `ferkit.FacePrediction`, imported on first use so that `import ferkit` (done by
    every command and data-loader worker) does not load OpenCV and ONNX Runtime."""
    if name in ("Recognizer", "FacePrediction"):
        import ferkit.inference

        return getattr(ferkit.inference, name)
    raise AttributeError(f"module 'ferkit' has no attribute '{name}'")
