"""信息变更: changes to a collected archive, each written to the change log.

Rules (the manual's section 3, DOMAIN.md "Information change"):
- only a collected (已采集) archive changes here; drafts change in the wizard;
- 性别, 国籍, 出生日期, 证件类型, 证件号码 never change: no function here
  touches them, whatever a form posts;
- every saved change writes one ChangeRecord (item, each field's old → new with
  ID-like values masked and files by name, time, IP); saving nothing changed
  writes nothing and says so;
- a save based on a stale page (another tab saved first) is refused, so no
  one silently overwrites anyone (the archive's version number);
- the parts are written by the wizard's own writers (collection.services).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from accounts import sms
from accounts.identity import mask_mobile
from accounts.models import SmsPurpose, User
from accounts.services import AccountExists, mobile_is_bound, password_check
from collection import services as collection
from collection.models import Archive, ArchiveStatus, EducationMode
from portal.errors import PortalError
from transfers.business import BusinessRefused, business_refusal

from .models import ChangeItem, ChangeRecord

logger = logging.getLogger(__name__)


class NotCollected(PortalError):
    """信息变更 needs a collected archive."""


class StaleVersion(PortalError):
    """Another tab or device saved this archive after the page was opened."""


class NothingChanged(PortalError):
    """The save changed no value: nothing is recorded."""


# --- snapshots: what the person sees of an item, field by field -------------------------


def _file(f) -> str:
    return PurePosixPath(f.name).name if f else ""


def _mask_certificate(value: str) -> str:
    value = value or ""
    return value if len(value) <= 4 else value[:2] + "*" * (len(value) - 4) + value[-2:]


def _date(d) -> str:
    return d.strftime("%Y-%m-%d") if d else ""


def _snapshot_personal(archive: Archive) -> dict[str, tuple[str, str]]:
    return {
        "name": (_("姓名"), archive.user.name),
        "ethnicity": (_("民族"), str(archive.ethnicity or "")),
        "political_status": (_("政治面貌"), str(archive.political_status or "")),
        "email": (_("电子邮箱"), archive.email),
        "photo": (_("免冠证件照"), _file(archive.photo)),
        "id_card_front": (_("身份证人像面"), _file(archive.id_card_front)),
        "id_card_back": (_("身份证国徽面"), _file(archive.id_card_back)),
    }


def _snapshot_contact(archive: Archive) -> dict[str, tuple[str, str]]:
    mobile = str(archive.user.mobile or "")
    # Shown masked, compared in full: 138****0001 → 138****0001 is still a new number.
    return {"mobile": (_("手机号码"), mask_mobile(mobile), mobile)}


def _snapshot_education(archive: Archive) -> dict[str, tuple[str, str]]:
    result = {}
    rows = {e.mode: e for e in archive.educations.select_related("level", "degree")}
    for mode in (EducationMode.FULL_TIME, EducationMode.PART_TIME):
        e = rows.get(mode)
        prefix = str(mode.label)
        values = (
            [str(e.level), str(e.degree), e.school, e.major, _date(e.start_date), _date(e.graduation_date)]
            if e
            else [""] * 6
        )
        for key, label, value in zip(
            ("level", "degree", "school", "major", "start_date", "graduation_date"),
            (_("学历"), _("学位"), _("毕业院校"), _("所学专业"), _("入学日期"), _("毕业日期")),
            values,
            strict=True,
        ):
            result[f"{mode}.{key}"] = (f"{prefix}{label}", value)
    return result


def _rows_professional(archive: Archive) -> dict[str, list[tuple[str, str]]]:
    """Each row as (full text, text shown): certificate numbers are masked only when shown."""
    qualifications = []
    for q in archive.qualifications.all():
        head = (
            f"{q.get_qualification_type_display()}，{q.get_level_display()}，{q.get_method_display()}，"
            f"{_date(q.obtained_on)}，"
        )
        qualifications.append((head + q.certificate_number, head + _mask_certificate(q.certificate_number)))
    talents = [
        f"{t.get_talent_type_display()}，入选年度 {t.selected_year}，第 {t.batch} 期，{t.get_status_display()}"
        + (f"，毕业年度 {t.graduation_year}" if t.graduation_year else "")
        for t in archive.talents.all()
    ]
    awards = [
        f"{a.content}，{a.get_level_display()}，{_date(a.awarded_on)}，{a.issuer}"
        + (f"，备注：{a.remark}" if a.remark else "")
        + (f"，其他守信信息：{a.other_credit_info}" if a.other_credit_info else "")
        for a in archive.awards.all()
    ]
    # In the archive's order (by date), as the edit form lists them.
    return {
        "qualifications": qualifications,
        "talents": [(t, t) for t in talents],
        "awards": [(a, a) for a in awards],
    }


def _snapshot_professional(archive: Archive) -> dict[str, tuple[str, ...]]:
    def yes_no(v):
        return "" if v is None else (_("是") if v else _("否"))

    result: dict[str, tuple[str, ...]] = {
        "is_cpa": (_("是否注册会计师"), yes_no(archive.is_cpa)),
        "is_tax_agent": (_("是否税务师"), yes_no(archive.is_tax_agent)),
        "is_asset_appraiser": (_("是否资产评估师"), yes_no(archive.is_asset_appraiser)),
        "abacus_level": (_("珠算等级"), archive.get_abacus_level_display() if archive.abacus_level else ""),
    }
    labels = {"qualifications": _("专业技术资格"), "talents": _("高端会计人才"), "awards": _("奖励信息")}
    for key, rows in _rows_professional(archive).items():
        seen: Counter[str] = Counter()
        for full, shown in rows:
            # Identical rows are kept apart (removing one duplicate is a change), and
            # rows are compared on their full text, not on the masked one.
            seen[full] += 1
            result[f"{key}:{full}#{seen[full]}"] = (labels[key], shown, full)
    return result


def _snapshot_work(archive: Archive) -> dict[str, tuple[str, str]]:
    return {
        "employment_status": (
            _("在岗状态"),
            archive.get_employment_status_display() if archive.employment_status else "",
        ),
        "division": (_("所属行政区划"), str(archive.division or "")),
        "employer": (_("工作单位"), archive.employer),
        "school": (_("学校"), archive.school),
        "student_card": (_("学生证"), _file(archive.student_card)),
    }


SNAPSHOTS: dict[str, Callable[[Archive], dict[str, tuple[str, ...]]]] = {
    ChangeItem.PERSONAL: _snapshot_personal,
    ChangeItem.CONTACT: _snapshot_contact,
    ChangeItem.EDUCATION: _snapshot_education,
    ChangeItem.PROFESSIONAL: _snapshot_professional,
    ChangeItem.WORK: _snapshot_work,
}


def _identity_rows(user: User) -> list[tuple[str, str]]:
    """性别, 出生日期, 国籍, 证件类型, 证件号码: shown with 个人信息, never changed here."""
    return [
        (_("性别"), user.get_gender_display()),
        (_("出生日期"), _date(user.birth_date)),
        (_("国籍"), user.nationality),
        (_("证件类型"), user.get_id_type_display()),
        (_("证件号码"), user.id_number_masked),
    ]


FILE_FIELDS = {"photo", "id_card_front", "id_card_back", "student_card"}


def item_snapshot(*, archive: Archive, item: str) -> list[tuple[str, str]]:
    """The item's current values as (label, value) rows, for the read-only page
    (an upload shows as 已上传; the change log keeps its stored name)."""
    rows = [
        (entry[0], (_("已上传") if entry[1] else "") if key in FILE_FIELDS else entry[1])
        for key, entry in SNAPSHOTS[item](archive).items()
    ]
    if item == ChangeItem.PERSONAL:
        rows[1:1] = _identity_rows(archive.user)  # after 姓名
    return rows


def _diff(before: dict, after: dict) -> list[dict]:
    """Changed fields as label, old and new as shown; an entry (label, shown[, compared])
    is compared on its last element, so a masked value that looks the same still counts."""
    changes = []
    for key in list(before) + [k for k in after if k not in before]:
        label = (after.get(key) or before[key])[0]
        old, new = before.get(key, ("", "")), after.get(key, ("", ""))
        if old[-1] != new[-1]:
            changes.append({"field": key.split(":")[0], "label": str(label), "old": old[1], "new": new[1]})
    return changes


# --- the change itself -------------------------------------------------------------------


def _locked(archive: Archive, expected_version: int) -> Archive:
    locked = (
        Archive.objects.select_for_update(of=("self",))
        .select_related("user", "division", "ethnicity", "political_status")
        .get(pk=archive.pk)
    )
    if locked.status != ArchiveStatus.COLLECTED:
        raise NotCollected(_("请先完成信息采集。"), code="not_collected")
    # The archive row is the person's lock (transfers.business): no change while a
    # transfer out is open, none after 已调出.
    refusal = business_refusal(user=locked.user, action="change")
    if refusal:
        raise BusinessRefused(refusal, code="change")
    if locked.version != expected_version:
        raise StaleVersion(
            _("该信息已在其他页面或设备上修改并保存。为避免覆盖，本次未保存，请刷新页面查看最新信息后重新修改。"),
            code="stale",
        )
    return locked


def _apply(
    *, archive: Archive, item: str, expected_version: int, ip: str | None, write: Callable[[Archive], None]
) -> ChangeRecord:
    """Lock, check the version, write, compare, record; nothing changed → NothingChanged (rolled back)."""
    with transaction.atomic():
        locked = _locked(archive, expected_version)
        before = SNAPSHOTS[item](locked)
        write(locked)
        after = SNAPSHOTS[item](locked)
        changes = _diff(before, after)
        if not changes:
            raise NothingChanged(_("您没有修改任何信息，无需保存。"), code="nothing")
        locked.version += 1
        locked.save()
        record = ChangeRecord.objects.create(user=locked.user, item=item, changes=changes, ip_address=ip)
    logger.info("archive %s changed: %s (%d fields)", locked.archive_number, item, len(changes))
    return record


def change_personal(
    *,
    archive: Archive,
    expected_version: int,
    ip: str | None,
    name: str,
    ethnicity,
    political_status,
    email: str,
    uploads: dict[str, ContentFile],
) -> ChangeRecord:
    """个人信息: 姓名, 民族, 政治面貌, 电子邮箱, photo and ID images."""

    def write(locked: Archive) -> None:
        if locked.user.name != name:
            locked.user.name = name
            locked.user.save(update_fields=["name"])
        collection.personal_write(locked, ethnicity=ethnicity, political_status=political_status, email=email)
        for field, content in uploads.items():
            if field in ("photo", "id_card_front", "id_card_back"):
                collection.upload_write(locked, field=field, content=content)

    return _apply(archive=archive, item=ChangeItem.PERSONAL, expected_version=expected_version, ip=ip, write=write)


def change_education(
    *, archive: Archive, expected_version: int, ip: str | None, full_time: dict, part_time: dict | None
) -> ChangeRecord:
    """学历信息."""

    def write(locked: Archive) -> None:
        collection.education_write(locked, full_time=full_time, part_time=part_time)

    return _apply(archive=archive, item=ChangeItem.EDUCATION, expected_version=expected_version, ip=ip, write=write)


def change_professional(
    *,
    archive: Archive,
    expected_version: int,
    ip: str | None,
    certification: dict,
    qualifications: list[dict],
    talents: list[dict],
    awards: list[dict],
) -> ChangeRecord:
    """专业技术信息: certifications; add / edit / remove rows."""

    def write(locked: Archive) -> None:
        collection.professional_write(
            locked, certification=certification, qualifications=qualifications, talents=talents, awards=awards
        )

    return _apply(
        archive=archive, item=ChangeItem.PROFESSIONAL, expected_version=expected_version, ip=ip, write=write
    )


def change_work(
    *,
    archive: Archive,
    expected_version: int,
    ip: str | None,
    employment_status: str,
    division,
    employer: str,
    school: str,
    provincial_declaration: bool,
    student_card: ContentFile | None,
) -> ChangeRecord:
    """工作信息. A new 所属行政区划 takes effect at once: staff scope follows the archive's division."""

    def write(locked: Archive) -> None:
        if student_card is not None:
            collection.upload_write(locked, field="student_card", content=student_card)
        collection.work_write(
            locked,
            employment_status=employment_status,
            division=division,
            employer=employer,
            school=school,
            provincial_declaration=provincial_declaration,
        )

    return _apply(archive=archive, item=ChangeItem.WORK, expected_version=expected_version, ip=ip, write=write)


def change_mobile(
    *,
    archive: Archive,
    expected_version: int,
    ip: str | None,
    new_mobile: PhoneNumber,
    sms_code: str,
    password: str,
) -> ChangeRecord:
    """联系方式: the new number proves itself by SMS, the person by the current
    password; the old number is told it was replaced."""
    user: User = archive.user
    password_check(user=user, password=password)
    if user.mobile == new_mobile:
        raise PortalError(_("新手机号码与当前手机号码相同。"), code="same_mobile")
    if mobile_is_bound(mobile=new_mobile):
        raise AccountExists(_("该手机号码已绑定其他账号，请更换。"), code="mobile_taken")
    code = sms.sms_code_verify(mobile=new_mobile, purpose=SmsPurpose.CHANGE_PHONE, code=sms_code)
    old_mobile = user.mobile

    def write(locked: Archive) -> None:
        sms.sms_code_consume(code=code)
        locked.user.mobile = new_mobile
        locked.user.save(update_fields=["mobile"])
        if old_mobile:
            sms.sms_message_queue(
                mobile=old_mobile,
                body=f"您的贵州省财政会计网账号绑定的手机号码已变更为{mask_mobile(str(new_mobile))}。"
                "如非本人操作，请立即通过“忘记密码”重置密码并联系当地财政部门。",
            )

    try:
        return _apply(archive=archive, item=ChangeItem.CONTACT, expected_version=expected_version, ip=ip, write=write)
    except IntegrityError:
        raise AccountExists(_("该手机号码已绑定其他账号，请更换。"), code="mobile_taken") from None
