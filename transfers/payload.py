"""The archive as it travels through the national platform (one JSON document).

`archive_payload` writes it from a collected archive for a transfer out;
`archive_from_payload` fills a Guizhou archive from a record coming in. Codes are
the national ones (GB/T 3304 民族, GB/T 4762 政治面貌, GB/T 4658 学历); images
travel base64-encoded and are decoded, checked and re-encoded like any upload.

    {"ethnicity": "01", "political_status": "13", "email": "",
     "photo": "<base64 JPEG>", "id_card_front": "...", "id_card_back": "...",
     "is_cpa": false, "is_tax_agent": false, "is_asset_appraiser": false, "abacus_level": "none",
     "employment_status": "accounting", "employer": "...", "archive_number": "...",
     "educations": [{"mode": "full_time", "level": "21", "degree": "4", "school": "...", "major": "...",
                     "start_date": "2008-09-01", "graduation_date": "2012-07-01"}],
     "qualifications": [{"qualification_type": "accounting", "level": "junior", "method": "exam",
                         "obtained_on": "2013-05-20", "certificate_number": "..."}],
     "credits": [{"year": 2025, "category": "public", "credits": "30.0", "course": "...",
                  "completed_at": "2025-06-30"}]}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from collection.models import (
    EMPLOYED_STATUSES,
    AbacusLevel,
    Degree,
    EducationLevel,
    EducationMode,
    EmploymentStatus,
    Ethnicity,
    PoliticalStatus,
    QualificationLevel,
    QualificationMethod,
    QualificationType,
)
from portal.errors import PortalError
from portal.images import DOCUMENT, PHOTO, clean_image

logger = logging.getLogger(__name__)

IMAGE_FIELDS = {"photo": PHOTO, "id_card_front": DOCUMENT, "id_card_back": DOCUMENT}
CATEGORY_ALIASES = {
    "public": "public", "公需科目": "public", "professional": "professional", "专业科目": "professional",
}


class PayloadInvalid(PortalError):
    """The carried archive cannot make a complete Guizhou archive."""


def _b64(field_file) -> str:
    if not field_file:
        return ""
    with field_file.open("rb") as fh:
        return base64.b64encode(fh.read()).decode("ascii")


def archive_payload(*, archive) -> dict:
    """The document sent with a transfer out."""
    from education.models import CreditRecord

    credits = CreditRecord.objects.filter(user_id=archive.user_id).order_by("year", "completed_at", "pk")
    return {
        "archive_number": archive.archive_number or "",
        "ethnicity": archive.ethnicity.code if archive.ethnicity_id else "",
        "political_status": archive.political_status.code if archive.political_status_id else "",
        "email": archive.email,
        **{name: _b64(getattr(archive, name)) for name in IMAGE_FIELDS},
        "is_cpa": bool(archive.is_cpa),
        "is_tax_agent": bool(archive.is_tax_agent),
        "is_asset_appraiser": bool(archive.is_asset_appraiser),
        "abacus_level": archive.abacus_level or AbacusLevel.NONE,
        "employment_status": archive.employment_status,
        "employer": archive.employer,
        "educations": [
            {
                "mode": e.mode, "level": e.level.code, "degree": e.degree.code, "school": e.school, "major": e.major,
                "start_date": e.start_date.isoformat(), "graduation_date": e.graduation_date.isoformat(),
            }
            for e in archive.educations.select_related("level", "degree").order_by("mode")
        ],
        "qualifications": [
            {
                "qualification_type": q.qualification_type, "level": q.level, "method": q.method,
                "obtained_on": q.obtained_on.isoformat(), "certificate_number": q.certificate_number,
            }
            for q in archive.qualifications.order_by("obtained_on", "pk")
        ],
        "credits": [
            {
                "year": c.year, "category": c.category, "credits": str(c.credits), "course": c.course,
                "completed_at": c.completed_at.isoformat(),
            }
            for c in credits
        ],
    }


def _date(value, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PayloadInvalid(_("调入档案的%(what)s日期无效。") % {"what": what}, code="date") from None


def _missing(what: str) -> PayloadInvalid:
    return PayloadInvalid(
        _("全国平台提供的档案信息不完整（%(what)s），请联系原采集地核实后再办理调入。") % {"what": what},
        code="incomplete",
    )


def image_contents(payload: dict) -> dict[str, ContentFile]:
    """The carried images, decoded, checked and re-encoded (before any transaction opens)."""
    contents = {}
    for name, rule in IMAGE_FIELDS.items():
        raw = payload.get(name) or ""
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError, TypeError):
            data = b""
        if not data:
            raise _missing({"photo": _("证件照"), "id_card_front": _("身份证人像面"),
                            "id_card_back": _("身份证国徽面")}[name])
        try:
            contents[name] = clean_image(ContentFile(data, name="carried.jpg"), rule=rule)
        except ValidationError as exc:
            raise PayloadInvalid(
                _("调入档案中的图片无法使用：%(reason)s") % {"reason": exc.messages[0]}, code="image"
            ) from None
    return contents


def personal_values(payload: dict) -> dict:
    ethnicity = Ethnicity.objects.filter(code=str(payload.get("ethnicity") or "")).first()
    if ethnicity is None:
        raise _missing(_("民族"))
    political = PoliticalStatus.objects.filter(code=str(payload.get("political_status") or "")).first()
    if political is None:
        raise _missing(_("政治面貌"))
    return {"ethnicity": ethnicity, "political_status": political, "email": str(payload.get("email") or "")[:254]}


def education_values(payload: dict) -> tuple[dict, dict | None]:
    rows = {}
    for row in payload.get("educations") or []:
        if not isinstance(row, dict) or row.get("mode") not in EducationMode.values:
            continue
        level = EducationLevel.objects.filter(code=str(row.get("level"))).first()
        degree = Degree.objects.filter(code=str(row.get("degree"))).first()
        if level is None or degree is None:
            raise _missing(_("学历或学位"))
        rows[row["mode"]] = {
            "level": level, "degree": degree, "school": str(row.get("school") or "")[:100],
            "major": str(row.get("major") or "")[:100],
            "start_date": _date(row.get("start_date"), _("入学")),
            "graduation_date": _date(row.get("graduation_date"), _("毕业")),
        }
    if EducationMode.FULL_TIME not in rows:
        raise _missing(_("全日制教育"))
    return rows[EducationMode.FULL_TIME], rows.get(EducationMode.PART_TIME)


def professional_values(payload: dict) -> tuple[dict, list[dict]]:
    abacus = payload.get("abacus_level") or AbacusLevel.NONE
    certification = {
        "is_cpa": bool(payload.get("is_cpa")),
        "is_tax_agent": bool(payload.get("is_tax_agent")),
        "is_asset_appraiser": bool(payload.get("is_asset_appraiser")),
        "abacus_level": abacus if abacus in AbacusLevel.values else AbacusLevel.NONE,
    }
    qualifications = []
    for row in payload.get("qualifications") or []:
        if not isinstance(row, dict):
            continue
        if (
            row.get("qualification_type") not in QualificationType.values
            or row.get("level") not in QualificationLevel.values
            or row.get("method") not in QualificationMethod.values
        ):
            raise _missing(_("专业技术资格"))
        qualifications.append({
            "qualification_type": row["qualification_type"], "level": row["level"], "method": row["method"],
            "obtained_on": _date(row.get("obtained_on"), _("资格取得")),
            "certificate_number": str(row.get("certificate_number") or "")[:50],
        })
    return certification, qualifications


def employment_status_of(payload: dict) -> str:
    """A transfer in is for work in Guizhou: 会计工作岗位 unless the record says 非会计工作岗位."""
    status = payload.get("employment_status")
    return status if status in EMPLOYED_STATUSES else EmploymentStatus.ACCOUNTING


def credit_values(payload: dict) -> list[dict]:
    """The carried credit history; rows that are not valid are left out (and logged)."""
    from education.models import MAX_YEAR, MIN_YEAR

    rows = []
    for index, row in enumerate(payload.get("credits") or []):
        try:
            year = int(row["year"])
            category = CATEGORY_ALIASES[str(row["category"])]
            credits = Decimal(str(row["credits"])).quantize(Decimal("0.1"))
            completed = dt.date.fromisoformat(str(row["completed_at"]))
            if not (MIN_YEAR <= year <= MAX_YEAR) or credits <= 0 or credits > 1000:
                raise ValueError("out of range")
        except (KeyError, TypeError, ValueError, InvalidOperation):
            logger.warning("carried credit row %d left out: invalid", index)
            continue
        rows.append({
            "year": year, "category": category, "credits": credits,
            "course": str(row.get("course") or _("原采集地继续教育"))[:200], "completed_at": completed,
        })
    return rows
