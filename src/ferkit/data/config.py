"""`DataConfig`: which faces to load and how, shared by training, evaluation and the data CLI options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ferkit.errors import ConfigError
from ferkit.transforms.preprocess import PreprocessConfig


@dataclass(frozen=True)
class DataConfig:
    """Where the faces come from, which classes to keep, how to preprocess them and how to split them."""

    path: Path = field(metadata={"help": "a fer2013.csv, a Kaggle-layout folder with train/ and test/, "
                                         "any class-per-folder set, or a .npz face-array file"})
    classes: tuple[str, ...] = field(default=(), metadata={
        "help": "classes to keep, in output order, e.g. happy,sad,neutral; empty = the canonical seven"})
    extra_classes: tuple[str, ...] = field(default=(), metadata={
        "help": "classes outside the canonical seven to keep (e.g. contempt), appended after `classes`"})
    input_size: int = field(default=48, metadata={"help": "side of the square grayscale face, pixels"})
    clahe: bool = field(default=False, metadata={"help": "contrast-limited histogram equalisation"})
    denoise: bool = field(default=False, metadata={"help": "non-local-means denoising (slow)"})
    val_fraction: float = field(default=0.1, metadata={
        "help": "share held out for validation (stratified, seeded) when a data set has no validation split"})
    seed: int = field(default=0, metadata={"help": "seed of the held-out validation split"})
    skip_bad: bool = field(default=False, metadata={
        "help": "skip malformed rows/files and count them in a warning instead of failing"})
    cache_dir: Path | None = field(default=None, metadata={
        "help": "folder for cached uint8 face arrays; unset = no cache"})

    def __post_init__(self) -> None:
        # Accept plain strings and "~" (from YAML or Python callers) but store Paths, so equality and hashing hold.
        object.__setattr__(self, "path", Path(self.path).expanduser())
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "extra_classes", tuple(self.extra_classes))
        if self.input_size < 8:
            raise ConfigError(f"input_size must be at least 8 pixels, got {self.input_size}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    @property
    def preprocess(self) -> PreprocessConfig:
        """The preprocessing every face of this data set goes through (and that the model will carry)."""
        return PreprocessConfig(input_size=self.input_size, clahe=self.clahe, denoise=self.denoise)
