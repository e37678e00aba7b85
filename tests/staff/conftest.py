"""Fixtures for the staff back office: people in four places, staff users per unit and role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import AUDITOR, QUERIER, REVIEWER, SYSADMIN, roles_setup
from collection import services as collection_services
from collection.models import Archive, Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
from collection.reference import reference_data_load
from education import claims, credits
from education.models import CreditCategory, CreditSource
from portal.images import DOCUMENT, PHOTO, clean_image
from tests.factories import AccountFactory
from tests.images import document_upload, photo_upload
from tests.staff.helpers import make_staff, otp_login

# code: (person's name, county or 省本级)
PLACES = {
    "nanming": ("520102", "南明甲"),
    "yunyan": ("520103", "云岩乙"),
    "zhongshan": ("520201", "钟山丙"),
    "provincial": ("520000", "省本级丁"),
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference_data(db):
    reference_data_load()
    roles_setup()


def collect_in(user, code: str, *, qualification_level: str | None = None) -> Archive:
    """Walk `user`'s archive to 已采集 at division `code` through collection.services."""
    archive = collection_services.archive_start(user=user)
    for field, upload, rule in (("photo", photo_upload, PHOTO), ("id_card_front", document_upload, DOCUMENT),
                                ("id_card_back", document_upload, DOCUMENT)):
        collection_services.archive_upload_replace(archive=archive, field=field,
                                                   content=clean_image(upload(), rule=rule))
    collection_services.archive_save_personal(
        archive=archive, ethnicity=Ethnicity.objects.get(name="汉族"),
        political_status=PoliticalStatus.objects.get(name="群众"), email="staff-test@example.com",
    )
    collection_services.archive_save_education(archive=archive, full_time={
        "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
        "school": "贵州财经大学", "major": "会计学", "start_date": dt.date(2008, 9, 1),
        "graduation_date": dt.date(2012, 7, 1),
    }, part_time=None)
    qualifications = []
    if qualification_level:
        qualifications = [{"qualification_type": "accounting", "level": qualification_level, "method": "exam",
                           "obtained_on": dt.date(2016, 5, 20), "certificate_number": "Z2016"}]
    collection_services.archive_save_professional(
        archive=archive,
        certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False, "abacus_level": "none"},
        qualifications=qualifications, talents=[], awards=[],
    )
    division = Division.objects.get(code=code)
    collection_services.archive_save_work(
        archive=archive, employment_status="accounting", division=division, employer="=HYPERLINK(\"x\")某单位",
        school="", provincial_declaration=division.is_provincial_level,
    )
    return collection_services.archive_submit(archive=archive)


@dataclass
class People:
    nanming: object
    yunyan: object
    zhongshan: object
    provincial: object

    def all(self):
        return [self.nanming, self.yunyan, self.zhongshan, self.provincial]


@pytest.fixture
def people(reference_data) -> People:
    made = {}
    for key, (code, name) in PLACES.items():
        user = AccountFactory(name=name)
        collect_in(user, code, qualification_level="intermediate" if key == "nanming" else None)
        user.refresh_from_db()
        user.plain_id_number = user.id_number
        made[key] = user
    return People(**made)


@pytest.fixture
def this_year() -> int:
    return timezone.localdate().year


def make_claim(user, year: int, activity: str = "exam_subject", details: str | None = None):
    # Each call a distinct claim: an identical repeat of a 待审核 claim is the same claim (a double submit).
    make_claim.count = getattr(make_claim, "count", 0) + 1
    return claims.credit_claim_create(user=user, year=year, activity=activity, days=None,
                                      details=details or f"中级会计实务合格（{make_claim.count}）",
                                      evidence=clean_image(document_upload()))


def add_credits(user, year: int, *, public: int, professional: int) -> None:
    for n, (category, amount) in enumerate(((CreditCategory.PUBLIC, public),
                                            (CreditCategory.PROFESSIONAL, professional))):
        if amount:
            credits.credit_record_add(user=user, source=CreditSource.STAFF, record_id=f"S{user.pk}-{year}-{n}",
                                      year=year, category=category, credits=Decimal(amount), course="测试课程",
                                      completed_at=dt.date(year, 6, 30))


# --- staff users --------------------------------------------------------------------------------

STAFF = {
    "province": ("province", REVIEWER),
    "guiyang": ("520100", REVIEWER),
    "nanming": ("520102", REVIEWER),
    "provincial": ("provincial", REVIEWER),
    "zhongshan": ("520201", REVIEWER),
}


@pytest.fixture
def staff(reference_data):
    """Reviewers (审核员) of five units, keyed like STAFF."""
    return {key: make_staff(f"rev-{key}", unit=unit, role=role) for key, (unit, role) in STAFF.items()}


@pytest.fixture
def staff_client(client):
    def login(user):
        return otp_login(client, user)

    return login


@pytest.fixture
def role_users(reference_data):
    return {
        REVIEWER: make_staff("role-reviewer", unit="province", role=REVIEWER),
        QUERIER: make_staff("role-querier", unit="province", role=QUERIER),
        SYSADMIN: make_staff("role-sysadmin", unit="province", role=SYSADMIN),
        AUDITOR: make_staff("role-auditor", unit="province", role=AUDITOR),
    }
