"""`DataConfig`: which faces to load and how, shared by training, evaluation and the data CLI options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ferkit.config_fields import check_bounds, option, required
from ferkit.transforms.preprocess import PreprocessConfig

# How FER+ votes become labels and targets (`ferkit.data.ferplus` says what each mode does).
LabelMode = Literal["majority", "probability", "crossentropy", "multi_target", "plurality"]
EvalLabelMode = Literal["majority", "plurality"]


@dataclass(frozen=True)
class DataConfig:
    """Where the faces come from, which classes to keep, how to preprocess them and how to split them."""

    path: Path = required("fer2013.csv, Kaggle-layout folder with train/ and test/, any class-per-folder set, "
                          ".npz face-array file, or FER+ votes: a FERPlus folder (FER2013Train/, FER2013Valid/) or "
                          "fer2013new.csv beside fer2013.csv")
    classes: tuple[str, ...] = option((), "class subset in output order, e.g. happy,sad,neutral (default: all seven)")
    extra_classes: tuple[str, ...] = option((), "classes outside the canonical seven to keep, e.g. contempt "
                                                "(appended after the classes)")
    label_mode: LabelMode = option("majority", "FER+ only: how the training faces' ten votes become targets "
                                               "(Barsoum et al. 2016): majority, probability (one label drawn "
                                               "from the votes each step), crossentropy (the vote distribution), "
                                               "multi_target, or plurality")
    eval_label_mode: EvalLabelMode = option("majority", "FER+ only: how validation and test faces are labelled: "
                                                        "majority (the paper's protocol: faces without one are "
                                                        "left out) or plurality")
    ferplus_classes: int = option(8, "FER+ only: 8 classes (FER2013's seven, then contempt), or 7 (faces labelled "
                                     "contempt left out, contempt votes dropped from the targets)", "[7, 8]")
    input_size: int = option(48, "side of the square grayscale face, pixels", "[8, inf)")
    clahe: bool = option(False, "CLAHE contrast equalisation in preprocessing")
    denoise: bool = option(False, "non-local-means denoising in preprocessing (slow)")
    skip_bad: bool = option(False, "skip malformed rows and files, counting them in a warning, instead of failing")
    val_fraction: float = option(0.1, "validation share (stratified, seeded) for data sets without a validation "
                                      "split", "[0, 1)")
    seed: int = option(0, "seed of the held-out validation split")
    cache_dir: Path | None = option(None, "folder for cached decoded faces; unset = $FERKIT_CACHE/data on the "
                                          "command line (default ~/.cache/ferkit/data), no cache in the Python API")

    def __post_init__(self) -> None:
        # Accept plain strings and "~" (from YAML or Python callers) but store Paths, so equality and hashing hold.
        object.__setattr__(self, "path", Path(self.path).expanduser())
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "extra_classes", tuple(self.extra_classes))
        check_bounds(self)

    @classmethod
    def for_model(cls, path: Path, classes: tuple[str, ...], preprocess: PreprocessConfig, **options) -> DataConfig:
        """The faces of `path` as a model of `classes` (contempt and other non-canonical ones kept) prepared by
        `preprocess` sees them: what evaluation, int8 calibration and benchmarks load."""
        from ferkit.data.labels import is_canonical

        return cls(path=path, classes=classes, extra_classes=tuple(c for c in classes if not is_canonical(c)),
                   input_size=preprocess.input_size, clahe=preprocess.clahe, denoise=preprocess.denoise, **options)

    @property
    def preprocess(self) -> PreprocessConfig:
        """The preprocessing every face of this data set goes through (and that the model will carry)."""
        return PreprocessConfig(input_size=self.input_size, clahe=self.clahe, denoise=self.denoise)
