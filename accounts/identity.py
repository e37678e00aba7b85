"""Identity documents: validation, derived facts, encryption, lookup hash, masking.

The rules are DOMAIN.md's "Identity" and `data/id_document_types.csv`:
居民身份证 and 港澳台居民居住证 carry an ISO 7064 MOD 11-2 check character and a
birth date (digits 7-14) and gender (digit 17); the address code is NOT checked
against today's divisions, since older Guizhou IDs carry abolished codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import operator
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal import crypto


class IdType(models.TextChoices):
    RESIDENT_ID_CARD = "resident_id_card", _("居民身份证")
    HK_MACAO_TW_RESIDENCE_PERMIT = "hk_macao_tw_residence_permit", _("港澳台居民居住证")
    HK_MACAO_MAINLAND_TRAVEL_PERMIT = "hk_macao_mainland_travel_permit", _("港澳居民来往内地通行证")
    TW_MAINLAND_TRAVEL_PERMIT = "tw_mainland_travel_permit", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")
    FOREIGNER_PERMANENT_RESIDENCE_CARD = "foreigner_permanent_residence_card", _("外国人永久居留身份证")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


_PATTERNS: dict[str, re.Pattern[str]] = {
    IdType.RESIDENT_ID_CARD: re.compile(
        r"^[1-6]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[0-9X]$"
    ),
    IdType.HK_MACAO_TW_RESIDENCE_PERMIT: re.compile(
        r"^8[123]0000(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[0-9X]$"
    ),
    IdType.HK_MACAO_MAINLAND_TRAVEL_PERMIT: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    IdType.TW_MAINLAND_TRAVEL_PERMIT: re.compile(r"^\d{8}$|^\d{10}$"),
    IdType.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
    IdType.FOREIGNER_PERMANENT_RESIDENCE_CARD: re.compile(r"^9\d{16}[0-9X]$|^[A-Z]{3}\d{12}$"),
}

# Types whose number carries the birth date and gender.
TYPES_WITH_BIRTH_DATE = frozenset({IdType.RESIDENT_ID_CARD, IdType.HK_MACAO_TW_RESIDENCE_PERMIT})

# Types whose holder is a Chinese national; for the others 国籍 is entered once.
CHINESE_NATIONAL_TYPES = frozenset(
    {
        IdType.RESIDENT_ID_CARD,
        IdType.HK_MACAO_TW_RESIDENCE_PERMIT,
        IdType.HK_MACAO_MAINLAND_TRAVEL_PERMIT,
        IdType.TW_MAINLAND_TRAVEL_PERMIT,
    }
)
CHINA = "中国"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def mod11_2_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    if len(first17) != len(_WEIGHTS):
        raise ValueError("MOD 11-2 needs exactly 17 digits")
    return _CHECK_CHARS[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


# Full-width digits, letters and signs typed on Chinese keyboards → ASCII.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def normalize_id_number(raw: str) -> str:
    """Strip spaces and full-width characters, upper-case (accepts a lower-case x)."""
    text = raw or ""
    if not text.isascii():
        text = text.translate(_FULL_WIDTH)
    # str.split() without arguments splits on any Unicode whitespace (the ideographic space too).
    return "".join(text.split()).upper()


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: dt.date | None
    gender: str | None


def validate_id_number(id_type: str, raw: str, *, today: dt.date | None = None) -> IdFacts:
    """Validate a number for its type; return it normalised with derived facts.

    Raises ValidationError with a message for the person.
    """
    number = normalize_id_number(raw)
    if id_type not in _PATTERNS:
        raise ValidationError(_("请选择证件类型。"), code="id_type")
    if not number:
        raise ValidationError(_("请输入证件号码。"), code="required")
    if not _PATTERNS[id_type].match(number):
        raise ValidationError(
            _("证件号码格式不正确，请核对%(type)s上的号码。") % {"type": IdType(id_type).label},
            code="format",
        )
    needs_check = id_type in TYPES_WITH_BIRTH_DATE or (
        id_type == IdType.FOREIGNER_PERMANENT_RESIDENCE_CARD and len(number) == 18
    )
    if needs_check and mod11_2_check_char(number[:17]) != number[17]:
        raise ValidationError(_("证件号码校验位不正确，请核对后重新输入。"), code="checksum")
    if id_type not in TYPES_WITH_BIRTH_DATE:
        return IdFacts(number=number, birth_date=None, gender=None)
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("证件号码中的出生日期无效。"), code="birth_date") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise ValidationError(_("证件号码中的出生日期无效。"), code="birth_date")
    gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
    return IdFacts(number=number, birth_date=birth, gender=gender)


def mask_id_number(number: str) -> str:
    """`520102********123X` for 18 characters; shorter numbers keep less."""
    n = len(number)
    if n >= 15:
        return number[:6] + "*" * (n - 10) + number[-4:]
    if n >= 8:
        return number[:2] + "*" * (n - 4) + number[-2:]
    return number[:1] + "*" * max(n - 1, 0)


def mask_mobile(e164_or_national: str) -> str:
    digits = re.sub(r"\D", "", str(e164_or_national))[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) == 11 else "****"


# --- encryption at rest and keyed lookup hash ---------------------------------------


def encrypt_id_number(number: str) -> str:
    return crypto.encrypt(settings.ID_ENCRYPTION_KEYS, number)


def decrypt_id_number(token: str) -> str:
    return crypto.decrypt(settings.ID_ENCRYPTION_KEYS, token)


def reencrypt_id_number(token: str) -> str:
    """Re-encrypt under the first (current) key; used by key rotation."""
    return crypto.reencrypt(settings.ID_ENCRYPTION_KEYS, token)


def id_lookup_hash(number: str) -> str:
    """Keyed hash of the normalised number: unique, searchable, not reversible."""
    key = settings.ID_HASH_KEY.encode()
    return hmac.new(key, normalize_id_number(number).encode(), hashlib.sha256).hexdigest()


def login_username(number: str) -> str:
    """The username an accountant is stored and authenticated under."""
    return "id:" + id_lookup_hash(number)
