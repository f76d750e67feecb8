"""Project-wide constants: the one place that states label order, input size and normalisation."""

from __future__ import annotations

# FER2013's canonical label order (the `emotion` column of fer2013.csv). Every model ferkit trains on
# the seven classes uses this order for its output units.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# FER2013 faces are 48x48 grayscale crops.
FER_INPUT_SIZE: int = 48
FER_IN_CHANS: int = 1

# Pixel mean / std of the FER2013 Training split on a 0..1 scale (measured over all 28,709 images of
# ../shared/data/fer2013/train). Models normalise inside their graph with these, so exported ONNX
# files take plain 0..1 pixels and inference can never apply a different normalisation.
FER_MEAN: float = 0.5077
FER_STD: float = 0.2550

# Share of the face box added on each side when cropping a detected (YuNet) face. 0 frames faces most
# like FER2013's crops: on 3,589 PublicTest faces staged as photos, margins -0.05/0/0.05/0.1/0.2 gave
# accuracy 0.686/0.693/0.684/0.670/0.619 with alignment (benchmarks/results/alignment.md).
FACE_MARGIN: float = 0.0
