from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from ferkit.errors import ImageReadError
from ferkit.inference.images import load_image, sample_image_path

# A 4x6 BGR test pattern: pure blue, green and red columns so channel order mistakes show.
BGR = np.zeros((4, 6, 3), np.uint8)
BGR[:, :2, 0], BGR[:, 2:4, 1], BGR[:, 4:, 2] = 200, 150, 100


def test_bgr_array_passes_through_and_rgb_is_swapped():
    assert np.array_equal(load_image(BGR), BGR)
    assert np.array_equal(load_image(BGR[:, :, ::-1], color="rgb"), BGR)


@pytest.mark.parametrize("gray", [np.full((4, 6), 77, np.uint8), np.full((4, 6, 1), 77, np.uint8)])
def test_gray_arrays_become_three_equal_channels(gray):
    out = load_image(gray)
    assert out.shape == (4, 6, 3) and (out == 77).all()


def test_alpha_is_dropped_in_either_colour_order():
    bgra = np.dstack([BGR, np.full((4, 6), 9, np.uint8)])
    assert np.array_equal(load_image(bgra), BGR)
    rgba = np.dstack([BGR[:, :, ::-1], np.full((4, 6), 9, np.uint8)])
    assert np.array_equal(load_image(rgba, color="rgb"), BGR)


def test_16_bit_and_float_arrays_are_scaled_to_8_bit():
    assert np.array_equal(load_image(BGR.astype(np.uint16) << 8), BGR)
    assert np.array_equal(load_image(BGR / 255.0), BGR)


@pytest.mark.parametrize("convert", [lambda a: a.astype(float), lambda a: a.astype(np.float32),
                                     lambda a: a.astype(np.int64), lambda a: a.astype(np.int32) << 8],
                         ids=["float64 0..255", "float32 0..255", "int64 0..255", "int32 0..65535"])
def test_wide_arrays_are_read_by_their_value_range(convert):
    assert np.array_equal(load_image(convert(BGR)), BGR)


def test_pil_32_bit_integer_and_float_images_are_read_by_their_value_range():
    gray = BGR[:, :, 1]
    wide = Image.fromarray(gray.astype(np.int32) << 8)  # mode 'I', 0..65535
    assert wide.mode == "I" and np.array_equal(load_image(wide)[:, :, 0], gray)
    floats = Image.fromarray(gray.astype(np.float32) / 255)  # mode 'F', 0..1
    assert floats.mode == "F" and np.array_equal(load_image(floats)[:, :, 0], gray)


@pytest.mark.parametrize("array, found", [
    (np.full((4, 4), -0.5), r"-0.5\.\.-0.5; expected 0\.\.1 or 0\.\.255"),
    (np.full((4, 4), 300.0), r"300.0\.\.300.0"),
    (np.array([[0.2, np.nan]]), "NaN"),
    (np.full((4, 4), 70_000, np.int64), r"70000\.\.70000; expected 0\.\.255 or 0\.\.65535"),
    (np.full((4, 4), -1, np.int16), "-1"),
])
def test_values_outside_every_range_are_refused_naming_the_range(array, found):
    with pytest.raises(ImageReadError, match=found):
        load_image(array)


def test_a_decompression_bomb_file_is_refused_from_its_header(tmp_path: Path, png_header):
    path = png_header(tmp_path / "bomb.png", 30_000, 30_000)
    with pytest.raises(ImageReadError, match=r"bomb\.png: .*900,000,000 pixels|bomb\.png: Image size"):
        load_image(path)
    with pytest.raises(ImageReadError, match=r"big\.png: PNG image of 8000x8000 = 64,000,000 pixels"):
        load_image(png_header(tmp_path / "big.png", 8000, 8000))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "I;16"])
def test_pil_images_of_every_common_mode(mode):
    pil = Image.fromarray(BGR[:, :, ::-1].copy())
    if mode == "I;16":
        pil = Image.fromarray(BGR[:, :, 0].astype(np.uint16) << 8)
        assert np.array_equal(load_image(pil)[:, :, 0], BGR[:, :, 0])
        return
    out = load_image(pil.convert(mode))
    assert out.shape == (4, 6, 3)
    if mode in ("RGB", "RGBA"):
        assert np.array_equal(out, BGR)
    else:  # grey, or a palette: the colours PIL itself shows for it, in BGR order
        assert np.array_equal(out, np.asarray(pil.convert(mode).convert("RGB"))[:, :, ::-1])


def test_files_including_16_bit_png(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "a.png"), BGR)
    cv2.imwrite(str(tmp_path / "a16.png"), BGR.astype(np.uint16) << 8)
    assert np.array_equal(load_image(tmp_path / "a.png"), BGR)
    assert np.array_equal(load_image(str(tmp_path / "a16.png")), BGR)
    assert load_image(sample_image_path()).shape == (512, 512, 3)


def test_unreadable_and_missing_files_raise_naming_the_file(tmp_path: Path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    with pytest.raises(ImageReadError, match=r"notes\.jpg"):
        load_image(bad)
    with pytest.raises(ImageReadError, match=r"missing\.png"):
        load_image(tmp_path / "missing.png")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.png"):
        load_image(empty)


@pytest.mark.parametrize("array", [np.zeros((0, 5, 3), np.uint8), np.zeros((4, 4, 2), np.uint8),
                                   np.zeros((4, 4), bool)])
def test_arrays_that_are_not_images_raise(array):
    with pytest.raises(ImageReadError):
        load_image(array)


def test_other_types_and_colour_orders_are_rejected():
    with pytest.raises(TypeError):
        load_image(42)
    with pytest.raises(ValueError, match="color"):
        load_image(BGR, color="hsv")


def test_jpeg_exif_orientation_is_applied(tmp_path: Path):
    """Phone photos are stored sideways with an EXIF rotation; faces must be detected upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:10, :10] = 255  # a bright top-left corner as stored: top-right once turned clockwise
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif)
    upright = load_image(tmp_path / "phone.jpg")
    assert upright.shape == (40, 20, 3)
    assert upright[:10, 10:].mean() > 200 and upright[:10, :10].mean() < 50 and upright[30:].mean() < 50


def test_a_uint16_array_of_8_bit_values_reads_as_the_8_bit_image():
    """`img.astype(np.uint16)` once gave a black image and so "no faces": every integer dtype has one rule."""
    assert np.array_equal(load_image(BGR.astype(np.uint16)), BGR)
    assert np.array_equal(load_image(BGR.astype(np.uint16) << 8), BGR)  # a 16-bit image is still scaled
    photo = load_image(sample_image_path())
    assert np.array_equal(load_image(photo.astype(np.uint16)), photo)


def test_a_pil_16_bit_image_of_8_bit_values_reads_as_the_8_bit_image():
    pil = Image.fromarray(BGR[:, :, 0].astype(np.uint16))
    assert pil.mode.startswith("I;16") and np.array_equal(load_image(pil)[:, :, 0], BGR[:, :, 0])


@pytest.mark.parametrize("value, named", [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")])
def test_nan_and_infinite_values_are_named_as_such(value, named):
    with pytest.raises(ImageReadError, match=rf"float64 image holds {named} values"):
        load_image(np.array([[0.2, value]]))


def test_a_pil_image_whose_pixels_cannot_be_decoded_is_one_clear_error():
    import io

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    truncated = Image.open(io.BytesIO(buffer.getvalue()[:200]))  # the header reads; the pixels do not
    with pytest.raises(ImageReadError, match=r"^PIL image: cannot be read \(.*\)$"):
        load_image(truncated)
