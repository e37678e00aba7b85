"""portal/images.py: uploads are decoded, checked and re-encoded before they are stored."""

from __future__ import annotations

import io
import struct

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from portal.images import DOCUMENT, MAX_STORED_BYTES, MAX_UPLOAD_BYTES, PHOTO, clean_image
from tests.images import (
    gps_of,
    jpeg_bytes,
    jpeg_rotated,
    jpeg_with_gps,
    mpo_bytes,
    noise_png,
    padded_png,
    png_bytes,
    png_claiming_size,
    png_headed_html,
    solid,
    svg_bytes,
    upload,
)


def _stored(data: bytes, *, rule=DOCUMENT, name="image.jpg", content_type="image/jpeg") -> Image.Image:
    content = clean_image(upload(data, name, content_type), rule=rule)
    raw = content.read()
    assert len(raw) <= MAX_STORED_BYTES
    img = Image.open(io.BytesIO(raw))
    img.load()
    return img


def _refused(data: bytes, *, rule=DOCUMENT, name="image.jpg", content_type="image/jpeg") -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        clean_image(upload(data, name, content_type), rule=rule)
    return excinfo.value


def _bytes(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


# --- accepted: JPEG and PNG, decided by the content -----------------------------------------


@pytest.mark.parametrize("data", [jpeg_bytes(), png_bytes()], ids=["jpeg", "png"])
def test_jpeg_and_png_are_stored_as_a_fresh_jpeg(data):
    img = _stored(data)
    assert img.format == "JPEG" and img.mode == "RGB" and img.size == (400, 500)


def test_the_format_comes_from_the_content_not_the_name_or_content_type():
    img = _stored(png_bytes(), name="scan.txt", content_type="text/html")
    assert img.format == "JPEG"
    error = _refused(_bytes(solid(), "GIF"), name="photo.png", content_type="image/png")
    assert error.code == "format" and "JPG 或 PNG" in error.messages[0]


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "WEBP"])
def test_other_image_formats_are_refused(fmt):
    assert _refused(_bytes(solid(), fmt)).code == "format"


def test_a_phone_jpeg_with_multi_picture_data_is_a_jpeg():
    assert Image.open(io.BytesIO(mpo_bytes())).format == "MPO"  # what Pillow calls it
    assert _stored(mpo_bytes()).format == "JPEG"


def test_transparent_png_gets_a_white_background():
    img = _stored(png_bytes(mode="RGBA"))
    assert img.mode == "RGB"
    assert all(channel > 240 for channel in img.getpixel((10, 10)))


def test_exif_orientation_is_applied_before_the_metadata_goes():
    img = _stored(jpeg_rotated((300, 500)))
    assert img.size == (500, 300)
    assert not img.getexif()


# --- metadata -----------------------------------------------------------------------------


def test_exif_gps_is_removed():
    original = jpeg_with_gps()
    assert gps_of(original)
    content = clean_image(upload(original), rule=PHOTO)
    stored = content.read()
    assert gps_of(stored) == {}
    with Image.open(io.BytesIO(stored)) as img:
        assert not img.getexif()
        assert "exif" not in img.info
    assert b"Exif" not in stored and b"TestCam" not in stored


# --- size ---------------------------------------------------------------------------------


def test_large_images_are_scaled_down_until_under_500_kb():
    data = noise_png((1000, 1500))
    assert MAX_STORED_BYTES < len(data) <= MAX_UPLOAD_BYTES
    img = _stored(data)  # asserts the cap
    assert max(img.size) < 1500


def test_a_photo_is_scaled_down_but_never_below_295_by_413():
    img = _stored(noise_png((1000, 1400)), rule=PHOTO)
    assert max(img.size) <= 1200
    assert img.width >= 295 and img.height >= 413


def test_photo_smaller_than_295_by_413_is_refused_with_the_minimum_in_the_message():
    error = _refused(jpeg_bytes((294, 500)), rule=PHOTO)
    assert error.code == "too_small"
    assert "295" in error.messages[0] and "413" in error.messages[0]
    assert _refused(jpeg_bytes((400, 412)), rule=PHOTO).code == "too_small"
    assert _stored(jpeg_bytes((295, 413)), rule=PHOTO).size == (295, 413)
    assert _stored(jpeg_bytes((200, 200))).size == (200, 200)  # documents have no minimum


def test_more_than_5_mb_is_refused_before_decoding():
    data = padded_png(6 * 1024 * 1024)
    assert Image.open(io.BytesIO(data)).format == "PNG"  # a valid image: refused only for its size
    error = _refused(data)
    assert error.code == "too_big" and "5 MB" in error.messages[0]
    assert _stored(padded_png(MAX_UPLOAD_BYTES)).format == "JPEG"  # exactly 5 MB is allowed


def test_empty_file_is_refused():
    assert _refused(b"").code == "empty"


# --- attacks ------------------------------------------------------------------------------


def test_png_headed_html_is_refused():
    assert _refused(png_headed_html(), name="photo.png", content_type="image/png").code == "format"


def test_svg_is_refused():
    assert _refused(svg_bytes(), name="photo.svg", content_type="image/svg+xml").code == "format"


def test_pixel_flood_is_refused_without_decoding():
    data = png_claiming_size(20000, 20000)
    assert len(data) < 200 and struct.unpack(">II", data[16:24]) == (20000, 20000)  # IHDR width, height
    error = _refused(data, name="flood.png", content_type="image/png")
    assert error.code == "pixels" and "像素过大" in error.messages[0]


def test_pixel_flood_below_pillows_own_limit_is_refused_by_ours():
    # 7000×7000 = 49 Mpx: under Pillow's bomb warning (89 Mpx), over our 40 Mpx
    assert _refused(png_claiming_size(7000, 7000)).code == "pixels"


def test_truncated_image_is_refused():
    assert _refused(jpeg_bytes()[:600]).code in {"corrupt", "format"}
    assert _refused(png_bytes()[:300]).code in {"corrupt", "format"}
