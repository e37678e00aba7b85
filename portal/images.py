"""Uploaded images: decoded, checked and re-encoded before anything is stored.

The format is decided by decoding the content, never by the name or the
browser's content type. The stored file is a fresh JPEG without EXIF (GPS and
camera data gone), orientation applied, scaled down to stay under the size cap.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_STORED_BYTES = 500 * 1024
MAX_PIXELS = 40_000_000  # far above any phone camera; refuses pixel floods before decoding
# MPO is how Pillow names a JPEG with multi-picture data, as many phone cameras write.
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG"}
PHOTO_MIN_SIZE = (295, 413)  # 免冠证件照, as on the national platform


@dataclass(frozen=True)
class ImageRule:
    min_size: tuple[int, int] | None = None
    max_side: int = 2000


DOCUMENT = ImageRule()
PHOTO = ImageRule(min_size=PHOTO_MIN_SIZE, max_side=1200)


def clean_image(upload, *, rule: ImageRule = DOCUMENT) -> ContentFile:
    """Validate an uploaded image and return the re-encoded JPEG to store.

    Raises ValidationError with a message for the person.
    """
    size = getattr(upload, "size", None)
    if size is None or size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("图片不能超过 5 MB。"), code="too_big")
    if size == 0:
        raise ValidationError(_("上传的文件是空的。"), code="empty")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as probe:
                fmt = probe.format
                width, height = probe.size
                if fmt not in ALLOWED_FORMATS:
                    raise ValidationError(_("只能上传 JPG 或 PNG 格式的图片。"), code="format")
                if width * height > MAX_PIXELS:
                    raise ValidationError(_("图片像素过大，请缩小后重新上传。"), code="pixels")
                probe.verify()  # structural check of the whole file
            upload.seek(0)
            with Image.open(upload) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                image = _to_rgb(img)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("图片像素过大，请缩小后重新上传。"), code="pixels") from None
    except UnidentifiedImageError:
        raise ValidationError(_("只能上传 JPG 或 PNG 格式的图片。"), code="format") from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(_("图片文件已损坏或格式不正确，请重新上传。"), code="corrupt") from None

    if rule.min_size and (image.width < rule.min_size[0] or image.height < rule.min_size[1]):
        raise ValidationError(
            _("证件照尺寸至少为 %(w)d×%(h)d 像素，当前为 %(cw)d×%(ch)d。")
            % {"w": rule.min_size[0], "h": rule.min_size[1], "cw": image.width, "ch": image.height},
            code="too_small",
        )
    return ContentFile(_encode_under_cap(image, rule), name="image.jpg")


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _encode_under_cap(image: Image.Image, rule: ImageRule) -> bytes:
    """JPEG without metadata, shrunk until it fits MAX_STORED_BYTES."""
    min_w, min_h = rule.min_size or (1, 1)
    side = rule.max_side
    while True:
        candidate = image.copy()
        if max(candidate.size) > side:
            candidate.thumbnail((side, side), Image.Resampling.LANCZOS)
        for quality in (85, 75, 65):
            buffer = io.BytesIO()
            candidate.save(buffer, format="JPEG", quality=quality, optimize=True)
            if buffer.tell() <= MAX_STORED_BYTES:
                return buffer.getvalue()
        next_side = int(side * 0.8)
        scale = next_side / max(image.size)
        if image.width * scale < min_w or image.height * scale < min_h or next_side < 200:
            return buffer.getvalue()  # as small as the rule allows; quality 65 at minimum size
        side = next_side
