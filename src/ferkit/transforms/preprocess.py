"""The one preprocessing path for faces, used by data readers, training and inference alike.

A face goes through two steps:
1. `prepare_face`: any image (gray, BGR, BGRA, 8 or 16 bit, any size) -> uint8 grayscale `size x size`,
   optionally contrast-equalised (CLAHE) and denoised. Data sets are stored in this form.
2. `to_model_input`: a uint8 batch `[N, H, W]` -> float `[N, 1, H, W]` on a 0..1 scale. Mean/std
   normalisation happens inside the model graph (see `ferkit.models.layers.InputNorm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from ferkit.errors import ImageReadError

ArrayT = TypeVar("ArrayT")


@dataclass(frozen=True)
class PreprocessConfig:
    """How a face crop becomes a model input; saved with every model so inference repeats it exactly."""

    input_size: int = 48  # side of the square grayscale input, pixels
    clahe: bool = False  # contrast-limited adaptive histogram equalisation before resizing
    denoise: bool = False  # fast non-local-means denoising (slow; off by default)

    def to_dict(self) -> dict:
        return {"input_size": self.input_size, "clahe": self.clahe, "denoise": self.denoise}

    @classmethod
    def from_dict(cls, d: dict) -> PreprocessConfig:
        return cls(**{k: d[k] for k in ("input_size", "clahe", "denoise") if k in d})


def to_uint8(image: np.ndarray) -> np.ndarray:
    """`image` as uint8 with its layout unchanged; a trailing single channel is dropped (`HxWx1` -> `HxW`).

    Values are read by one rule for every dtype, so that no range turns silently into a white or black image
    (and "no faces"):
    - uint8 as is;
    - any other integer type (uint16, PIL's 'I;16' and 'I', int64 from Python lists): all values within 0..255
      are 8-bit as they are (`img.astype(np.uint16)`), otherwise 0..65535 is 16-bit, scaled by 1/256;
    - float: all values within 0..1 are scaled by 255; otherwise 0..255 is taken as is (`img.astype(float)`).

    Raises:
        ImageReadError: empty arrays, boolean or complex dtypes, NaN or infinite values (named as such), and
            values outside those ranges (negative, above 65535 or 255.0), naming the range found.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(image).__name__}")
    if image.size == 0:
        raise ImageReadError(f"empty image array (shape {image.shape})")
    if image.dtype != np.uint8:
        image = _rescale(image)
    return image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image


def _rescale(image: np.ndarray) -> np.ndarray:
    """uint8 from an integer or float array of another width, by `to_uint8`'s rule."""
    is_int = np.issubdtype(image.dtype, np.integer)
    if not (is_int or np.issubdtype(image.dtype, np.floating)):
        raise ImageReadError(f"unsupported image dtype {image.dtype} (expected integers or floats)")
    if not is_int and not np.isfinite(image).all():
        found = " and ".join(kind for kind, test in (("NaN", np.isnan), ("infinite", np.isinf)) if test(image).any())
        raise ImageReadError(f"{image.dtype} image holds {found} values; expected finite values within 0..1 or "
                             "0..255")
    low, high = image.min(), image.max()
    if is_int and low >= 0 and high <= 65535:
        return (image if high <= 255 else image >> 8).astype(np.uint8)
    if not is_int and low >= 0 and high <= 255:
        scale = 255.0 if high <= 1.0 else 1.0
        return np.clip(image * scale + 0.5, 0, 255).astype(np.uint8)
    expected = "0..255 or 0..65535" if is_int else "0..1 or 0..255"
    raise ImageReadError(f"{image.dtype} image values span {low}..{high}; expected {expected} "
                         "(convert or rescale the array to one of these)")


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return a uint8 single-channel view of `image` (gray, BGR, BGRA; uint8, uint16 or float 0..1).

    Raises:
        ImageReadError (a ValueError): on shapes or dtypes that are not an image.
    """
    image = to_uint8(image)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ImageReadError(f"unsupported image shape {image.shape} (expected HxW, HxWx1, HxWx3 or HxWx4)")


_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))


def prepare_face(image: np.ndarray, cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Turn one face crop into the uint8 `input_size x input_size` grayscale form models are trained on."""
    gray = to_gray(image)
    if cfg.denoise:
        gray = cv2.fastNlMeansDenoising(gray, None, h=5, templateWindowSize=7, searchWindowSize=21)
    gray = _resize(gray, cfg.input_size)
    if cfg.clahe:
        gray = _CLAHE.apply(gray)
    return np.ascontiguousarray(gray)


def prepare_faces(images: list[np.ndarray], cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Batch form of `prepare_face`: returns uint8 `[N, S, S]` (an empty `[0, S, S]` for no faces)."""
    if not images:
        return np.zeros((0, cfg.input_size, cfg.input_size), np.uint8)
    return np.stack([prepare_face(im, cfg) for im in images])


def _resize(gray: np.ndarray, size: int) -> np.ndarray:
    """`gray` at `size x size`: area averaging when it shrinks, bilinear when it grows."""
    if gray.shape == (size, size):
        return gray
    interp = cv2.INTER_AREA if gray.shape[0] > size or gray.shape[1] > size else cv2.INTER_LINEAR
    return cv2.resize(gray, (size, size), interpolation=interp)


def resize_faces(faces: np.ndarray, size: int) -> np.ndarray:
    """uint8 faces `[N, H, W]` at `[N, size, size]`, as `prepare_face` resizes one: so FER2013's 48 px faces run on
    a model of another input size (the shipped `base` takes 44 px)."""
    if faces.shape[1:] == (size, size):
        return faces
    return np.stack([_resize(face, size) for face in faces]) if len(faces) else np.zeros((0, size, size), np.uint8)


def to_model_input(faces: ArrayT) -> ArrayT:
    """uint8 `[N, H, W]` -> float32 `[N, 1, H, W]` on 0..1; works on numpy arrays and torch tensors alike."""
    if isinstance(faces, np.ndarray):
        return (faces.astype(np.float32) * (1.0 / 255.0))[:, None]
    return (faces.float() * (1.0 / 255.0)).unsqueeze(1)  # torch.Tensor, kept on its device
