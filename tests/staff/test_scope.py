"""Scope: a staff user sees the people of their management unit only, in every admin
with personal data: the list, the object's page by URL (404 outside), search, actions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from changes import services as change_services
from collection.models import Archive, Ethnicity, PoliticalStatus
from education import services as education_services
from education.models import CreditClaim, CreditClaimStatus, CreditRecord, CreditYearTotal
from tests.education.helpers import make_institution
from tests.staff.conftest import add_credits, make_claim
from tests.staff.helpers import make_staff, otp_login
from tests.transfers.helpers import apply as transfer_apply

pytestmark = pytest.mark.django_db

# unit → the people (keys of the `people` fixture) it sees
VISIBLE = {
    "province": {"nanming", "yunyan", "zhongshan", "provincial"},
    "520100": {"nanming", "yunyan"},  # 贵阳市: its counties
    "520102": {"nanming"},  # 南明区
    "provincial": {"provincial"},  # 省本级
    None: set(),  # a staff user without a unit
}


def change_email(user):
    archive = Archive.objects.get(user=user)
    return change_services.change_personal(
        archive=archive, expected_version=archive.version, ip="10.1.2.3", name=user.name,
        ethnicity=Ethnicity.objects.get(name="汉族"), political_status=PoliticalStatus.objects.get(name="群众"),
        email=f"new{user.pk}@example.com", uploads={},
    )


def objects_for(model_key, people, this_year):
    """{person key: object of the admin} for the model under test."""
    out = {}
    institution = make_institution("GZS01", years=(this_year,)) if model_key == "enrolment" else None
    for key in ("nanming", "yunyan", "zhongshan", "provincial"):
        person = getattr(people, key)
        if model_key == "user":
            out[key] = person
        elif model_key == "archive":
            out[key] = person.archive
        elif model_key == "changerecord":
            out[key] = change_email(person)
        elif model_key == "enrolment":
            out[key] = education_services.enrolment_create(user=person, institution=institution, year=this_year)
        elif model_key == "creditrecord":
            add_credits(person, this_year, public=30, professional=0)
            out[key] = CreditRecord.objects.get(user=person)
        elif model_key == "credityeartotal":
            add_credits(person, this_year, public=30, professional=0)
            out[key] = CreditYearTotal.objects.get(user=person)
        elif model_key == "creditclaim":
            out[key] = make_claim(person, this_year)
        elif model_key == "transferout":
            out[key] = transfer_apply(person)
    return out


MODELS = {
    "user": ("accounts", "user"),
    "archive": ("collection", "archive"),
    "changerecord": ("changes", "changerecord"),
    "enrolment": ("education", "enrolment"),
    "creditrecord": ("education", "creditrecord"),
    "credityeartotal": ("education", "credityeartotal"),
    "creditclaim": ("education", "creditclaim"),
    "transferout": ("transfers", "transferout"),
}


def viewer(unit, model_key):
    app_label, model = MODELS[model_key]
    user = make_staff(f"viewer-{unit}-{model_key}", unit=unit)
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=f"view_{model}"))
    return User.objects.get(pk=user.pk)


def changelist(model_key):
    app_label, model = MODELS[model_key]
    return reverse(f"admin:{app_label}_{model}_changelist")


def listed(client, model_key, **params):
    if model_key == "creditclaim":
        params.setdefault("status", "all")
    response = client.get(changelist(model_key), params)
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.mark.parametrize("model_key", list(MODELS))
@pytest.mark.parametrize("unit", list(VISIBLE))
def test_list_page_and_search_are_limited_to_the_unit(client, people, this_year, model_key, unit):
    objects = objects_for(model_key, people, this_year)
    client = otp_login(client, viewer(unit, model_key))
    app_label, model = MODELS[model_key]
    visible = {objects[k].pk for k in VISIBLE[unit]}

    # the list
    shown = listed(client, model_key)
    if model_key == "user":
        shown = {pk for pk in shown if User.objects.get(pk=pk).is_accountant}  # staff accounts aside
    assert shown == visible

    # each object's page by URL: 200 inside, 404 outside
    for key, obj in objects.items():
        response = client.get(reverse(f"admin:{app_label}_{model}_change", args=[obj.pk]))
        assert response.status_code == (200 if key in VISIBLE[unit] else 404), (key, response.status_code)
        history = client.get(reverse(f"admin:{app_label}_{model}_history", args=[obj.pk]))
        assert history.status_code == (200 if key in VISIBLE[unit] else 404), key

    # search by the full ID number (exact, keyed hash) and by name finds only people in scope
    for key in ("nanming", "zhongshan"):
        person = getattr(people, key)
        expected = {objects[key].pk} if key in VISIBLE[unit] else set()
        assert listed(client, model_key, q=person.plain_id_number) == expected
        assert listed(client, model_key, q=person.name) == expected


def test_id_search_is_exact(client, people, staff):
    client = otp_login(client, staff["province"])
    partial = people.nanming.plain_id_number[:-1]
    assert listed(client, "archive", q=partial) == set()
    assert listed(client, "archive", q=people.nanming.plain_id_number.lower()) == {people.nanming.archive.pk}


def test_no_unit_sees_nothing_even_with_every_permission(client, people, this_year):
    user = make_staff("no-unit", unit=None)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client = otp_login(client, User.objects.get(pk=user.pk))
    for model_key in MODELS:
        shown = listed(client, model_key)
        if model_key == "user":
            shown = {pk for pk in shown if User.objects.get(pk=pk).is_accountant}
        assert shown == set(), model_key
    response = client.get(reverse("admin:collection_archive_change", args=[people.nanming.archive.pk]))
    assert response.status_code == 404


# --- claims: review queue, evidence, decisions ----------------------------------------------------


def test_claim_queue_evidence_and_review_out_of_scope(client, people, staff, this_year):
    inside = make_claim(people.nanming, this_year)
    outside = make_claim(people.yunyan, this_year)
    client = otp_login(client, staff["nanming"])
    assert listed(client, "creditclaim") == {inside.pk}
    evidence = "admin:education_creditclaim_evidence"
    assert client.get(reverse(evidence, args=[inside.pk])).status_code == 200
    assert client.get(reverse(evidence, args=[outside.pk])).status_code == 404
    review = "admin:education_creditclaim_review"
    assert client.post(reverse(review, args=[outside.pk]), {"_approve": "1"}).status_code == 404
    outside.refresh_from_db()
    assert outside.status == CreditClaimStatus.PENDING
    # a bulk action naming an out-of-scope claim does nothing to it
    response = client.post(reverse("admin:education_creditclaim_changelist"),
                           {"action": "approve_selected", "_selected_action": [inside.pk, outside.pk]})
    assert response.status_code == 302
    statuses = dict(CreditClaim.objects.values_list("pk", "status"))
    assert statuses == {inside.pk: CreditClaimStatus.APPROVED, outside.pk: CreditClaimStatus.PENDING}


def test_bulk_reject_out_of_scope_does_nothing(client, people, staff, this_year):
    outside = make_claim(people.zhongshan, this_year)
    client = otp_login(client, staff["guiyang"])
    client.post(reverse("admin:education_creditclaim_changelist"),
                {"action": "reject_selected", "_selected_action": [outside.pk], "apply": "1", "reason": "不符合"})
    outside.refresh_from_db()
    assert outside.status == CreditClaimStatus.PENDING


def test_index_counts_claims_per_status_in_scope(client, people, staff, this_year):
    make_claim(people.nanming, this_year)
    make_claim(people.nanming, this_year, activity="paper_sole")
    make_claim(people.zhongshan, this_year)
    client = otp_login(client, staff["nanming"])
    response = client.get(reverse("admin:index"))
    queue = next(q for q in response.context["review_queues"] if q["name"] == "学分确认申请")
    counts = {s["value"]: s["count"] for s in queue["statuses"]}
    assert counts["pending"] == 2 and counts["approved"] == 0
    assert 'data-testid="queue-pending"' in response.content.decode()
    client = otp_login(client, staff["province"])
    queue = next(q for q in client.get(reverse("admin:index")).context["review_queues"]
                 if q["name"] == "学分确认申请")
    assert {s["value"]: s["count"] for s in queue["statuses"]}["pending"] == 3


# --- archive uploads and reveal -------------------------------------------------------------------


def test_upload_view_is_scoped(client, people, staff):
    client = otp_login(client, staff["nanming"])
    url = "admin:collection_archive_upload"
    response = client.get(reverse(url, args=[people.nanming.archive.pk, "photo"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert client.get(reverse(url, args=[people.yunyan.archive.pk, "photo"])).status_code == 404
    assert client.get(reverse(url, args=[people.nanming.archive.pk, "student_card"])).status_code == 404
    assert client.get(reverse(url, args=[people.nanming.archive.pk, "evidence"])).status_code == 404


def test_reveal_is_scoped(client, people, staff):
    client = otp_login(client, staff["nanming"])
    url = "admin:collection_archive_reveal"
    assert client.post(reverse(url, args=[people.yunyan.archive.pk])).status_code == 404
    response = client.post(reverse(url, args=[people.nanming.archive.pk]))
    assert response.status_code == 200 and people.nanming.plain_id_number in response.content.decode()


def test_division_filter_offers_only_the_units_divisions(client, people, staff):
    client = otp_login(client, staff["guiyang"])
    response = client.get(reverse("admin:collection_archive_changelist"))
    spec = next(f for f in response.context["cl"].filter_specs if f.parameter_name == "division")
    names = {title for _value, title in spec.lookup_choices}
    assert "贵阳市" in names and "贵阳市 南明区" in names and not any("六盘水" in n for n in names)


def test_transfer_index_counts_and_platform_records_are_province_only(client, people, staff):
    transfer_apply(people.nanming)
    transfer_apply(people.zhongshan)
    otp_login(client, staff["nanming"])
    queues = {q["name"]: q for q in client.get(reverse("admin:index")).context["review_queues"]}
    counts = {s["value"]: s["count"] for s in queues["调出省外申请"]["statuses"]}
    assert sum(counts.values()) == 1
    assert client.get(reverse("admin:transfers_platformrecord_changelist")).status_code == 403


def test_archive_and_audit_lists_have_a_fixed_number_of_queries(client, people, staff, django_assert_max_num_queries):
    otp_login(client, staff["province"])
    for person in people.all():
        client.get(reverse("admin:collection_archive_change", args=[person.archive.pk]))
    with django_assert_max_num_queries(20):
        response = client.get(reverse("admin:collection_archive_changelist"))
    assert len(response.context["cl"].result_list) == 4
    otp_login(client, make_staff("auditor-q", unit="province", role="审计员"))
    with django_assert_max_num_queries(15):
        assert client.get(reverse("admin:portal_auditentry_changelist")).status_code == 200
