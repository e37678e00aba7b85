"""Images made in memory for upload tests: valid JPEG/PNG, EXIF with GPS, and attacks.

Nothing here allocates a large bitmap: the pixel-flood PNG only *claims* a huge
size in its IHDR chunk, which is what a decompression-bomb upload looks like.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# 贵阳 (26°34'N 106°42'E): the kind of location a phone writes into a photo.
GPS_LATITUDE = (26.0, 34.0, 12.0)
GPS_LONGITUDE = (106.0, 42.0, 30.0)


def _save(img: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def solid(size=(400, 500), color=(40, 90, 160), mode="RGB") -> Image.Image:
    if mode == "RGBA":
        return Image.new("RGBA", size, (*color, 0))
    return Image.new(mode, size, color)


def noise(size) -> Image.Image:
    """Random pixels: incompressible, so the encoded file is large."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def jpeg_bytes(size=(400, 500), *, color=(40, 90, 160), **params) -> bytes:
    return _save(solid(size, color), "JPEG", **params)


def png_bytes(size=(400, 500), *, color=(40, 90, 160), mode="RGB") -> bytes:
    return _save(solid(size, color, mode), "PNG")


def jpeg_with_gps(size=(400, 500)) -> bytes:
    """A JPEG whose EXIF carries a camera make and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = GPS_LONGITUDE
    data = _save(solid(size), "JPEG", exif=exif)
    assert gps_of(data) and b"TestCam" in data  # the fixture really carries what is to be stripped
    return data


def jpeg_rotated(size=(300, 500)) -> bytes:
    """A landscape-stored JPEG whose EXIF says "rotate 90°" (as phones write)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return _save(solid(size), "JPEG", exif=exif)


def mpo_bytes(size=(400, 500)) -> bytes:
    """A multi-picture JPEG (MPO), as many phone cameras write: a JPEG file."""
    img = solid(size)
    return _save(img, "MPO", save_all=True, append_images=[img.copy()])


def noise_png(size=(1000, 1500)) -> bytes:
    return _save(noise(size), "PNG")


def gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as img:
        return dict(img.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR says width×height (a pixel flood); its IDAT holds one row."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 16), 9)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_headed_html() -> bytes:
    """An HTML page behind the eight PNG signature bytes (a polyglot)."""
    return PNG_SIGNATURE + b"<html><body><script>alert(document.cookie)</script></body></html>\n" * 20


def svg_bytes() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" height="500">'
        b"<script>alert(1)</script><rect width=\"400\" height=\"500\" fill=\"red\"/></svg>"
    )


def padded_png(total_bytes: int) -> bytes:
    """A valid PNG followed by padding up to total_bytes: refused only for its size."""
    data = png_bytes()
    return data + b"\x00" * (total_bytes - len(data))


def upload(data: bytes, name: str = "image.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo_upload(**kwargs) -> SimpleUploadedFile:
    """A valid 免冠证件照 (at least 295×413)."""
    return upload(jpeg_bytes((300, 420), **kwargs), "photo.jpg")


def document_upload(fmt: str = "PNG") -> SimpleUploadedFile:
    if fmt == "PNG":
        return upload(png_bytes((640, 400)), "card.png", "image/png")
    return upload(jpeg_bytes((640, 400)), "card.jpg")
