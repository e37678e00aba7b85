"""Database constraints: the absolute rules hold even for a write that skips the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from collection import services
from collection.models import (
    Archive,
    ArchiveStatus,
    Degree,
    Education,
    EducationLevel,
    EducationMode,
    HighEndTalent,
    TalentStatus,
    TalentType,
)
from tests.collection.steps import archive_of, complete, url
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _refused(write) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def draft(accountant):
    return services.archive_start(user=accountant)


@pytest.fixture
def collected(client, person):
    complete(client, "notice", "personal", "education", "professional", "work")
    assert client.post(url("review"), {"nav": "next"}).status_code == 302
    archive = archive_of(person)
    assert archive.status == ArchiveStatus.COLLECTED
    return archive


def _talent(archive, **fields):
    values = {"talent_type": TalentType.HIGH_END, "selected_year": 2015, "batch": "3",
              "status": TalentStatus.IN_TRAINING, "graduation_year": None, **fields}
    return HighEndTalent.objects.create(archive=archive, **values)


def test_a_new_archive_is_a_draft_without_number(draft):
    assert draft.status == ArchiveStatus.DRAFT
    assert draft.archive_number is None and draft.collected_at is None
    assert ArchiveStatus.values == ["not_collected", "draft", "collected"]
    assert [str(s.label) for s in ArchiveStatus] == ["未采集", "采集中", "已采集"]


def test_one_archive_per_person(draft, accountant):
    _refused(lambda: Archive.objects.create(user=accountant))
    assert services.archive_start(user=accountant).pk == draft.pk  # starting again reuses it


@pytest.mark.parametrize("status", [TalentStatus.IN_TRAINING, TalentStatus.ELIMINATED, TalentStatus.REMOVED])
def test_graduation_year_only_when_graduated(draft, status):
    _refused(lambda: _talent(draft, status=status, graduation_year=2018))
    assert _talent(draft, status=status).graduation_year is None


def test_graduated_needs_a_graduation_year(draft):
    _refused(lambda: _talent(draft, status=TalentStatus.GRADUATED, graduation_year=None))
    assert _talent(draft, status=TalentStatus.GRADUATED, graduation_year=2018).pk


def test_graduation_year_not_before_selection(draft):
    _refused(lambda: _talent(draft, status=TalentStatus.GRADUATED, selected_year=2018, graduation_year=2017))


def test_a_graduate_row_cannot_lose_its_year_by_update(draft):
    talent = _talent(draft, status=TalentStatus.GRADUATED, graduation_year=2018)
    _refused(lambda: HighEndTalent.objects.filter(pk=talent.pk).update(graduation_year=None))
    _refused(lambda: HighEndTalent.objects.filter(pk=talent.pk).update(status=TalentStatus.IN_TRAINING))


def _education(archive, mode=EducationMode.FULL_TIME, start=dt.date(2008, 9, 1), end=dt.date(2012, 7, 1)):
    return Education.objects.create(
        archive=archive, mode=mode, level=EducationLevel.objects.first(), degree=Degree.objects.first(),
        school="贵州财经大学", major="会计学", start_date=start, graduation_date=end,
    )


def test_education_one_per_mode_and_dates_ordered(draft, reference_data):
    _education(draft)
    _refused(lambda: _education(draft))
    _education(draft, mode=EducationMode.PART_TIME)
    other = services.archive_start(user=AccountFactory())
    _refused(lambda: _education(other, end=dt.date(2008, 9, 1)))
    _refused(lambda: _education(other, end=dt.date(2007, 7, 1)))


def test_archive_number_only_with_status_collected(draft):
    _refused(lambda: Archive.objects.filter(pk=draft.pk).update(archive_number="52202600000001"))
    _refused(lambda: Archive.objects.filter(pk=draft.pk).update(collected_at=timezone.now(), status="collected"))


def test_a_draft_may_be_partial_but_a_collected_archive_may_not(draft, reference_data):
    incomplete = {"status": "collected", "archive_number": "52202600000009", "collected_at": timezone.now()}
    _refused(lambda: Archive.objects.filter(pk=draft.pk).update(**incomplete))
    assert Archive.objects.get(pk=draft.pk).status == ArchiveStatus.DRAFT


@pytest.mark.parametrize(
    "broken",
    [
        {"photo": ""},
        {"id_card_front": ""},
        {"id_card_back": ""},
        {"ethnicity": None},
        {"political_status": None},
        {"division": None},
        {"employment_status": ""},
        {"employer": ""},  # employed without 工作单位
        {"employment_status": "student", "school": "贵州大学"},  # student without 学生证
        {"employment_status": "student", "student_card": "archives/x.jpg"},  # student without 学校
    ],
    ids=lambda b: ",".join(b),
)
def test_collected_archive_constraints(collected, broken):
    _refused(lambda: Archive.objects.filter(pk=collected.pk).update(**broken))


def test_archive_numbers_are_unique(collected):
    other_user = AccountFactory()
    other = services.archive_start(user=other_user)
    fields = {f: getattr(collected, f) for f in ("ethnicity", "political_status", "division", "photo",
                                                  "id_card_front", "id_card_back", "employment_status",
                                                  "employer")}
    Archive.objects.filter(pk=other.pk).update(**fields)
    _refused(lambda: Archive.objects.filter(pk=other.pk).update(
        status="collected", collected_at=timezone.now(), archive_number=collected.archive_number))
