"""POST/GET /api/v1/credit-batches: signed, stored durably, processed by the task,
per-record outcomes; 400 JSON for anything malformed; the OpenAPI document."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from education import services
from education.models import CreditBatch, CreditBatchStatus, CreditRecord, CreditYearTotal
from tests.conftest import wait_for
from tests.education.helpers import (
    CREDIT_BATCHES_URL,
    collect,
    credit_record,
    get_batch,
    make_institution,
    post_batch,
    signed_headers,
)
from tests.factories import AccountFactory, make_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled(learner, institution, this_year):
    services.enrolment_create(user=learner, institution=institution, year=this_year)
    return learner


def _done(client, api_key, batch_id: int) -> dict:
    wait_for(lambda: CreditBatch.objects.get(pk=batch_id).status == CreditBatchStatus.DONE,
             message="the credit batch to be processed")
    response = get_batch(client, api_key, batch_id)
    assert response.status_code == 200, response.content
    return response.json()


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


def _total(user, year):
    row = CreditYearTotal.objects.filter(user=user, year=year).first()
    return None if row is None else (row.public_credits, row.professional_credits, row.total)


# --- signing -------------------------------------------------------------------------------


def test_post_without_signature_is_401_and_stores_nothing(client, api_key, enrolled, this_year):
    body = json.dumps({"records": [credit_record(enrolled, year=this_year)]}).encode()
    _error(post_batch(client, api_key, body=body, headers={}), 401, "missing_headers")
    key, _ = api_key
    wrong = signed_headers(key_id=key.key_id, secret="not-the-secret", body=body)
    _error(post_batch(client, api_key, body=body, headers=wrong), 401, "bad_signature")
    assert not CreditBatch.objects.exists()


def test_get_without_signature_is_401(client, api_key, enrolled, this_year):
    batch_id = post_batch(client, api_key, [credit_record(enrolled, year=this_year)]).json()["batch_id"]
    _error(get_batch(client, api_key, batch_id, headers={}), 401, "missing_headers")
    key, _ = api_key
    signed_for_a_body = signed_headers(key_id=key.key_id, secret=api_key[1], body=b"{}")
    _error(get_batch(client, api_key, batch_id, headers=signed_for_a_body), 401, "bad_signature")


def test_wrong_methods_are_json_405(client, api_key):
    key, secret = api_key
    response = client.get(CREDIT_BATCHES_URL, **signed_headers(key_id=key.key_id, secret=secret, body=b""))
    _error(response, 405, "method_not_allowed")
    response = client.generic("POST", f"{CREDIT_BATCHES_URL}/1", b"{}", content_type="application/json",
                              **signed_headers(key_id=key.key_id, secret=secret, body=b"{}"))
    _error(response, 405, "method_not_allowed")


# --- accepted, 202 and the status ------------------------------------------------------------


def test_batch_is_accepted_with_202_and_processed_by_the_task(client, api_key, enrolled, this_year, tasks_run):
    response = post_batch(client, api_key, [
        credit_record(enrolled, record_id="A1", year=this_year, category="公需科目", credits=30),
        credit_record(enrolled, record_id="A2", year=this_year, category="专业科目", credits=12.5),
    ])
    assert response.status_code == 202, response.content
    batch_id = response.json()["batch_id"]
    assert response["Location"] == f"{CREDIT_BATCHES_URL}/{batch_id}"
    report = _done(client, api_key, batch_id)
    assert report["status"] == "done" and report["status_label"] == "已完成"
    assert [(r["record_id"], r["result"]) for r in report["records"]] == [("A1", "accepted"), ("A2", "accepted")]
    assert report["counts"] == {"accepted": 2, "duplicate": 0, "rejected": 0, "pending": 0}
    assert _total(enrolled, this_year) == (Decimal("30.0"), Decimal("12.5"), Decimal("42.5"))
    record = CreditRecord.objects.get(record_id="A2")
    assert (record.source, record.institution.code, record.credits) == ("institution", "GZ001", Decimal("12.5"))


def test_every_rejection_reason_is_reported_per_record(client, api_key, enrolled, institution, this_year,
                                                       tasks_run):
    not_enrolled = AccountFactory(name="未报名")
    collect(not_enrolled)
    not_collected = AccountFactory(name="未采集")
    records = [
        credit_record(enrolled, record_id="OK", year=this_year, credits=20),
        credit_record(enrolled, record_id="BAD-CREDITS", year=this_year, credits=-1),
        credit_record(enrolled, record_id="BAD-CATEGORY", year=this_year, category="选修"),
        credit_record(enrolled, record_id="BAD-DATE", year=this_year, completed_at=f"{this_year - 1}-12-31"),
        credit_record(enrolled, record_id="BAD-ID", year=this_year, id_number="520102199003070000"),
        credit_record(enrolled, record_id="BAD-PLACES", year=this_year, credits=1.25),
        credit_record(enrolled, record_id="UNKNOWN", year=this_year, id_number=make_id_number()),
        credit_record(not_collected, record_id="NOT-COLLECTED", year=this_year),
        credit_record(enrolled, record_id="NAME", year=this_year, name="王五"),
        credit_record(not_enrolled, record_id="NOT-ENROLLED", year=this_year),
        credit_record(enrolled, record_id="NOT-FILED", year=this_year - 1),
        credit_record(enrolled, record_id="OK", year=this_year, credits=20),
        credit_record(enrolled, record_id="OK", year=this_year, credits=25),
    ]
    batch_id = post_batch(client, api_key, records).json()["batch_id"]
    report = _done(client, api_key, batch_id)
    outcome = [(r["record_id"], r["result"], r.get("reason")) for r in report["records"]]
    assert outcome == [
        ("OK", "accepted", None),
        ("BAD-CREDITS", "rejected", "invalid_value"),
        ("BAD-CATEGORY", "rejected", "invalid_value"),
        ("BAD-DATE", "rejected", "invalid_value"),
        ("BAD-ID", "rejected", "invalid_value"),
        ("BAD-PLACES", "rejected", "invalid_value"),
        ("UNKNOWN", "rejected", "person_unknown"),
        ("NOT-COLLECTED", "rejected", "person_unknown"),
        ("NAME", "rejected", "name_mismatch"),
        ("NOT-ENROLLED", "rejected", "not_enrolled"),
        ("NOT-FILED", "rejected", "institution_not_filed"),
        ("OK", "duplicate", None),
        ("OK", "rejected", "conflict"),
    ]
    assert all(r["message"] for r in report["records"] if r["result"] == "rejected")
    assert report["counts"] == {"accepted": 1, "duplicate": 1, "rejected": 11, "pending": 0}
    assert CreditRecord.objects.count() == 1
    assert _total(enrolled, this_year) == (Decimal("0.0"), Decimal("20.0"), Decimal("20.0"))
    assert not CreditYearTotal.objects.exclude(user=enrolled).exists()


def test_resending_a_batch_adds_nothing_and_a_changed_record_is_a_conflict(client, api_key, enrolled, this_year,
                                                                           tasks_run):
    records = [credit_record(enrolled, record_id=f"R{i}", year=this_year, credits=10) for i in range(3)]
    first = post_batch(client, api_key, records).json()["batch_id"]
    assert _done(client, api_key, first)["counts"]["accepted"] == 3
    again = post_batch(client, api_key, records).json()["batch_id"]
    report = _done(client, api_key, again)
    assert [r["result"] for r in report["records"]] == ["duplicate"] * 3
    changed = post_batch(client, api_key, [{**records[0], "course": "另一门课"}]).json()["batch_id"]
    assert [(r["result"], r["reason"]) for r in _done(client, api_key, changed)["records"]] == [
        ("rejected", "conflict")]
    assert CreditRecord.objects.count() == 3
    assert _total(enrolled, this_year) == (Decimal("0.0"), Decimal("30.0"), Decimal("30.0"))


def test_another_institution_gets_404_for_the_batch(client, api_key, enrolled, this_year):
    batch_id = post_batch(client, api_key, [credit_record(enrolled, year=this_year)]).json()["batch_id"]
    other = make_institution("OTHER", years=(this_year,))
    other_key = services.institution_api_key_issue(institution=other)
    _error(get_batch(client, other_key, batch_id), 404, "batch_not_found")
    _error(get_batch(client, api_key, batch_id + 1000), 404, "batch_not_found")
    assert get_batch(client, api_key, batch_id).status_code == 200


# --- 400s --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "malformed_json"),
    (b"\xff\xfe", "malformed_json"),
    (b'{"records": [NaN]}', "malformed_json"),
    (b"[]", "records_required"),
    (b'{"items": []}', "records_required"),
    (b'{"records": {}}', "wrong_type"),
    (b'{"records": []}', "empty_batch"),
    (b'{"records": ["x"]}', "wrong_type"),
    (b'{"records": [{"record_id": "R1"}]}', "missing_field"),
])
def test_malformed_bodies_are_json_400(client, api_key, body, code):
    _error(post_batch(client, api_key, body=body), 400, code)
    assert not CreditBatch.objects.exists()


@pytest.mark.parametrize(("field", "value"), [
    ("year", "2026"), ("year", 2026.5), ("year", True), ("credits", "10"), ("credits", None),
    ("credits", False), ("record_id", 7), ("id_number", None), ("name", ["李"]), ("completed_at", 20260101),
])
def test_wrong_types_are_json_400(client, api_key, enrolled, this_year, field, value):
    record = {**credit_record(enrolled, year=this_year), field: value}
    _error(post_batch(client, api_key, [credit_record(enrolled, year=this_year), record]), 400, "wrong_type")
    assert not CreditBatch.objects.exists()


def test_more_than_1000_records_is_400_and_1000_is_fine(client, api_key, enrolled, this_year):
    records = [credit_record(enrolled, record_id=f"R{i}", year=this_year) for i in range(1001)]
    _error(post_batch(client, api_key, records), 400, "too_many_records")
    assert not CreditBatch.objects.exists()
    # (not a transactional test: the batch is stored, its task is never queued)
    assert post_batch(client, api_key, records[:1000]).status_code == 202
    assert CreditBatch.objects.get().record_count == 1000


@pytest.mark.parametrize("size", [2 * 1024 * 1024 + 1, 3 * 1024 * 1024])
def test_a_body_over_2_mb_is_400(client, api_key, enrolled, this_year, size):
    head = json.dumps({"records": [credit_record(enrolled, year=this_year)], "pad": ""}).encode()[:-2]
    body = head + b"x" * (size - len(head) - 2) + b'"}'
    assert len(body) == size and json.loads(body)
    _error(post_batch(client, api_key, body=body), 400, "body_too_large")
    assert not CreditBatch.objects.exists()


# --- the OpenAPI document ------------------------------------------------------------------------


def test_openapi_document_parses_and_lists_the_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert {"/learner-tokens/exchange", "/credit-batches", "/credit-batches/{batch_id}"} <= set(document["paths"])
    assert "post" in document["paths"]["/credit-batches"] and "get" in document["paths"]["/credit-batches/{batch_id}"]
    record = document["components"]["schemas"]["CreditRecord"]
    assert record["properties"]["category"]["enum"] == ["公需科目", "专业科目"]
