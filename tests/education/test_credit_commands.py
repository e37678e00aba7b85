"""manage.py import_credits (same service and results as the API, idempotent) and
manage.py check_credit_totals (finds a tampered summary; --fix repairs it)."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from education import credits, services
from education.models import CreditBatch, CreditRecord, CreditYearTotal
from tests.education.helpers import collect, credit_record
from tests.factories import AccountFactory, make_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled(learner, institution, this_year):
    services.enrolment_create(user=learner, institution=institution, year=this_year)
    return learner


def _records(learner, this_year):
    not_enrolled = AccountFactory(name="未报名")
    collect(not_enrolled)
    return [
        credit_record(learner, record_id="C1", year=this_year, category="公需科目", credits=30),
        credit_record(learner, record_id="C2", year=this_year, credits=60.5),
        credit_record(learner, record_id="C3", year=this_year, name="王五"),
        credit_record(learner, record_id="C4", year=this_year, id_number=make_id_number()),
        credit_record(not_enrolled, record_id="C5", year=this_year),
        credit_record(learner, record_id="C6", year=this_year - 1),
        credit_record(learner, record_id="C7", year=this_year, category="其他"),
        credit_record(learner, record_id="C1", year=this_year, category="公需科目", credits=30),
        credit_record(learner, record_id="C2", year=this_year, credits=61),
    ]


def _write(tmp_path, records) -> str:
    path = tmp_path / "credits.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=credits.RECORD_FIELDS)
        writer.writeheader()
        writer.writerows(records)
    return str(path)


def _outcomes(batch) -> list[tuple]:
    return [(r["record_id"], r["result"], r.get("reason")) for r in credits.credit_batch_report(batch=batch)["records"]]


def test_import_gives_the_same_results_as_the_api_path_and_is_idempotent(tmp_path, enrolled, institution,
                                                                         this_year, capsys):
    records = _records(enrolled, this_year)
    call_command("import_credits", _write(tmp_path, records), "--institution", "GZ001")
    out = capsys.readouterr().out
    assert "2 accepted, 1 duplicate, 6 rejected" in out and "line 4: record_id 'C3': name_mismatch" in out
    imported = CreditBatch.objects.get()
    assert imported.origin == "csv"
    assert _outcomes(imported) == [
        ("C1", "accepted", None), ("C2", "accepted", None), ("C3", "rejected", "name_mismatch"),
        ("C4", "rejected", "person_unknown"), ("C5", "rejected", "not_enrolled"),
        ("C6", "rejected", "institution_not_filed"), ("C7", "rejected", "invalid_value"),
        ("C1", "duplicate", None), ("C2", "rejected", "conflict"),
    ]
    total = CreditYearTotal.objects.get(user=enrolled, year=this_year)
    assert (total.public_credits, total.professional_credits, total.total) == (
        Decimal("30.0"), Decimal("60.5"), Decimal("90.5"))

    # The same file again adds nothing.
    call_command("import_credits", _write(tmp_path, records), "--institution", "GZ001")
    assert "0 accepted, 3 duplicate, 6 rejected" in capsys.readouterr().out
    assert CreditRecord.objects.count() == 2
    total.refresh_from_db()
    assert total.total == Decimal("90.5")

    # The API path (the same service) gives the same per-record results for the same records.
    api_batch = credits.credit_batch_receive(institution=institution, records=records)
    credits.credit_batch_process(batch_id=api_batch.pk)
    second_csv = CreditBatch.objects.filter(origin="csv").order_by("pk").last()
    assert _outcomes(api_batch) == _outcomes(second_csv)


def test_import_refuses_bad_numbers_with_line_numbers_and_stores_nothing(tmp_path, enrolled, this_year):
    records = [credit_record(enrolled, record_id="C1", year=this_year),
               {**credit_record(enrolled, record_id="C2", year=this_year), "credits": "十"},
               {**credit_record(enrolled, record_id="C3", year=this_year), "year": "明年"}]
    with pytest.raises(CommandError) as error:
        call_command("import_credits", _write(tmp_path, records), "--institution", "GZ001")
    assert "line 3: credits" in str(error.value) and "line 4: year" in str(error.value)
    assert not CreditBatch.objects.exists()


def test_import_needs_a_known_institution_and_the_columns(tmp_path, institution):
    with pytest.raises(CommandError, match="no institution"):
        call_command("import_credits", _write(tmp_path, []), "--institution", "NOPE")
    path = tmp_path / "bad.csv"
    path.write_text("record_id,name\nR1,李\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_credits", str(path), "--institution", "GZ001")


def test_check_credit_totals_finds_a_tampered_summary_and_fix_repairs_it(enrolled, institution, this_year, capsys):
    batch = credits.credit_batch_receive(institution=institution, records=[
        credit_record(enrolled, record_id="C1", year=this_year, category="公需科目", credits=30),
        credit_record(enrolled, record_id="C2", year=this_year, credits=60)])
    credits.credit_batch_process(batch_id=batch.pk)
    call_command("check_credit_totals")
    assert "all consistent" in capsys.readouterr().out

    CreditYearTotal.objects.filter(user=enrolled, year=this_year).update(professional_credits=Decimal("6.0"),
                                                                         total=Decimal("36.0"))
    CreditYearTotal.objects.create(user=enrolled, year=this_year - 1, public_credits=Decimal("5.0"),
                                   total=Decimal("5.0"))
    with pytest.raises(CommandError) as error:
        call_command("check_credit_totals")
    assert error.value.returncode == 1
    out = capsys.readouterr().out
    assert f"user {enrolled.pk} year {this_year}: stored 30.0/6.0/36.0, records give 30.0/60.0/90.0" in out
    assert f"year {this_year - 1}" in out
    assert CreditYearTotal.objects.get(user=enrolled, year=this_year).total == Decimal("36.0")  # only reported

    with pytest.raises(CommandError, match="repaired"):
        call_command("check_credit_totals", "--fix")
    row = CreditYearTotal.objects.get(user=enrolled, year=this_year)
    assert (row.public_credits, row.professional_credits, row.total) == (
        Decimal("30.0"), Decimal("60.0"), Decimal("90.0"))
    assert CreditYearTotal.objects.get(user=enrolled, year=this_year - 1).total == Decimal("0.0")
    call_command("check_credit_totals")
    assert "all consistent" in capsys.readouterr().out


def test_check_credit_totals_reports_a_missing_summary_row(enrolled, institution, this_year):
    batch = credits.credit_batch_receive(institution=institution, records=[
        credit_record(enrolled, record_id="C1", year=this_year, credits=10)])
    credits.credit_batch_process(batch_id=batch.pk)
    CreditYearTotal.objects.all().delete()
    with pytest.raises(CommandError):
        call_command("check_credit_totals", "--fix")
    assert CreditYearTotal.objects.get(user=enrolled, year=this_year).total == Decimal("10.0")
