"""A small world for the attack tests: an accountant with one of everything (archive and
uploads, change record, enrolment, claim, transfer out, credits and a certificate), a
second accountant, a person transferred in, an institution with a credit batch, and staff
users of the owner's county and of another county.

Everything is built through the real services (tests/*/helpers)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts import sms
from accounts.models import User
from accounts.roles import roles_setup
from changes import services as change_services
from collection.models import Archive, Division, Ethnicity, PoliticalStatus
from collection.reference import reference_data_load
from education import certificates, claims, credits
from education import services as education_services
from tests.education.helpers import make_institution
from tests.factories import AccountFactory, make_id_number, make_mobile
from tests.staff.conftest import add_credits, collect_in, make_claim
from tests.staff.helpers import make_staff, otp_login
from tests.transfers.helpers import apply as transfer_apply
from tests.transfers.helpers import incoming
from transfers import services as transfer_services
from transfers.models import PlatformRecord

OWNER_COUNTY = "520102"  # 南明区
OTHER_COUNTY = "520201"  # 钟山区 (六盘水市): another prefecture altogether


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference_data(db):
    reference_data_load()
    roles_setup()


@dataclass
class World:
    year: int
    owner: User
    other: User
    archive: Archive
    change: object
    enrolment: object
    claim: object
    transfer: object
    certificate_code: str
    transferred_in: User
    transfer_in: object
    platform_record: PlatformRecord
    institution: object
    batch: object
    api_key: tuple
    other_api_key: tuple
    staff_here: User
    staff_elsewhere: User


def _all_permissions_staff(username: str, unit: str) -> User:
    """A staff user holding every permission: any refusal then comes from the scope."""
    user = make_staff(username, unit=unit)
    user.user_permissions.add(*Permission.objects.all())
    return User.objects.get(pk=user.pk)


@pytest.fixture
def world(reference_data) -> World:
    year = timezone.localdate().year
    owner = AccountFactory(name="甲业主")
    archive = collect_in(owner, OWNER_COUNTY)
    other = AccountFactory(name="乙他人")
    collect_in(other, OWNER_COUNTY)  # same county: only ownership tells them apart
    owner.refresh_from_db()
    owner.plain_id_number, owner.plain_password = owner.id_number, "Kj#Test2026pass"
    other.refresh_from_db()
    other.plain_id_number, other.plain_password = other.id_number, "Kj#Test2026pass"

    archive.refresh_from_db()
    change = change_services.change_personal(
        archive=archive, expected_version=archive.version, ip="10.1.2.3", name=owner.name,
        ethnicity=Ethnicity.objects.get(name="汉族"), political_status=PoliticalStatus.objects.get(name="群众"),
        email="owner-changed@example.com", uploads={},
    )
    institution = make_institution("GZSEC1", years=(year,))
    enrolment = education_services.enrolment_create(user=owner, institution=institution, year=year)
    add_credits(owner, year, public=30, professional=60)
    code = certificates.certificate_for(user=owner, year=year).code
    # A claim (then withdrawn, so the pending-business gate lets the transfer out through).
    claim = make_claim(owner, year)
    claims.credit_claim_withdraw(user=owner, claim_id=claim.pk)
    transfer = transfer_apply(owner)

    api_key = education_services.institution_api_key_issue(institution=institution)
    other_institution = make_institution("GZSEC2", years=(year,))
    other_api_key = education_services.institution_api_key_issue(institution=other_institution)
    batch = credits.credit_batch_receive(institution=institution, records=[{
        "record_id": "SEC1", "id_type": "resident_id_card", "id_number": owner.plain_id_number, "name": owner.name,
        "year": year, "category": "专业科目", "credits": 2, "course": "安全课程", "completed_at": f"{year}-06-30",
    }])

    sms.sms_message_queue(mobile=owner.mobile, body="贵州省财政会计网测试短信")  # an outbox row naming the owner
    arriving_id = make_id_number(seq=777)
    record = incoming(name="丙调入", id_number=arriving_id, mobile=make_mobile())
    transferred_in = transfer_services.transfer_in_complete(
        ref=record.ref, division=Division.objects.get(code=OWNER_COUNTY), employer="贵阳某某有限公司",
        password="Kj#Arrive2026x",
    )
    return World(
        year=year, owner=owner, other=other, archive=archive, change=change, enrolment=enrolment, claim=claim,
        transfer=transfer, certificate_code=code, transferred_in=transferred_in,
        transfer_in=transferred_in.transfers_in.get(),
        platform_record=PlatformRecord.objects.get(ref=record.ref),
        institution=institution, batch=batch, api_key=api_key, other_api_key=other_api_key,
        staff_here=_all_permissions_staff("sec-here", OWNER_COUNTY),
        staff_elsewhere=_all_permissions_staff("sec-elsewhere", OTHER_COUNTY),
    )


def logged_in(client, user):
    """`client` with `user` logged in (staff: with the verified TOTP mark)."""
    if user.is_staff:
        return otp_login(client, user)
    client.force_login(user)
    return client


# --- the URL conf --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name ("ns:name"), or "ns:<route>" for an unnamed pattern
    route: str  # the full route, for messages
    pattern: URLPattern
    converters: tuple[str, ...]  # argument names the URL takes

    @property
    def callback(self):
        return self.pattern.callback


def walk_urlconf() -> list[Route]:
    """Every URL pattern of the project, recursively through includes and the admin."""
    out: list[Route] = []

    def walk(resolver, prefix: str, namespace: str | None, args: tuple[str, ...]):
        for entry in resolver.url_patterns:
            pattern_args = tuple(entry.pattern.regex.groupindex) or (
                ("<positional>",) if entry.pattern.regex.groups else ()
            )
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + str(entry.pattern), ns, args + pattern_args)
            else:
                route = prefix + str(entry.pattern)
                name = entry.name or route
                key = f"{namespace}:{name}" if namespace else name
                out.append(Route(key=key, route=route, pattern=entry, converters=args + pattern_args))

    walk(get_resolver(), "", None, ())
    return out

