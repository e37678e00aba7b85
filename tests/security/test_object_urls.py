"""Issue 9 point 2: every URL that names an object refuses everyone but its owner.

The URL conf is walked (includes and the admin too). Each pattern that takes an argument
is either in OBJECT_URLS (how to build the first accountant's object and its kwargs, who
must be refused, and how) or in PUBLIC_BY_DESIGN with the reason. A new URL with an
argument in neither fails `test_every_url_with_an_argument_is_tested_or_allowed`.

Each refusal has a control: the owner (or a staff user of the owner's county) reaches
the same URL, so a 404 really means "not yours", not "no such URL".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SmsMessage, User
from education.models import CreditRecord, CreditYearTotal
from tests.education.helpers import signed_headers
from tests.factories import AccountFactory
from tests.security.conftest import World, logged_in, walk_urlconf
from tests.staff.helpers import make_staff

pytestmark = pytest.mark.django_db

OWNER_EMAIL = "owner-changed@example.com"  # set by the world's change record

# Who is refused: a second accountant, an accountant without an archive, another
# institution (signed API), a staff user of another county (with every permission).
ACCOUNTANT, FRESH_ACCOUNTANT, INSTITUTION, STAFF = "accountant", "fresh accountant", "institution", "staff"


@dataclass(frozen=True)
class Spec:
    who: str
    kwargs: Callable[[World], dict]
    method: str = "get"
    refused: int = 404  # what the intruder gets
    control: int | None = None  # what the owner side gets (None: anything but `refused`)
    province_control: bool = False  # the owner side is a staff user of the 省 unit


def _admin_object(model: str, obj: Callable[[World], object], *, refused: int = 404, province: bool = False):
    """The four admin URLs of one object: change, history, delete, and the bare redirect."""
    app_label, model_name = model.split(".")
    kwargs = lambda w: {"object_id": obj(w).pk}  # noqa: E731
    route = f"admin:admin/{app_label}/{model_name}/<path:object_id>/"
    return {
        f"admin:{app_label}_{model_name}_change": Spec(STAFF, kwargs, refused=refused, province_control=province),
        f"admin:{app_label}_{model_name}_history": Spec(STAFF, kwargs, refused=refused, province_control=province),
        # Nobody deletes from the read-only 省-only admins: there the control is a 403 too.
        f"admin:{app_label}_{model_name}_delete": Spec(STAFF, kwargs, refused=refused, province_control=province,
                                                       control=403 if province else None),
        route: Spec(STAFF, kwargs, refused=refused, province_control=province),
    }


def _owner_sms(w: World) -> SmsMessage:
    return SmsMessage.objects.filter(mobile=w.owner.mobile).order_by("pk").first()


OBJECT_URLS: dict[str, Spec] = {
    # --- the accountant's pages ---
    "education:launch": Spec(ACCOUNTANT, lambda w: {"enrolment_id": w.enrolment.pk}, method="post", control=302),
    "education:claim_withdraw": Spec(ACCOUNTANT, lambda w: {"claim_id": w.claim.pk}, method="post", control=302),
    "education:claim_evidence": Spec(ACCOUNTANT, lambda w: {"claim_id": w.claim.pk}, control=200),
    "transfers:out_withdraw": Spec(ACCOUNTANT, lambda w: {"transfer_id": w.transfer.pk}, method="post", control=302),
    "transfers:out_evidence": Spec(ACCOUNTANT, lambda w: {"transfer_id": w.transfer.pk}, control=200),
    # The upload URL names a field of the requester's own archive: someone without one gets 404.
    "collection:upload": Spec(FRESH_ACCOUNTANT, lambda w: {"field": "photo"}, control=200),
    # 信息变更 names a section of the requester's own archive: a second accountant sees their own (200),
    # never the owner's data (checked: the owner's new e-mail is not in the page).
    "changes:item": Spec(ACCOUNTANT, lambda w: {"item": "personal"}, refused=200, control=200),
    "changes:edit": Spec(ACCOUNTANT, lambda w: {"item": "personal"}, refused=200, control=200),
    # --- the institution API: a batch belongs to the institution that posted it ---
    "education_api:credit_batch_detail": Spec(INSTITUTION, lambda w: {"batch_id": w.batch.pk}, control=200),
    # --- the staff back office: objects of the owner (南明区) for a staff user of 钟山区 ---
    **_admin_object("accounts.user", lambda w: w.owner),
    **_admin_object("collection.archive", lambda w: w.archive),
    **_admin_object("changes.changerecord", lambda w: w.change),
    **_admin_object("education.enrolment", lambda w: w.enrolment),
    **_admin_object("education.creditrecord", lambda w: CreditRecord.objects.filter(user=w.owner).first()),
    **_admin_object("education.credityeartotal", lambda w: CreditYearTotal.objects.get(user=w.owner, year=w.year)),
    **_admin_object("education.creditclaim", lambda w: w.claim),
    **_admin_object("transfers.transferout", lambda w: w.transfer),
    **_admin_object("transfers.transferin", lambda w: w.transfer_in),
    # Rows that name people but have no division: only the 省 unit sees them (403 for a county).
    **_admin_object("accounts.smsmessage", _owner_sms, refused=403, province=True),
    **_admin_object("transfers.platformrecord", lambda w: w.platform_record, refused=403, province=True),
    "admin:auth_user_password_change": Spec(STAFF, lambda w: {"id": w.owner.pk}),
    "admin:collection_archive_upload": Spec(STAFF, lambda w: {"archive_id": w.archive.pk, "field": "photo"},
                                            control=200),
    "admin:collection_archive_reveal": Spec(STAFF, lambda w: {"archive_id": w.archive.pk}, method="post",
                                            control=200),
    "admin:education_creditclaim_evidence": Spec(STAFF, lambda w: {"claim_id": w.claim.pk}, control=200),
    "admin:education_creditclaim_review": Spec(STAFF, lambda w: {"claim_id": w.claim.pk}, method="post"),
    # A staff user's authenticator: its secret is never shown to anyone (OTP_ADMIN_HIDE_SENSITIVE_DATA).
    "admin:otp_totp_totpdevice_config": Spec(STAFF, lambda w: {"pk": TOTPDevice.objects.get(user=w.staff_here).pk},
                                             refused=403, control=403),
    "admin:otp_totp_totpdevice_qrcode": Spec(STAFF, lambda w: {"pk": TOTPDevice.objects.get(user=w.staff_here).pk},
                                             refused=403, control=403),
    # contenttypes' "view on site" redirect: no portal model has a public URL, so 404 for anyone.
    "admin:view_on_site": Spec(STAFF, lambda w: {"content_type_id": ContentType.objects.get_for_model(User).pk,
                                                 "object_id": w.owner.pk}, control=404),
}

_REFERENCE = "a code table (民族, 政治面貌, 学历, 学位, 行政区划): no personal data"
_AXES = ("a login attempt: the username is 'id:' + the keyed hash, never the ID number; no division to scope by; "
         "the axes permissions belong to 系统管理员 only")


def _admin_model_allowed(model: str, reason: str) -> dict[str, str]:
    app_label, model_name = model.split(".")
    return {
        f"admin:{app_label}_{model_name}_change": reason,
        f"admin:{app_label}_{model_name}_history": reason,
        f"admin:{app_label}_{model_name}_delete": reason,
        f"admin:admin/{app_label}/{model_name}/<path:object_id>/": reason,
    }


PUBLIC_BY_DESIGN: dict[str, str] = {
    "verify:certificate": "public verification of a printed certificate (masked name only; tests/education)",
    "admin:app_list": "names an app, not an object",
    "admin:admin/(?P<url>.*)$": "the admin's catch-all: a 404 or the login page for anything else",
    "admin:collection_archive_export": "names a file format; the rows are the unit's scope (tested below and in "
                                       "tests/staff/test_exports.py)",
    "admin:collection_archive_export_compliance": "names a year and a format; rows are the unit's scope "
                                                  "(tests/staff/test_exports.py)",
    **_admin_model_allowed("auth.group", "a role (group): no personal data"),
    **_admin_model_allowed("collection.ethnicity", _REFERENCE),
    **_admin_model_allowed("collection.politicalstatus", _REFERENCE),
    **_admin_model_allowed("collection.educationlevel", _REFERENCE),
    **_admin_model_allowed("collection.degree", _REFERENCE),
    **_admin_model_allowed("collection.division", _REFERENCE),
    **_admin_model_allowed("collection.historicaldivision", _REFERENCE),
    **_admin_model_allowed("education.institution", "an institution, not a person"),
    **_admin_model_allowed("education.creditbatch", "an institution's batch: counts and results, the records' names "
                                                    "and ID numbers are not shown"),
    **_admin_model_allowed("axes.accessattempt", _AXES),
    **_admin_model_allowed("axes.accesslog", _AXES),
    **_admin_model_allowed("axes.accessfailurelog", _AXES),
    **_admin_model_allowed("portal.auditentry", "the staff audit log (审计员 by role): staff actions, persons masked"),
    **_admin_model_allowed("otp_totp.totpdevice", "staff users' authenticators (系统管理员 by role), the key hidden; "
                                                  "config and QR code are refused to everyone (OBJECT_URLS)"),
}


def routes_with_arguments():
    return [r for r in walk_urlconf() if r.converters]


def test_every_url_with_an_argument_is_tested_or_allowed():
    routes = routes_with_arguments()
    assert len(routes) > 50, "the URL conf walk found too little: is the admin included?"
    keys = {r.key for r in routes}
    untested = sorted(f"{r.key}  ({r.route})" for r in routes if r.key not in OBJECT_URLS | PUBLIC_BY_DESIGN)
    assert not untested, "URLs naming an object with no test in OBJECT_URLS nor reason in PUBLIC_BY_DESIGN:\n" + (
        "\n".join(untested))
    # ... and no stale entry: everything listed is still in the URL conf.
    assert not (set(OBJECT_URLS) - keys), set(OBJECT_URLS) - keys
    assert not (set(PUBLIC_BY_DESIGN) - keys), set(PUBLIC_BY_DESIGN) - keys
    assert not (set(OBJECT_URLS) & set(PUBLIC_BY_DESIGN))


def _url(key: str, kwargs: dict) -> str:
    if "<" in key.split(":", 1)[1]:  # an unnamed admin pattern: fill in its one argument
        route = key.split(":", 1)[1]
        return "/" + route.replace("<path:object_id>", str(kwargs["object_id"]))
    return reverse(key, kwargs=kwargs)


def _request(client: Client, key: str, spec: Spec, url: str):
    if spec.method == "post":
        return client.post(url)
    # The bare admin object URL redirects to its change page: follow it to the answer.
    return client.get(url, follow="<" in key)


def _check(specs: dict[str, Spec], intruder: Client, owner_side: Callable[[Spec], Client], world: World,
           *, secret: str | None = None, owner_marker: bytes | None = None) -> list[str]:
    failures = []
    for key, spec in specs.items():
        url = _url(key, spec.kwargs(world))
        response = _request(intruder, key, spec, url)
        if response.status_code != spec.refused:
            failures.append(f"{key} {url}: intruder got {response.status_code}, expected {spec.refused}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if secret and secret.encode() in body:
            failures.append(f"{key} {url}: the owner's data is in the intruder's response")
        control = _request(owner_side(spec), key, spec, url)
        ok = control.status_code == spec.control if spec.control is not None else control.status_code != spec.refused
        if not ok:
            failures.append(f"{key} {url}: control (owner side) got {control.status_code}")
    return failures


def test_a_second_accountant_gets_404_for_the_first_ones_objects(world):
    specs = {k: s for k, s in OBJECT_URLS.items() if s.who in (ACCOUNTANT, FRESH_ACCOUNTANT)}
    assert len(specs) == 8
    other = logged_in(Client(), world.other)
    fresh = logged_in(Client(), AccountFactory())
    owner = logged_in(Client(), world.owner)
    failures = []
    for key, spec in specs.items():
        intruder = fresh if spec.who == FRESH_ACCOUNTANT else other
        failures += _check({key: spec}, intruder, lambda _spec: owner, world, secret=OWNER_EMAIL)
        if key.startswith("changes:") and OWNER_EMAIL.encode() not in owner.get(_url(key, spec.kwargs(world))).content:
            failures.append(f"{key}: the owner's own page lacks the marker, so the check above proves nothing")
    assert not failures, "\n".join(failures)


def test_another_institution_gets_404_for_a_batch(world):
    spec = OBJECT_URLS["education_api:credit_batch_detail"]
    url = _url("education_api:credit_batch_detail", spec.kwargs(world))

    def signed(api_key):
        key, secret = api_key
        return Client().get(url, **signed_headers(key_id=key.key_id, secret=secret, body=b""))

    intruder = signed(world.other_api_key)
    assert intruder.status_code == 404 and intruder.json()["error"]["code"] == "batch_not_found"
    assert world.owner.name not in json.dumps(intruder.json(), ensure_ascii=False)
    assert signed(world.api_key).status_code == 200
    # An accountant's session is no key at all.
    assert logged_in(Client(), world.owner).get(url).status_code == 401


def test_a_staff_user_of_another_county_gets_404_in_the_admin(world):
    specs = {k: s for k, s in OBJECT_URLS.items() if s.who == STAFF}
    elsewhere = logged_in(Client(), world.staff_elsewhere)
    here = logged_in(Client(), world.staff_here)
    province = make_staff("sec-province", unit="province")
    province.user_permissions.add(*Permission.objects.all())
    province_client = logged_in(Client(), User.objects.get(pk=province.pk))
    failures = _check(specs, elsewhere, lambda spec: province_client if spec.province_control else here, world,
                      secret=world.owner.plain_id_number)
    assert not failures, "\n".join(failures)


def test_an_export_by_a_staff_user_of_another_county_leaves_the_owner_out(world):
    url = reverse("admin:collection_archive_export", kwargs={"fmt": "csv"})
    elsewhere = logged_in(Client(), world.staff_elsewhere).get(url)
    here = logged_in(Client(), world.staff_here).get(url)
    assert elsewhere.status_code == here.status_code == 200
    assert world.owner.name.encode() in b"".join(here.streaming_content)
    assert world.owner.name.encode() not in b"".join(elsewhere.streaming_content)
