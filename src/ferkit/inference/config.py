"""`RecognizerConfig`: how to build a Recognizer, as one picklable value, so that the commands that embed it
(predict, video, webcam, serve) and the workers of `ferkit.jobs` (each process building its own) describe it the
same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ferkit.config_fields import check_bounds, option
from ferkit.env import ENV_CACHE_DIR, ENV_YUNET_PATH
from ferkit.inference.detect import MIN_FACE, SCORE_THRESHOLD, DetectorName
from ferkit.inference.pipeline import DEFAULT_MODEL, Recognizer
from ferkit.models.bundled import bundled_names


@dataclass(frozen=True)
class RecognizerConfig:
    """The options of a Recognizer that the commands expose. Unset paths follow the environment (`ferkit.env`),
    as `Recognizer()` does."""

    model: str = option(DEFAULT_MODEL, f"bundled model name ({', '.join(bundled_names())}), .onnx file or "
                                                "ferkit model file")
    detector: DetectorName = option(
        "auto", "face detector; auto = YuNet on ONNX Runtime, or the Haar cascade when YuNet cannot be "
                "downloaded; yunet = YuNet on OpenCV's FaceDetectorYN")
    score_threshold: float = option(SCORE_THRESHOLD, "minimum detector score of a face", "[0, 1]")
    min_face: int = option(MIN_FACE, "smallest face side kept, pixels", "[0, inf)")
    align: bool = option(True, "rotate faces upright from the eye landmarks")
    yunet_path: Path | None = option(None, f"YuNet .onnx to use instead of downloading it (env {ENV_YUNET_PATH})")
    cache_dir: Path | None = option(None, f"download cache (env {ENV_CACHE_DIR}; else ~/.cache/ferkit)")
    download: bool = option(True, "allow downloading the YuNet model on first use")

    def __post_init__(self) -> None:
        check_bounds(self)

    def build(self) -> Recognizer:
        """The Recognizer these options describe (loads the model and the detector)."""
        return Recognizer(self.model, self.detector, score_threshold=self.score_threshold, min_face=self.min_face,
                          align=self.align, yunet_path=self.yunet_path, cache_dir=self.cache_dir,
                          download=self.download)
