"""继续教育证明: the printable certificate of a 达标 year and its public verification.

The verification code needs no table: it is `{year}{user pk in base 36}` followed
by the first 10 base-32 characters of a keyed HMAC (salted with SECRET_KEY) over
the year and pk. Verifying recomputes the HMAC. The code carries no ID number;
the verification page shows the name masked and no ID number at all.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from decimal import Decimal

import segno
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User

from .models import MAX_YEAR, MIN_YEAR
from .selectors import YearCredits, year_credits

_SALT = "education.certificates.verification"
MAC_LENGTH = 10
_CODE_RE = re.compile(rf"^(?P<year>\d{{4}})(?P<pk>[0-9A-Z]{{1,13}})(?P<mac>[A-Z2-7]{{{MAC_LENGTH}}})$")
_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ISSUER = "贵州省财政厅"


def _base36(number: int) -> str:
    if number <= 0:
        raise ValueError("pk must be positive")
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = _DIGITS36[rest] + out
    return out


def _mac(*, year: int, user_pk: int) -> str:
    digest = salted_hmac(_SALT, f"{year}:{user_pk}", algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]


def verification_code(*, user_pk: int, year: int) -> str:
    """The certificate's verification code (upper case; no ID number in it)."""
    return f"{year:04d}{_base36(user_pk)}{_mac(year=year, user_pk=user_pk)}"


def verification_code_parse(code: str) -> tuple[int, int] | None:
    """(user pk, year) of a genuine code, or None (malformed or tampered)."""
    match = _CODE_RE.match((code or "").strip().upper())
    if match is None:
        return None
    year, user_pk = int(match["year"]), int(match["pk"], 36)
    if not MIN_YEAR <= year <= MAX_YEAR or user_pk <= 0 or match["pk"].startswith("0"):
        return None
    if not constant_time_compare(match["mac"], _mac(year=year, user_pk=user_pk)):
        return None
    return user_pk, year


def mask_name(name: str) -> str:
    """张*三 for three characters or more (the middle hidden), 张* for two."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name[:1] + "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def qr_svg(url: str) -> SafeString:
    """The QR code of `url` as an inline <svg> element (rendered server-side)."""
    # omitsize: a viewBox and no fixed size, so CSS scales the code instead of clipping it.
    svg = segno.make(url, error="m", micro=False).svg_inline(
        scale=4, border=4, title="验证二维码", svgclass="qr-code", omitsize=True
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup; the URL is encoded as modules, not text


@dataclass(frozen=True)
class Certificate:
    name: str
    id_number_masked: str
    credits: YearCredits
    code: str
    issuer: str = ISSUER


def certificate_for(*, user: User, year: int) -> Certificate | None:
    """The person's certificate for the year, or None when the year is not 达标."""
    summary = year_credits(user=user, year=year)
    if not summary.met:
        return None
    return Certificate(name=user.name, id_number_masked=user.id_number_masked, credits=summary,
                       code=verification_code(user_pk=user.pk, year=year))


@dataclass(frozen=True)
class Verification:
    """What the public verification page may show: no ID number, the name masked."""

    name_masked: str
    year: int
    public: Decimal
    professional: Decimal
    total: Decimal
    met: bool


def certificate_verify(*, code: str) -> Verification | None:
    """The certificate behind a code with the year's credits as they are now, or None (invalid)."""
    parsed = verification_code_parse(code)
    if parsed is None:
        return None
    user_pk, year = parsed
    user = User.objects.filter(pk=user_pk).only("pk", "name").first()
    if user is None:
        return None
    summary = year_credits(user=user, year=year)
    return Verification(name_masked=mask_name(user.name), year=year, public=summary.public,
                        professional=summary.professional, total=summary.total, met=summary.met)
