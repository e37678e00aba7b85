"""Credit batches are an outbox: a batch the worker never got, or one interrupted
half-way, is finished by the periodic sweep; nothing is lost, nothing counted twice.
No plain ID number is stored anywhere."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from education import credits, services
from education.models import CreditBatch, CreditBatchItem, CreditBatchStatus, CreditRecord, CreditYearTotal
from education.tasks import credit_batch_process
from tests.accounts.test_security import ROOT, _cache_hits, _orm_hits, _raw_hits
from tests.accounts.test_sms_delivery import broker_down
from tests.conftest import wait_for
from tests.education.helpers import credit_record, post_batch
from tests.factories import make_id_number

pytestmark = pytest.mark.services


@pytest.fixture
def enrolled(learner, institution, this_year):
    services.enrolment_create(user=learner, institution=institution, year=this_year)
    return learner


def _status(batch_id: int) -> str:
    return CreditBatch.objects.get(pk=batch_id).status


def _total(user, year):
    row = CreditYearTotal.objects.get(user=user, year=year)
    return row.public_credits, row.professional_credits, row.total


def _results(batch_id: int) -> list[str]:
    """Each record's outcome as the status API reports it."""
    report = credits.credit_batch_report(batch=CreditBatch.objects.get(pk=batch_id))
    return [r["result"] for r in report["records"]]


def _records(user, year, n: int, *, prefix: str = "R") -> list[dict]:
    return [credit_record(user, record_id=f"{prefix}{i}", year=year, credits=10,
                          category="公需科目" if i % 2 else "专业科目") for i in range(n)]


def test_a_batch_the_worker_never_got_is_finished_by_the_sweep(client, api_key, enrolled, this_year, tasks_run):
    with broker_down():
        response = post_batch(client, api_key, _records(enrolled, this_year, 4))
        assert response.status_code == 202  # stored although nothing could be queued
        batch_id = response.json()["batch_id"]
        assert _status(batch_id) == CreditBatchStatus.PENDING
        assert credits.credit_batch_sweep(older_than_seconds=0) == 0  # still down
    assert credits.credit_batch_sweep(older_than_seconds=0) == 1
    wait_for(lambda: _status(batch_id) == CreditBatchStatus.DONE, message="the swept batch to be processed")
    assert credits.credit_batch_sweep(older_than_seconds=0) == 0
    assert _results(batch_id) == ["accepted"] * 4
    assert CreditBatchItem.objects.filter(batch_id=batch_id).count() == 0  # items only for records not accepted
    assert _total(enrolled, this_year) == (Decimal("20.0"), Decimal("20.0"), Decimal("40.0"))


class WorkerKilled(BaseException):
    """Stands for the worker process dying in the middle of a batch."""


def test_a_batch_interrupted_half_way_is_finished_exactly_once(client, api_key, enrolled, this_year, tasks_run,
                                                               monkeypatch, settings):
    with broker_down():
        batch_id = post_batch(client, api_key, _records(enrolled, this_year, 5)).json()["batch_id"]
    real = credits._chunk_process
    calls = []

    def dying(batch, start, chunk):
        calls.append(chunk)
        real(batch, start, chunk)
        if len(calls) == 2:
            raise WorkerKilled  # after writing the second chunk, before its transaction commits

    with monkeypatch.context() as patch:
        settings.CE_CREDIT_CHUNK_RECORDS = 2
        patch.setattr(credits, "_chunk_process", dying)
        with pytest.raises(WorkerKilled):
            credits.credit_batch_process(batch_id=batch_id)
    assert _status(batch_id) == CreditBatchStatus.PROCESSING
    assert CreditRecord.objects.count() == 2 and CreditBatch.objects.get(pk=batch_id).processed == 2
    assert _results(batch_id) == ["accepted", "accepted", "pending", "pending", "pending"]
    assert _total(enrolled, this_year) == (Decimal("10.0"), Decimal("10.0"), Decimal("20.0"))

    assert credits.credit_batch_sweep(older_than_seconds=0) == 1
    wait_for(lambda: _status(batch_id) == CreditBatchStatus.DONE, message="the interrupted batch to be finished")
    # A late duplicate of the task changes nothing.
    credit_batch_process.apply_async(args=(batch_id,))
    probe = post_batch(client, api_key, _records(enrolled, this_year, 1, prefix="P")).json()["batch_id"]
    wait_for(lambda: _status(probe) == CreditBatchStatus.DONE, message="a later batch")
    assert _results(batch_id) == ["accepted"] * 5
    batch = CreditBatch.objects.get(pk=batch_id)
    assert (batch.processed, batch.accepted_count, batch.duplicate_count, batch.rejected_count) == (5, 5, 0, 0)
    assert CreditRecord.objects.filter(batch_id=batch_id).count() == 5
    assert _total(enrolled, this_year) == (Decimal("20.0"), Decimal("40.0"), Decimal("60.0"))
    assert credits.credit_totals_check() == []


def test_processing_twice_counts_once(enrolled, institution, this_year, db):
    batch = credits.credit_batch_receive(institution=institution, records=_records(enrolled, this_year, 3))
    assert credits.credit_batch_process(batch_id=batch.pk) is True
    assert credits.credit_batch_process(batch_id=batch.pk) is False
    assert CreditRecord.objects.count() == 3 and CreditBatch.objects.get(pk=batch.pk).accepted_count == 3
    assert _total(enrolled, this_year) == (Decimal("10.0"), Decimal("20.0"), Decimal("30.0"))


def test_no_plain_id_number_is_stored_or_logged(client, api_key, enrolled, this_year, tasks_run, caplog):
    for name in ("", "education", "celery", "portal"):
        caplog.set_level(logging.DEBUG, logger=name)
    stranger = make_id_number()
    bad = "520102199003070000"
    records = [credit_record(enrolled, record_id="K1", year=this_year),
               credit_record(enrolled, record_id="K2", year=this_year, id_number=stranger),
               credit_record(enrolled, record_id="K3", year=this_year, id_number=bad.lower())]
    response = post_batch(client, api_key, records)
    batch_id = response.json()["batch_id"]
    wait_for(lambda: _status(batch_id) == CreditBatchStatus.DONE, message="the batch to be processed")
    assert CreditRecord.objects.count() == 1
    assert enrolled.plain_id_number not in response.content.decode()
    for plain in (enrolled.plain_id_number, stranger, bad):
        assert _orm_hits(plain) == []
        assert _raw_hits(plain) == []
        assert _cache_hits(plain) == []
        assert plain not in caplog.text.upper()
        worker_log = ROOT / "test-artifacts" / "celery-worker.log"
        if tasks_run is not None and worker_log.exists():
            assert plain not in worker_log.read_text(errors="replace").upper()
    stored = CreditBatch.objects.get(pk=batch_id).records[0]
    assert "id_number" not in stored and stored["id_masked"].startswith(enrolled.plain_id_number[:6])


def test_the_sweep_is_in_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["education-credit-batch-sweep"]
    assert entry["task"] == "education.tasks.credit_batch_sweep"


def test_a_chunk_that_meets_a_concurrent_insert_is_redone_record_by_record(
    enrolled, institution, this_year, db, monkeypatch
):
    """The chunk's multi-row insert hits a unique conflict (another batch stored a
    record_id between the look-up and the insert): the chunk is rolled back and
    decided one record at a time, and every credit counts exactly once."""
    batch = credits.credit_batch_receive(institution=institution, records=_records(enrolled, this_year, 3))
    real_bulk_insert = credits.bulk_insert
    calls = []

    def conflicting(model, fields, rows, **kwargs):
        if model is CreditRecord:
            calls.append(len(rows))
            if len(calls) == 1:
                raise credits.IntegrityError("duplicate key value violates unique constraint")
        return real_bulk_insert(model, fields, rows, **kwargs)

    monkeypatch.setattr(credits, "bulk_insert", conflicting)
    assert credits.credit_batch_process(batch_id=batch.pk) is True
    assert calls == [3]  # the fast path was tried once, then the exact path took over
    assert _results(batch.pk) == ["accepted"] * 3
    assert CreditBatch.objects.get(pk=batch.pk).processed == 3
    assert CreditRecord.objects.filter(institution=institution).count() == 3
    assert _total(enrolled, this_year) == (Decimal("10.0"), Decimal("20.0"), Decimal("30.0"))
    assert credits.credit_totals_check() == []


def test_bulk_insert_keeps_every_character_and_reports_a_unique_violation(enrolled, institution, this_year, db):
    """The bulk path (COPY on PostgreSQL, multi-row INSERT elsewhere) stores text with tabs,
    line breaks and backslashes exactly, NULL as NULL, and a duplicate (institution,
    record_id) raises Django's IntegrityError, which sends a chunk down the exact path."""
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from portal.bulk import bulk_insert

    course = 'Tab\there, line\nbreak, CR\r, back\\slash \\N "quoted" 中文'
    row = (enrolled.pk, "institution", institution.pk, "B1", this_year, "public", Decimal("2.5"), course,
           credits.dt.date(this_year, 3, 1), None, timezone.now())
    assert bulk_insert(CreditRecord, credits.CREDIT_RECORD_COLUMNS, [row]) == 1
    stored = CreditRecord.objects.get(record_id="B1")
    assert (stored.course, stored.credits, stored.batch_id) == (course, Decimal("2.5"), None)
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(CreditRecord, credits.CREDIT_RECORD_COLUMNS, [(*row[:3], "B2", *row[4:]), row])
    assert CreditRecord.objects.filter(record_id="B2").count() == 0  # the whole insert was refused


def test_the_credit_tables_carry_no_redundant_index(db):
    """Every index on the credit tables is written once per credit at ingestion: the
    single-column foreign-key indexes that another index already leads with are gone
    (migration 0006), and the batch reference has no foreign-key check (PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table, column in (("education_creditrecord", "user_id"), ("education_creditrecord", "institution_id"),
                              ("education_creditrecord", "batch_id"), ("education_credityeartotal", "user_id"),
                              ("education_creditbatchitem", "batch_id")):
            constraints = connection.introspection.get_constraints(cursor, table).values()
            assert not [c for c in constraints if c["index"] and not c["unique"] and c["columns"] == [column]]
        record_constraints = connection.introspection.get_constraints(cursor, "education_creditrecord").values()
        leading = {tuple(c["columns"][:1]) for c in record_constraints if c["index"] or c["unique"]}
        assert {("user_id",), ("institution_id",)} <= leading  # still served by the wider indexes
        if connection.vendor == "postgresql":
            assert not [c for c in record_constraints if c["foreign_key"] and c["columns"] == ["batch_id"]]
