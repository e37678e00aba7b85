"""The archive's state changes: the wizard's steps, uploads, submission.

Steps in order (the manual's 第二步 … 第七步): 阅读须知 → 个人信息 → 学历信息 →
专业技术信息 → 工作信息 → 提交. Each step's service saves the validated data of
that step and marks it done; `archive_submit` re-checks the data itself, so the
order holds whatever is posted.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import CHINA, CHINESE_NATIONAL_TYPES, TYPES_WITH_BIRTH_DATE
from accounts.models import User
from portal.errors import PortalError

from .models import (
    EMPLOYED_STATUSES,
    Archive,
    ArchiveStatus,
    Award,
    Education,
    EducationMode,
    EmploymentStatus,
    HighEndTalent,
    ProfessionalQualification,
)

logger = logging.getLogger(__name__)

STEPS = ["notice", "personal", "education", "professional", "work", "review"]
STEP_LABELS = {
    "notice": _("阅读须知"),
    "personal": _("个人信息"),
    "education": _("学历信息"),
    "professional": _("专业技术信息"),
    "work": _("工作信息"),
    "review": _("提交"),
}
UPLOAD_FIELDS = ("photo", "id_card_front", "id_card_back", "student_card")


class ArchiveLocked(PortalError):
    """The archive is collected: the wizard no longer edits it (信息变更 does)."""


class ArchiveIncomplete(PortalError):
    """Submitting an archive whose earlier steps are not complete."""


def _editable(archive: Archive) -> None:
    if archive.status == ArchiveStatus.COLLECTED:
        raise ArchiveLocked(_("信息采集已完成，如需修改请使用“信息变更”。"), code="collected")


def step_done(archive: Archive | None, step: str) -> bool:
    if archive is None:
        return False
    return {
        "notice": archive.notice_accepted_at is not None,
        "personal": archive.personal_done,
        "education": archive.education_done,
        "professional": archive.professional_done,
        "work": archive.work_done,
        "review": archive.status == ArchiveStatus.COLLECTED,
    }[step]


def first_open_step(archive: Archive | None) -> str:
    """The first step not done yet: where 信息采集 resumes."""
    for step in STEPS:
        if not step_done(archive, step):
            return step
    return "review"


def step_reachable(archive: Archive | None, step: str) -> bool:
    """A step can be opened once every step before it is done."""
    index = STEPS.index(step)
    return all(step_done(archive, s) for s in STEPS[:index])


def _touch(archive: Archive, *fields: str) -> None:
    archive.version += 1
    archive.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def archive_start(*, user: User) -> Archive:
    """阅读须知: the person promises the information is true; the draft begins."""
    archive, _created = Archive.objects.select_for_update().get_or_create(user=user)
    _editable(archive)
    if archive.notice_accepted_at is None:
        archive.notice_accepted_at = timezone.now()
        _touch(archive, "notice_accepted_at")
    return archive


def archive_step_draft_keep(*, archive: Archive, step: str, data: dict[str, Any]) -> None:
    """Keep the raw input of a step that did not validate (上一步 loses nothing)."""
    _editable(archive)
    drafts = dict(archive.step_drafts or {})
    drafts[step] = {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"}
    archive.step_drafts = drafts
    archive.save(update_fields=["step_drafts", "updated_at"])


def _clear_draft(archive: Archive, step: str) -> list[str]:
    if step in (archive.step_drafts or {}):
        archive.step_drafts = {k: v for k, v in archive.step_drafts.items() if k != step}
        return ["step_drafts"]
    return []


# --- writers: one part of the archive each, shared by the wizard and 信息变更 ---------
# They change the in-memory archive (and child rows), never check the status and
# never save the archive row: the calling service does, with its own rules.


def upload_write(archive: Archive, *, field: str, content: ContentFile) -> None:
    """Store a cleaned image in an upload field; the replaced file goes on commit."""
    if field not in UPLOAD_FIELDS:
        raise ValueError(field)
    old_name = getattr(archive, field).name
    getattr(archive, field).save("upload.jpg", content, save=False)
    if old_name:
        transaction.on_commit(lambda: default_storage.delete(old_name))


def personal_write(archive: Archive, *, ethnicity, political_status, email: str) -> list[str]:
    archive.ethnicity = ethnicity
    archive.political_status = political_status
    archive.email = email
    return ["ethnicity", "political_status", "email"]


def education_write(archive: Archive, *, full_time: dict, part_time: dict | None) -> None:
    """全日制 required, 非全日制 optional (None removes it)."""
    Education.objects.update_or_create(archive=archive, mode=EducationMode.FULL_TIME, defaults=full_time)
    if part_time:
        Education.objects.update_or_create(archive=archive, mode=EducationMode.PART_TIME, defaults=part_time)
    else:
        Education.objects.filter(archive=archive, mode=EducationMode.PART_TIME).delete()


def professional_write(
    archive: Archive, *, certification: dict, qualifications: list[dict], talents: list[dict], awards: list[dict]
) -> list[str]:
    """The four certifications and the three sets of rows (replaced whole)."""
    for field, value in certification.items():
        setattr(archive, field, value)
    for model, rows in ((ProfessionalQualification, qualifications), (HighEndTalent, talents), (Award, awards)):
        model.objects.filter(archive=archive).delete()
        model.objects.bulk_create([model(archive=archive, **row) for row in rows])
    return list(certification.keys())


def work_write(
    archive: Archive, *, employment_status: str, division, employer: str, school: str, provincial_declaration: bool
) -> list[str]:
    """工作信息; a 学生证 is dropped (on commit) when the person is no longer a student.
    Raises ArchiveIncomplete when the combination is not complete."""
    archive.employment_status = employment_status
    archive.division = division
    archive.employer = employer if employment_status in EMPLOYED_STATUSES else ""
    archive.school = school if employment_status == EmploymentStatus.STUDENT else ""
    archive.provincial_declaration = provincial_declaration if division.is_provincial_level else False
    missing = work_missing(archive)
    if missing:
        raise ArchiveIncomplete(missing[0], code="work")
    if employment_status != EmploymentStatus.STUDENT and archive.student_card:
        old_card = archive.student_card.name
        archive.student_card = ""
        transaction.on_commit(lambda: default_storage.delete(old_card))
    return ["employment_status", "division", "employer", "school", "provincial_declaration", "student_card"]


# --- the wizard ----------------------------------------------------------------------


@transaction.atomic
def archive_upload_replace(*, archive: Archive, field: str, content: ContentFile) -> None:
    """Store a cleaned image for one upload field of a draft; the replaced file is deleted."""
    _editable(archive)
    upload_write(archive, field=field, content=content)
    _touch(archive, field)


@transaction.atomic
def archive_save_personal(
    *,
    archive: Archive,
    ethnicity,
    political_status,
    email: str,
    gender: str | None = None,
    birth_date: dt.date | None = None,
    nationality: str | None = None,
) -> None:
    """个人信息. Identity facts the ID number does not carry are set once, here,
    before collection; afterwards nothing here can change them."""
    _editable(archive)
    user = archive.user
    user_fields = []
    if user.id_type not in TYPES_WITH_BIRTH_DATE:
        if gender and not user.gender:
            user.gender = gender
            user_fields.append("gender")
        if birth_date and not user.birth_date:
            user.birth_date = birth_date
            user_fields.append("birth_date")
    if not user.nationality:
        user.nationality = CHINA if user.id_type in CHINESE_NATIONAL_TYPES else (nationality or "").strip()
        if user.nationality:
            user_fields.append("nationality")
    if user_fields:
        user.save(update_fields=user_fields)
    missing = personal_missing(archive)
    if missing:
        raise ArchiveIncomplete(missing[0], code="personal")
    fields = personal_write(archive, ethnicity=ethnicity, political_status=political_status, email=email)
    archive.personal_done = True
    _touch(archive, *fields, "personal_done", *_clear_draft(archive, "personal"))


def personal_missing(archive: Archive) -> list[str]:
    """What 个人信息 still lacks besides the form fields (uploads, identity facts)."""
    user = archive.user
    missing = []
    if not user.gender:
        missing.append(_("请选择性别。"))
    if not user.birth_date:
        missing.append(_("请填写出生日期。"))
    if not user.nationality:
        missing.append(_("请填写国籍。"))
    for field, label in (
        ("photo", _("免冠证件照")),
        ("id_card_front", _("身份证人像面")),
        ("id_card_back", _("身份证国徽面")),
    ):
        if not getattr(archive, field):
            missing.append(_("请上传%(label)s。") % {"label": label})
    return missing


@transaction.atomic
def archive_save_education(*, archive: Archive, full_time: dict, part_time: dict | None) -> None:
    """学历信息: 全日制 required, 非全日制 optional (None removes it)."""
    _editable(archive)
    education_write(archive, full_time=full_time, part_time=part_time)
    archive.education_done = True
    _touch(archive, "education_done", *_clear_draft(archive, "education"))


@transaction.atomic
def archive_save_professional(
    *,
    archive: Archive,
    certification: dict,
    qualifications: list[dict],
    talents: list[dict],
    awards: list[dict],
) -> None:
    """专业技术信息: the four certifications and the three sets of rows (replaced whole)."""
    _editable(archive)
    fields = professional_write(
        archive, certification=certification, qualifications=qualifications, talents=talents, awards=awards
    )
    archive.professional_done = True
    _touch(archive, *fields, "professional_done", *_clear_draft(archive, "professional"))


@transaction.atomic
def archive_save_work(
    *,
    archive: Archive,
    employment_status: str,
    division,
    employer: str,
    school: str,
    provincial_declaration: bool,
) -> None:
    """工作信息. A 在校生 needs a 学生证 upload (stored by archive_upload_replace)."""
    _editable(archive)
    fields = work_write(
        archive,
        employment_status=employment_status,
        division=division,
        employer=employer,
        school=school,
        provincial_declaration=provincial_declaration,
    )
    archive.work_done = True
    _touch(archive, *fields, "work_done", *_clear_draft(archive, "work"))


def work_missing(archive: Archive) -> list[str]:
    missing = []
    if not archive.employment_status:
        missing.append(_("请选择在岗状态。"))
    if archive.division_id is None:
        missing.append(_("请选择所属行政区划。"))
    elif archive.division.is_provincial_level and not archive.provincial_declaration:
        missing.append(_("选择省本级须声明所在单位为省直行政事业单位或省属国有企业。"))
    if archive.employment_status in EMPLOYED_STATUSES and not archive.employer.strip():
        missing.append(_("请填写工作单位。"))
    if archive.employment_status == EmploymentStatus.STUDENT:
        if not archive.school.strip():
            missing.append(_("请填写学校名称。"))
        if not archive.student_card:
            missing.append(_("在校生须上传学生证。"))
    return missing


def archive_missing(archive: Archive) -> list[str]:
    """Everything that keeps the archive from being submitted, checked on the data."""
    missing = []
    if archive.notice_accepted_at is None:
        missing.append(_("请先阅读采集须知并承诺填写信息的真实性。"))
    missing += personal_missing(archive)
    if archive.ethnicity_id is None or archive.political_status_id is None:
        missing.append(_("请完成个人信息（民族、政治面貌）。"))
    if not archive.educations.filter(mode=EducationMode.FULL_TIME).exists():
        missing.append(_("请填写全日制教育信息。"))
    if not archive.professional_done or archive.is_cpa is None or not archive.abacus_level:
        missing.append(_("请完成专业技术信息。"))
    missing += work_missing(archive)
    return missing


@transaction.atomic
def archive_submit(*, archive: Archive) -> Archive:
    """提交: the archive is generated at once, with its number and time (no review)."""
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the division outer join.
    archive = Archive.objects.select_for_update(of=("self",)).select_related("user", "division").get(pk=archive.pk)
    _editable(archive)
    missing = archive_missing(archive)
    if missing:
        raise ArchiveIncomplete(missing[0], code="incomplete")
    now = timezone.now()
    archive.status = ArchiveStatus.COLLECTED
    archive.collected_at = now
    archive.archive_number = f"52{timezone.localtime(now):%Y}{archive.pk:08d}"
    archive.step_drafts = {}
    _touch(archive, "status", "collected_at", "archive_number", "step_drafts")
    logger.info("archive %s collected for user %s", archive.archive_number, archive.user_id)
    return archive


def orphan_uploads_delete(*, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Delete stored archive images no archive refers to (replaced, abandoned)."""
    referenced = set()
    for names in Archive.objects.values_list(*UPLOAD_FIELDS):
        referenced.update(n for n in names if n)
    try:
        _dirs, files = default_storage.listdir("archives")
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - older_than
    deleted = 0
    for name in files:
        path = f"archives/{name}"
        if path in referenced:
            continue
        try:
            if default_storage.get_modified_time(path) > cutoff:
                continue  # may belong to a save in flight
        except (NotImplementedError, FileNotFoundError):
            continue  # age unknown: never delete what might be in flight
        default_storage.delete(path)
        deleted += 1
    return deleted
