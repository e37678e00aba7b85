"""Reads about a person's archive."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import Archive, ArchiveStatus, EducationMode

_UNSET = object()


def archive_for(*, user) -> Archive | None:
    """The person's archive with what every wizard page needs, or None (未采集)."""
    if not user.is_authenticated:
        return None
    # The user is the one we were given (no join: one table fewer to plan on every page), and
    # no ORDER BY: user_id is unique.
    archive = (
        Archive.objects.select_related("ethnicity", "political_status", "division__parent")
        .filter(user=user).order_by()[:1]
    )
    archive = next(iter(archive), None)
    if archive is not None:
        archive.user = user
    return archive


@dataclass(frozen=True)
class ArchiveBrief:
    """What the home page and the section gates need of an archive."""

    status: str
    archive_number: str


def archive_brief_for(*, user) -> ArchiveBrief | None:
    """The archive's status and number in one narrow query, or None (未采集)."""
    if not user.is_authenticated:
        return None
    row = next(iter(Archive.objects.filter(user_id=user.pk).order_by().values_list("status", "archive_number")[:1]),
               None)
    return None if row is None else ArchiveBrief(status=row[0], archive_number=row[1] or "")


def collection_status_for(*, user, archive=_UNSET) -> str:
    """采集状态 as the person sees it: 未采集 / 采集中 / 已采集."""
    if archive is _UNSET:
        archive = archive_for(user=user)
    if archive is None:
        return str(ArchiveStatus.NOT_COLLECTED.label)
    return str(ArchiveStatus(archive.status).label)


def _yes_no(value) -> str:
    return "" if value is None else (_("是") if value else _("否"))


def archive_summary(*, archive: Archive) -> list[dict]:
    """The review page: every step's data, read-only, with the step to edit it."""
    user = archive.user
    educations = {e.mode: e for e in archive.educations.select_related("level", "degree")}
    sections = [
        {
            "step": "personal",
            "title": _("个人信息"),
            "rows": [
                (_("姓名"), user.name),
                (_("性别"), user.get_gender_display()),
                (_("出生日期"), user.birth_date.isoformat() if user.birth_date else ""),
                (_("国籍"), user.nationality),
                (_("证件类型"), user.get_id_type_display()),
                (_("证件号码"), user.id_number_masked),
                (_("民族"), str(archive.ethnicity or "")),
                (_("政治面貌"), str(archive.political_status or "")),
                (_("电子邮箱"), archive.email),
            ],
            "uploads": [
                (f, label) for f, label in (("photo", _("免冠证件照")), ("id_card_front", _("身份证人像面")),
                                            ("id_card_back", _("身份证国徽面"))) if getattr(archive, f)
            ],
        }
    ]
    edu_rows = []
    for mode in (EducationMode.FULL_TIME, EducationMode.PART_TIME):
        e = educations.get(mode)
        if e is None:
            edu_rows.append((str(mode.label), _("未填写")))
            continue
        edu_rows.append((str(mode.label), f"{e.level}，{e.degree}\n{e.school}，{e.major}\n"
                                          f"{e.start_date:%Y-%m-%d} 至 {e.graduation_date:%Y-%m-%d}"))
    sections.append({"step": "education", "title": _("学历信息"), "rows": edu_rows})
    prof_rows = [
        (_("是否注册会计师"), _yes_no(archive.is_cpa)),
        (_("是否税务师"), _yes_no(archive.is_tax_agent)),
        (_("是否资产评估师"), _yes_no(archive.is_asset_appraiser)),
        (_("珠算等级"), archive.get_abacus_level_display() if archive.abacus_level else ""),
    ]
    for q in archive.qualifications.all():
        prof_rows.append((_("专业技术资格"), f"{q.get_qualification_type_display()}，{q.get_level_display()}，"
                                          f"{q.get_method_display()}\n{q.obtained_on:%Y-%m-%d}\n{q.certificate_number}"))
    for t in archive.talents.all():
        grad = f"，毕业年度 {t.graduation_year}" if t.graduation_year else ""
        prof_rows.append((_("高端会计人才"), f"{t.get_talent_type_display()}，入选年度 {t.selected_year}，"
                                          f"第 {t.batch} 期，{t.get_status_display()}{grad}"))
    for a in archive.awards.all():
        prof_rows.append((_("奖励信息"), f"{a.content}，{a.get_level_display()}，{a.awarded_on:%Y-%m-%d}，{a.issuer}"))
    sections.append({"step": "professional", "title": _("专业技术信息"), "rows": prof_rows})
    work_rows = [
        (_("在岗状态"), archive.get_employment_status_display() if archive.employment_status else ""),
        (_("所属行政区划"), str(archive.division or "")),
    ]
    if archive.employer:
        work_rows.append((_("工作单位"), archive.employer))
    if archive.school:
        work_rows.append((_("学校"), archive.school))
    sections.append({
        "step": "work", "title": _("工作信息"), "rows": work_rows,
        "uploads": [("student_card", _("学生证"))] if archive.student_card else [],
    })
    return sections
