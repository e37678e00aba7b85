"""`manage.py credit_report`: scope by division, zeros for people without a total,
--only-unmet, masked ID numbers, CSV with BOM and formula escaping, xlsx, and a
query count that does not grow with the number of people."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from collection import services as collection_services
from collection.models import Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
from education import credits, reports
from education.models import CreditCategory, CreditSource
from portal.images import DOCUMENT, PHOTO, clean_image
from tests.factories import AccountFactory
from tests.images import document_upload, photo_upload

pytestmark = pytest.mark.django_db

YEAR = 2025
HEADER = ["姓名", "证件号码", "所属行政区划", "公需科目", "专业科目", "合计", "是否达标"]
_ids = itertools.count(1)


def collected(name: str, division_code: str):
    """An accountant whose archive is 已采集 in `division_code`, through collection.services."""
    user = AccountFactory(name=name)
    archive = collection_services.archive_start(user=user)
    for field, upload, rule in (("photo", photo_upload, PHOTO), ("id_card_front", document_upload, DOCUMENT),
                                ("id_card_back", document_upload, DOCUMENT)):
        collection_services.archive_upload_replace(archive=archive, field=field,
                                                   content=clean_image(upload(), rule=rule))
    collection_services.archive_save_personal(
        archive=archive, ethnicity=Ethnicity.objects.get(name="汉族"),
        political_status=PoliticalStatus.objects.get(name="群众"), email="r@example.com")
    collection_services.archive_save_education(archive=archive, full_time={
        "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
        "school": "贵州财经大学", "major": "会计学", "start_date": dt.date(2008, 9, 1),
        "graduation_date": dt.date(2012, 7, 1)}, part_time=None)
    collection_services.archive_save_professional(
        archive=archive,
        certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False, "abacus_level": "none"},
        qualifications=[], talents=[], awards=[])
    collection_services.archive_save_work(
        archive=archive, employment_status="accounting", division=Division.objects.get(code=division_code),
        employer="某某单位", school="", provincial_declaration=division_code == "520000")
    collection_services.archive_submit(archive=archive)
    return user


def add(user, category: str, amount: str, year: int = YEAR):
    credits.credit_record_add(user=user, source=CreditSource.STAFF, record_id=f"RP{next(_ids)}", year=year,
                              category=category, credits=Decimal(amount), course="课程",
                              completed_at=dt.date(year, 5, 1))


@pytest.fixture
def people(reference_data):
    """张达标 (南明区, 达标), 李不足 (遵义 红花岗区, 公需 only), 王省级 (省本级, nothing this year),
    =cmd (贵阳市 itself, 达标), and a registered but not collected person (never in the report)."""
    met = collected("张达标", "520102")
    add(met, CreditCategory.PUBLIC, "30")
    add(met, CreditCategory.PROFESSIONAL, "60.5")
    short = collected("李不足", "520302")
    add(short, CreditCategory.PUBLIC, "40")
    provincial = collected("王省级", "520000")
    add(provincial, CreditCategory.PUBLIC, "90", year=YEAR - 1)  # another year: zeros for YEAR
    formula = collected("=cmd", "520100")
    add(formula, CreditCategory.PUBLIC, "30")
    add(formula, CreditCategory.PROFESSIONAL, "60")
    AccountFactory(name="未采集")
    return {"met": met, "short": short, "provincial": provincial, "formula": formula}


def run_csv(tmp_path, *args) -> tuple[bytes, list[list[str]]]:
    out = tmp_path / "report.csv"
    call_command("credit_report", "--year", str(YEAR), "--output", str(out), *args, stderr=io.StringIO())
    raw = out.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def names(rows) -> set[str]:
    return {r[0] for r in rows[1:]}


def test_everyone_collected_with_zeros_masked_ids_and_verdicts(tmp_path, people):
    raw, rows = run_csv(tmp_path)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == HEADER
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"张达标", "李不足", "王省级", "'=cmd"}
    assert by_name["张达标"][2:] == ["贵阳市 南明区", "30.0", "60.5", "90.5", "达标"]
    assert by_name["李不足"][2:] == ["遵义市 红花岗区", "40.0", "0.0", "40.0", "未达标"]
    assert by_name["王省级"][2:] == ["省本级", "0.0", "0.0", "0.0", "未达标"]
    assert by_name["'=cmd"][2:] == ["贵阳市", "30.0", "60.0", "90.0", "达标"]
    for key, user in people.items():
        row = by_name["'=cmd" if key == "formula" else user.name]
        assert row[1] == user.id_number_masked and "*" in row[1]
        assert user.plain_id_number not in raw.decode("utf-8-sig")


def test_a_prefecture_includes_its_counties(tmp_path, people):
    _, rows = run_csv(tmp_path, "--division", "520100")
    assert names(rows) == {"张达标", "'=cmd"}
    _, rows = run_csv(tmp_path, "--division", "520300")
    assert names(rows) == {"李不足"}


def test_a_county_is_only_itself(tmp_path, people):
    _, rows = run_csv(tmp_path, "--division", "520102")
    assert names(rows) == {"张达标"}


def test_520000_is_only_the_provincial_level(tmp_path, people):
    _, rows = run_csv(tmp_path, "--division", "520000")
    assert names(rows) == {"王省级"}


def test_only_unmet(tmp_path, people):
    _, rows = run_csv(tmp_path, "--only-unmet")
    assert names(rows) == {"李不足", "王省级"}
    assert all(r[6] == "未达标" for r in rows[1:])
    _, rows = run_csv(tmp_path, "--only-unmet", "--division", "520100")
    assert rows == [HEADER]


def test_only_unmet_follows_the_settings(tmp_path, people, settings):
    settings.CE_ANNUAL_MIN_CREDITS = 90.5
    _, rows = run_csv(tmp_path, "--only-unmet")
    assert names(rows) == {"李不足", "王省级", "'=cmd"}


@pytest.mark.parametrize(("value", "escaped"), [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("张三", "张三"), ("a=b", "a=b"),
])
def test_formula_escaping(value, escaped):
    assert reports.escape_cell(value) == escaped


def test_csv_to_stdout_has_the_bom(people):
    out = io.StringIO()
    call_command("credit_report", "--year", str(YEAR), "--division", "520102", stdout=out)
    text = out.getvalue()
    assert text.startswith("\ufeff姓名,证件号码")
    assert "张达标" in text


def test_xlsx_opens_with_openpyxl(tmp_path, people):
    from openpyxl import load_workbook

    out = tmp_path / "report.xlsx"
    call_command("credit_report", "--year", str(YEAR), "--format", "xlsx", "--output", str(out),
                 stderr=io.StringIO())
    sheet = load_workbook(out, read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"张达标", "李不足", "王省级", "'=cmd"}  # not a formula
    assert by_name["张达标"][1] == people["met"].id_number_masked
    assert by_name["张达标"][3:] == [30, 60.5, 90.5, "达标"]
    assert by_name["王省级"][3:] == [0, 0, 0, "未达标"]


def test_bad_arguments(tmp_path, people):
    with pytest.raises(CommandError, match="未知的行政区划代码"):
        call_command("credit_report", "--year", str(YEAR), "--division", "999999", "--output",
                     str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(CommandError, match="needs --output"):
        call_command("credit_report", "--year", str(YEAR), "--format", "xlsx")
    with pytest.raises(CommandError, match="--year"):
        call_command("credit_report", "--year", "1999")


def test_query_count_does_not_grow_with_people(people, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        rows = list(reports.credit_report_rows(year=YEAR, division_code="520100"))
    assert len(rows) == 2
    for i in range(3):
        add(collected(f"新人{i}", "520103"), CreditCategory.PUBLIC, "5")
    with django_assert_max_num_queries(3):
        rows = list(reports.credit_report_rows(year=YEAR, division_code="520100"))
    assert len(rows) == 5
    with django_assert_max_num_queries(3):
        assert len(list(reports.credit_report_rows(year=YEAR))) == 7


def test_rows_are_streamed_with_an_iterator(people, monkeypatch):
    """The rows come from QuerySet.iterator (chunked), never a fully loaded list."""
    from django.db.models.query import QuerySet

    calls = []
    real = QuerySet.iterator

    def spy(self, chunk_size=None):
        calls.append(chunk_size)
        return real(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    assert len(list(reports.credit_report_rows(year=YEAR))) == 4
    assert calls == [reports.CHUNK_SIZE]


def test_postgresql_writes_the_same_csv_itself(people):
    """On PostgreSQL the command has the database write the CSV (COPY); it must equal, row
    for row, what the Python path writes (on SQLite the Python path is the only one)."""
    from django.db import connection

    def parsed(text: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(text)))

    for kwargs in ({}, {"division_code": "520100"}, {"only_unmet": True}):
        python = io.StringIO()
        count = reports.credit_report_write_csv(rows=reports.credit_report_rows(year=YEAR, **kwargs), stream=python)
        if connection.vendor != "postgresql":
            assert not hasattr(connection.cursor().cursor, "copy_expert")
            continue
        database = io.StringIO()
        assert reports.credit_report_copy_csv(year=YEAR, stream=database, **kwargs) == count
        assert parsed(database.getvalue()) == parsed(python.getvalue())
        assert any(row[0] == "'=cmd" for row in parsed(database.getvalue())) or kwargs
