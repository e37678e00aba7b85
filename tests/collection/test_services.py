"""collection/services.py: the steps' state changes, submission, uploads and the orphan sweep."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.identity import CHINA
from collection import services, tasks
from collection.models import (
    Archive,
    ArchiveStatus,
    Division,
    EducationMode,
    EmploymentStatus,
    Ethnicity,
    PoliticalStatus,
)
from portal.errors import PortalError
from portal.images import DOCUMENT, PHOTO, clean_image
from tests.collection.steps import archive_of, complete
from tests.images import document_upload, jpeg_bytes, photo_upload

pytestmark = pytest.mark.django_db

STORED_NAME = re.compile(r"^archives/[0-9a-f]{32}\.jpg$")


def _image(rule=DOCUMENT) -> ContentFile:
    return clean_image(photo_upload() if rule is PHOTO else document_upload(), rule=rule)


def _upload_all(archive) -> None:
    services.archive_upload_replace(archive=archive, field="photo", content=_image(PHOTO))
    services.archive_upload_replace(archive=archive, field="id_card_front", content=_image())
    services.archive_upload_replace(archive=archive, field="id_card_back", content=_image())


def _personal(archive, **identity) -> None:
    services.archive_save_personal(
        archive=archive, ethnicity=Ethnicity.objects.get(name="穿青人"),
        political_status=PoliticalStatus.objects.get(name="群众"), email="a@example.com", **identity,
    )


@pytest.fixture
def ready(client, person):
    """An archive whose five steps were completed through the pages."""
    complete(client, "notice", "personal", "education", "professional", "work")
    return archive_of(person)


# --- 阅读须知 and 个人信息 -----------------------------------------------------------------


def test_archive_start_records_the_promise_once(accountant):
    archive = services.archive_start(user=accountant)
    first = archive.notice_accepted_at
    assert first is not None and archive.status == ArchiveStatus.DRAFT
    again = services.archive_start(user=accountant)
    assert again.pk == archive.pk and again.notice_accepted_at == first


def test_personal_needs_the_three_uploads(accountant, reference_data):
    archive = services.archive_start(user=accountant)
    with pytest.raises(services.ArchiveIncomplete, match="免冠证件照"):
        _personal(archive)
    services.archive_upload_replace(archive=archive, field="photo", content=_image(PHOTO))
    with pytest.raises(services.ArchiveIncomplete, match="身份证人像面"):
        _personal(archive)
    assert not Archive.objects.get(pk=archive.pk).personal_done


def test_resident_id_holder_gets_nationality_china_and_keeps_id_derived_facts(accountant, reference_data):
    archive = services.archive_start(user=accountant)
    _upload_all(archive)
    born, gender = accountant.birth_date, accountant.gender
    _personal(archive, gender="female" if gender == "male" else "male", birth_date=dt.date(1970, 1, 1),
              nationality="法国")
    accountant.refresh_from_db()
    assert (accountant.gender, accountant.birth_date, accountant.nationality) == (gender, born, CHINA)
    assert Archive.objects.get(pk=archive.pk).personal_done


def test_passport_holder_enters_gender_birth_date_and_nationality_once(passport_holder, reference_data):
    assert not passport_holder.gender and passport_holder.birth_date is None
    archive = services.archive_start(user=passport_holder)
    _upload_all(archive)
    with pytest.raises(services.ArchiveIncomplete, match="性别"):
        _personal(archive)
    _personal(archive, gender="female", birth_date=dt.date(1988, 2, 29), nationality=" 新加坡 ")
    passport_holder.refresh_from_db()
    assert (passport_holder.gender, passport_holder.birth_date, passport_holder.nationality) == (
        "female", dt.date(1988, 2, 29), "新加坡")
    _personal(archive, gender="male", birth_date=dt.date(1990, 1, 1), nationality="美国")
    passport_holder.refresh_from_db()
    assert (passport_holder.gender, passport_holder.birth_date, passport_holder.nationality) == (
        "female", dt.date(1988, 2, 29), "新加坡")


# --- uploads ------------------------------------------------------------------------------


def test_upload_gets_a_random_name_and_the_replaced_file_is_deleted(accountant, django_capture_on_commit_callbacks):
    archive = services.archive_start(user=accountant)
    with django_capture_on_commit_callbacks(execute=True):
        services.archive_upload_replace(archive=archive, field="photo", content=_image(PHOTO))
    first = Archive.objects.get(pk=archive.pk).photo.name
    assert STORED_NAME.match(first) and default_storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        services.archive_upload_replace(archive=archive, field="photo", content=_image(PHOTO))
    second = Archive.objects.get(pk=archive.pk).photo.name
    assert second != first and STORED_NAME.match(second)
    assert default_storage.exists(second) and not default_storage.exists(first)


def test_upload_to_an_unknown_field_is_refused(accountant):
    archive = services.archive_start(user=accountant)
    with pytest.raises(ValueError):
        services.archive_upload_replace(archive=archive, field="user", content=_image())


def test_leaving_student_status_deletes_the_student_card(accountant, reference_data,
                                                         django_capture_on_commit_callbacks):
    archive = services.archive_start(user=accountant)
    services.archive_upload_replace(archive=archive, field="student_card", content=_image())
    county = Division.objects.get(code="520102")
    services.archive_save_work(archive=archive, employment_status=EmploymentStatus.STUDENT, division=county,
                               employer="x", school="贵州大学", provincial_declaration=False)
    archive.refresh_from_db()
    card = archive.student_card.name
    assert archive.school == "贵州大学" and archive.employer == "" and default_storage.exists(card)
    with django_capture_on_commit_callbacks(execute=True):
        services.archive_save_work(archive=archive, employment_status=EmploymentStatus.UNEMPLOYED, division=county,
                                   employer="x", school="贵州大学", provincial_declaration=True)
    archive.refresh_from_db()
    assert archive.student_card.name == "" and archive.school == "" and archive.employer == ""
    assert archive.provincial_declaration is False  # only meaningful for 省本级
    assert not default_storage.exists(card)


def test_student_without_card_and_provincial_level_without_declaration_are_refused(accountant, reference_data):
    archive = services.archive_start(user=accountant)
    with pytest.raises(services.ArchiveIncomplete, match="学生证"):
        services.archive_save_work(archive=archive, employment_status=EmploymentStatus.STUDENT,
                                   division=Division.objects.get(code="520102"), employer="", school="贵州大学",
                                   provincial_declaration=False)
    with pytest.raises(services.ArchiveIncomplete, match="省本级"):
        services.archive_save_work(archive=archive, employment_status=EmploymentStatus.ACCOUNTING,
                                   division=Division.objects.get(code="520000"), employer="省财政厅",
                                   school="", provincial_declaration=False)
    assert not Archive.objects.get(pk=archive.pk).work_done


# --- submission ---------------------------------------------------------------------------


def test_submit_generates_number_and_time_at_once(ready):
    before = timezone.now()
    archive = services.archive_submit(archive=ready)
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.COLLECTED
    assert before <= archive.collected_at <= timezone.now()
    year = timezone.localtime(archive.collected_at).year
    assert archive.archive_number == f"52{year}{archive.pk:08d}"
    assert archive.step_drafts == {}


@pytest.mark.parametrize(
    "crafted",
    [
        {"division": None},
        {"notice_accepted_at": None},
        {"photo": ""},
        {"ethnicity": None},
        {"employer": ""},
        {"abacus_level": ""},
        {"employment_status": "student"},  # no school, no card
        {"division_id": "520000"},  # 省本级 without the declaration
    ],
    ids=lambda c: ",".join(c),
)
def test_submit_rechecks_the_data_whatever_the_flags_say(ready, crafted):
    if "division_id" in crafted:
        crafted = {"division": Division.objects.get(code=crafted["division_id"]), "provincial_declaration": False}
    Archive.objects.filter(pk=ready.pk).update(**crafted)
    with pytest.raises(services.ArchiveIncomplete):
        services.archive_submit(archive=ready)
    archive = Archive.objects.get(pk=ready.pk)
    assert archive.status == ArchiveStatus.DRAFT and archive.archive_number is None


def test_submit_refuses_without_full_time_education(ready):
    ready.educations.filter(mode=EducationMode.FULL_TIME).delete()
    with pytest.raises(services.ArchiveIncomplete, match="全日制"):
        services.archive_submit(archive=ready)


def test_a_collected_archive_is_locked_for_every_step_service(ready):
    services.archive_submit(archive=ready)
    archive = Archive.objects.get(pk=ready.pk)
    county = archive.division
    attempts = [
        lambda: services.archive_submit(archive=archive),
        lambda: services.archive_start(user=archive.user),
        lambda: services.archive_upload_replace(archive=archive, field="photo", content=_image(PHOTO)),
        lambda: services.archive_step_draft_keep(archive=archive, step="work", data={"employer": ["x"]}),
        lambda: _personal(archive),
        lambda: services.archive_save_education(archive=archive, full_time={}, part_time=None),
        lambda: services.archive_save_professional(archive=archive, certification={}, qualifications=[],
                                                   talents=[], awards=[]),
        lambda: services.archive_save_work(archive=archive, employment_status="unemployed", division=county,
                                           employer="", school="", provincial_declaration=False),
    ]
    for attempt in attempts:
        with pytest.raises(services.ArchiveLocked):
            attempt()
    assert issubclass(services.ArchiveLocked, PortalError)
    after = Archive.objects.get(pk=ready.pk)
    assert (after.version, after.photo.name, after.employment_status) == (
        archive.version, archive.photo.name, archive.employment_status)


# --- the orphan sweep ---------------------------------------------------------------------


def _age(name: str, hours: float) -> None:
    path = default_storage.path(name)
    past = (timezone.now() - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (past, past))


def test_orphan_task_deletes_old_unreferenced_files_only(ready):
    referenced = [getattr(ready, f).name for f in ("photo", "id_card_front", "id_card_back")]
    orphan = default_storage.save("archives/0123456789abcdef0123456789abcdef.jpg", ContentFile(jpeg_bytes()))
    fresh = default_storage.save("archives/fedcba9876543210fedcba9876543210.jpg", ContentFile(jpeg_bytes()))
    for name in [*referenced, orphan]:
        _age(name, hours=3)

    deleted = tasks.orphan_uploads_delete.apply().get()

    assert deleted == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(fresh)  # may belong to an upload being saved right now
    assert all(default_storage.exists(name) for name in referenced)


def test_files_of_a_removed_draft_are_swept(ready):
    names = [getattr(ready, f).name for f in ("photo", "id_card_front", "id_card_back")]
    Archive.objects.filter(pk=ready.pk).delete()  # e.g. by admin, or with its account: a row delete leaves files
    for name in names:
        _age(name, hours=2)
    assert services.orphan_uploads_delete() == 3
    assert not any(default_storage.exists(name) for name in names)


def test_orphan_sweep_without_any_upload_yet(db):
    assert services.orphan_uploads_delete() == 0
