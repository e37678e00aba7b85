"""Every accountant page has a bounded number of queries that does not grow with the
person's rows (issue 8 point 3): the same page for a person with 1 and with 50
credit records, claims, change records and professional rows costs the same.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from changes import services as changes
from collection import services as collection
from collection.models import Archive, Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
from collection.reference import reference_data_load
from education import claims, credits
from portal.images import DOCUMENT, PHOTO, clean_image
from tests.factories import AccountFactory
from tests.images import document_upload, photo_upload

YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference_data(db):
    return reference_data_load()


def _qualifications(n: int) -> list[dict]:
    return [{"qualification_type": "accounting", "level": "junior", "method": "exam",
             "obtained_on": dt.date(2010, 1, 1) + dt.timedelta(days=k), "certificate_number": f"Z{k:05d}"}
            for k in range(n)]


def _awards(n: int) -> list[dict]:
    return [{"content": f"先进个人 {k}", "level": "municipal", "awarded_on": dt.date(2015, 1, 1) + dt.timedelta(days=k),
             "issuer": "贵阳市财政局", "remark": "", "other_credit_info": ""} for k in range(n)]


def _draft(user, *, rows: int) -> Archive:
    """Every wizard step done but 提交: each step and the review page can be opened."""
    archive = collection.archive_start(user=user)
    for field, upload, rule in (("photo", photo_upload, PHOTO), ("id_card_front", document_upload, DOCUMENT),
                                ("id_card_back", document_upload, DOCUMENT)):
        collection.archive_upload_replace(archive=archive, field=field, content=clean_image(upload(), rule=rule))
    collection.archive_save_personal(archive=archive, ethnicity=Ethnicity.objects.get(name="汉族"),
                                     political_status=PoliticalStatus.objects.get(name="群众"), email="p@example.com")
    collection.archive_save_education(archive=archive, full_time={
        "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
        "school": "贵州财经大学", "major": "会计学", "start_date": dt.date(2008, 9, 1),
        "graduation_date": dt.date(2012, 7, 1)}, part_time={
        "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
        "school": "贵州大学", "major": "审计学", "start_date": dt.date(2013, 9, 1),
        "graduation_date": dt.date(2016, 7, 1)})
    collection.archive_save_professional(
        archive=archive,
        certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False, "abacus_level": "none"},
        qualifications=_qualifications(rows), talents=[], awards=_awards(rows),
    )
    collection.archive_save_work(archive=archive, employment_status="accounting",
                                 division=Division.objects.get(code="520102"), employer="贵州某某会计师事务所",
                                 school="", provincial_declaration=False)
    return Archive.objects.get(pk=archive.pk)


def _collected(rows: int):
    """A collected person with `rows` professional rows, credit records, pending claims and change records."""
    user = AccountFactory()
    archive = collection.archive_submit(archive=_draft(user, rows=rows))
    for k in range(rows):
        credits.credit_record_add(user=user, source="staff", record_id=f"Q{user.pk}-{k}", year=YEAR,
                                  category="public" if k % 3 == 0 else "professional", credits=Decimal("1.5"),
                                  course=f"课程 {k}", completed_at=dt.date(YEAR, 1, 1))
        claims.credit_claim_create(user=user, year=YEAR, activity="conference", days=1, details=f"会议 {k}",
                                   evidence=clean_image(document_upload(), rule=DOCUMENT))
    division = Division.objects.get(code="520102")
    for k in range(rows):
        archive = Archive.objects.get(pk=archive.pk)
        changes.change_work(archive=archive, expected_version=archive.version, ip="127.0.0.1",
                            employment_status="accounting", division=division, employer=f"单位 {k}", school="",
                            provincial_declaration=False, student_card=None)
    return user


def _count(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return len(ctx.captured_queries), response.status_code


# Bounds: the count measured on SQLite with database sessions, plus 3 for the session and
# transaction handling that differ between backends (Redis sessions use fewer).
COLLECTED_PAGES = [
    ("accounts:home", None, 9),
    ("collection:status", None, 9),
    ("changes:menu", None, 9),
    ("changes:history", None, 11),
    ("changes:item", "personal", 9),
    ("changes:item", "contact", 9),
    ("changes:item", "education", 10),
    ("changes:item", "professional", 12),
    ("changes:item", "work", 9),
    ("changes:edit", "personal", 12),
    ("changes:edit", "contact", 10),
    ("changes:edit", "education", 15),
    ("changes:edit", "professional", 13),
    ("changes:edit", "work", 12),
    ("education:menu", None, 9),
    ("education:professional", None, 9),
    ("education:remote", f"?year={YEAR}", 10),
    ("education:credits", f"?year={YEAR}", 10),
    ("education:credit_detail", f"?year={YEAR}", 10),
    ("education:certificate", f"?year={YEAR}", 10),
    ("education:claim_list", None, 10),
    ("education:claim_create", None, 10),
    ("transfers:index", None, 8),
    ("transfers:out_list", None, 12),
]


def _url(name: str, arg: str | None) -> str:
    if arg is None:
        return reverse(name)
    if arg.startswith("?"):
        return reverse(name) + arg
    return reverse(name, args=[arg])


def _compare(clients: dict, pages: list[tuple[str, int]], django_assert_max_num_queries) -> None:
    """Each page: the same count for 1 and 50 rows, and at most its bound (all pages reported at once)."""
    problems = []
    for url, bound in pages:
        few, status_few = _count(clients[1], url)
        many, status_many = _count(clients[50], url)
        if status_few != status_many or status_few not in (200, 302, 404):
            problems.append(f"{url}: status {status_few} / {status_many}")
        elif many != few:
            problems.append(f"{url}: {few} queries with 1 row of each kind, {many} with 50")
        elif many > bound:
            problems.append(f"{url}: {many} queries, bound {bound}")
    assert not problems, "\n".join(problems)
    url, bound = pages[0]
    with django_assert_max_num_queries(bound):  # the pytest-django idiom, once more on the first page
        clients[50].get(url)


def _clients(users: dict) -> dict:
    from django.test import Client

    clients = {}
    for rows, user in users.items():
        clients[rows] = Client()
        clients[rows].force_login(user)
    return clients


def test_collected_pages_bounded_and_flat(reference_data, django_assert_max_num_queries):
    clients = _clients({rows: _collected(rows) for rows in (1, 50)})
    _compare(clients, [(_url(name, arg), bound) for name, arg, bound in COLLECTED_PAGES],
             django_assert_max_num_queries)


WIZARD_STEPS = [("start", 9), ("notice", 9), ("personal", 11), ("education", 14), ("professional", 12), ("work", 10),
                ("review", 14)]


def test_wizard_steps_bounded_and_flat(reference_data, django_assert_max_num_queries):
    users = {}
    for rows in (1, 50):
        users[rows] = AccountFactory()
        _draft(users[rows], rows=rows)
    _compare(_clients(users), [(reverse(f"collection:{step}"), bound) for step, bound in WIZARD_STEPS],
             django_assert_max_num_queries)
