"""Turn whatever the caller hands us (a path, a NumPy array, a PIL image) into one form: BGR uint8 HxWx3.

Detectors want three 8-bit channels; classification later converts to gray with the shared
`ferkit.transforms.to_gray`. Colour order of arrays is the caller's to state (`color="bgr"` or `"rgb"`),
because an array carries no record of it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from ferkit.errors import ImageReadError
from ferkit.transforms.decode import MAX_PIXELS, decode
from ferkit.transforms.preprocess import to_uint8

ColorOrder = Literal["bgr", "rgb"]
ImageInput = Any  # str | Path | np.ndarray | PIL.Image.Image; PIL stays an optional import

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")


def read_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as BGR uint8 (EXIF orientation applied; 16-bit scaled to 8; alpha dropped).

    Raises:
        ImageReadError: naming the file, when it is missing, empty, larger than `max_pixels` by its header
            (checked before decoding), or not an image OpenCV or Pillow can decode.
    """
    path = Path(path)
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    image = decode(data, str(path), cv2.IMREAD_COLOR, max_pixels)
    if image is None:
        image = _read_with_pillow(path)  # formats OpenCV lacks (e.g. animated GIF)
    return image


def _read_with_pillow(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return pil_to_bgr(im)
    except ImageReadError:
        raise
    except Exception as exc:  # Pillow's format plugins raise many types on corrupt data
        raise ImageReadError(f"{path}: not a readable image") from exc


def pil_to_bgr(image: Any) -> np.ndarray:
    """A PIL image (any mode: L, RGB, RGBA, P, I;16, ...) as BGR uint8; pixels wider than 8 bits are read by
    their value range (`to_uint8`).

    Raises:
        ImageReadError: Pillow cannot decode the image's pixels (a truncated or closed file), in one line.
    """
    try:
        if image.mode.startswith("I;16"):
            return to_bgr(np.array(image, dtype=np.uint16))
        if image.mode in ("I", "F"):  # 32-bit integer or float pixels
            return to_bgr(np.asarray(image))
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        return to_bgr(np.asarray(image), color="rgb")
    except ImageReadError:
        raise
    except Exception as exc:  # Pillow raises OSError, ValueError, SyntaxError, ... on pixels it cannot decode
        name = getattr(image, "filename", "") or "PIL image"
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise ImageReadError(f"{name}: cannot be read ({reason})") from exc


def to_bgr(image: np.ndarray, color: ColorOrder = "bgr") -> np.ndarray:
    """An array in any common layout as BGR uint8 `HxWx3`.

    Accepts gray `HxW`/`HxWx1`, 3-channel and 4-channel (alpha dropped) arrays in `color` order: uint8,
    uint16 (scaled by 1/256), other integers and floats by their value range (see `to_uint8`).

    Raises:
        ImageReadError: empty arrays, or shapes and dtypes that are not an image.
    """
    image = to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        code = {(3, "bgr"): None, (3, "rgb"): cv2.COLOR_RGB2BGR,
                (4, "bgr"): cv2.COLOR_BGRA2BGR, (4, "rgb"): cv2.COLOR_RGBA2BGR}[image.shape[2], color]
        return np.ascontiguousarray(image) if code is None else cv2.cvtColor(image, code)
    raise ImageReadError(f"unsupported image shape {image.shape} (expected HxW, HxWx1, HxWx3 or HxWx4)")


def load_image(image: ImageInput, color: ColorOrder = "bgr") -> np.ndarray:
    """Any supported input (path, NumPy array in `color` order, PIL image) as BGR uint8 `HxWx3`.

    Raises:
        ImageReadError: unreadable files and unsupported arrays, naming the input.
        TypeError: an input of a type that is not an image at all.
    """
    if color not in ("bgr", "rgb"):
        raise ValueError(f"color must be 'bgr' or 'rgb', got {color!r}")
    if isinstance(image, (str, Path)):
        return read_image(image)
    if isinstance(image, np.ndarray):
        return to_bgr(image, color)
    if hasattr(image, "mode") and hasattr(image, "getbands"):  # a PIL image, without importing PIL for others
        return pil_to_bgr(image)
    raise TypeError(f"expected an image path, NumPy array or PIL image, got {type(image).__name__}")


def sample_image_path() -> Path:
    """The bundled sample photo (NASA astronaut portrait, public domain; one face)."""
    return Path(str(resources.files("ferkit") / "assets" / "astronaut.jpg"))
