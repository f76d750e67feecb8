"""Encoded image bytes to pixels, safely: the one place any ferkit reader decodes an image file.

The pixel count is read from the header before anything is decoded, so a small file that claims a huge
image (a decompression bomb) is refused without allocating it, and every decoder failure, whichever
library raised it, becomes an `ImageReadError` that names the file.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np

from ferkit.errors import ImageReadError

# Largest image (width x height) any reader decodes: 50 megapixels, 150 MB as BGR uint8, above the largest
# phone and most DSLR photos (48-50 MP). The service shares this default (`ferkit serve --max-pixels`).
MAX_PIXELS = 50_000_000


def header_size(data: bytes | np.ndarray, name: str, max_pixels: int = MAX_PIXELS) -> tuple[int, int] | None:
    """(width, height) from the image header alone; None when Pillow does not know the format.

    Raises:
        ImageReadError: the header claims more than `max_pixels` pixels.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as header:
                width, height, fmt = header.width, header.height, header.format
        except Image.DecompressionBombError as exc:  # Pillow's own limit, about 179 MP
            raise ImageReadError(f"{name}: {_too_many(str(exc), max_pixels)}") from exc
        except Exception:  # any parser failure means "not a header Pillow knows"; OpenCV may still read it
            return None
    if width * height > max_pixels:
        what = f"{fmt} image of {width}x{height} = {width * height:,} pixels"
        raise ImageReadError(f"{name}: {_too_many(what, max_pixels)}")
    return width, height


def _too_many(what: str, max_pixels: int) -> str:
    return f"{what}; the limit is {max_pixels:,} pixels (refused before decoding)"


def decode(data: np.ndarray, name: str, flags: int = cv2.IMREAD_COLOR, max_pixels: int = MAX_PIXELS
           ) -> np.ndarray | None:
    """OpenCV's decode of the encoded bytes `data` (uint8), once the header's pixel count has been checked;
    None when OpenCV does not know the format.

    Raises:
        ImageReadError: an empty buffer, a header over `max_pixels`, or an OpenCV decoder error.
    """
    if not data.size:
        raise ImageReadError(f"{name}: empty (0-byte) file")
    header_size(data, name, max_pixels)
    try:
        return cv2.imdecode(data, flags)
    except cv2.error as exc:
        reason = str(exc).strip().splitlines()[-1]
        raise ImageReadError(f"{name}: OpenCV cannot decode it ({reason})") from exc
