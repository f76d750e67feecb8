"""Decoding image bytes: the pixel limit is enforced from the header, and decoder errors name the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.errors import ImageReadError
from ferkit.transforms.decode import MAX_PIXELS, decode, header_size


def _bytes(path: Path) -> np.ndarray:
    return np.fromfile(path, np.uint8)


def test_header_size_reads_dimensions_without_decoding(tmp_path: Path, png_header):
    path = png_header(tmp_path / "wide.png", 4000, 3000)
    assert header_size(_bytes(path), "wide.png") == (4000, 3000)


@pytest.mark.parametrize("side", [8000, 30000])  # 64 MP: over ferkit's limit; 900 MP: over Pillow's own too
def test_a_header_over_the_pixel_limit_is_refused_naming_the_file(tmp_path: Path, png_header, side: int):
    path = png_header(tmp_path / "bomb.png", side, side)
    assert path.stat().st_size < 100_000
    with pytest.raises(ImageReadError, match=r"bomb\.png: .*the limit is 50,000,000 pixels"):
        decode(_bytes(path), "bomb.png")


def test_the_limit_is_a_parameter(tmp_path: Path):
    path = tmp_path / "small.png"
    cv2.imwrite(str(path), np.zeros((100, 100, 3), np.uint8))
    assert decode(_bytes(path), "small.png").shape == (100, 100, 3)
    with pytest.raises(ImageReadError, match="100x100 = 10,000 pixels; the limit is 9,999"):
        decode(_bytes(path), "small.png", max_pixels=9_999)
    assert MAX_PIXELS == 50_000_000


def test_unknown_formats_pass_the_header_check_and_decode_to_none():
    junk = np.frombuffer(b"this is not an image at all", np.uint8)
    assert header_size(junk, "junk") is None
    assert decode(junk, "junk") is None


def test_an_empty_buffer_is_named():
    with pytest.raises(ImageReadError, match=r"empty\.png: empty"):
        decode(np.zeros(0, np.uint8), "empty.png")
