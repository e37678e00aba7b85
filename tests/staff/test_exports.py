"""Exports (CSV, XLSX) of the archive list and of yearly credit compliance: the staff
user's scope and the list's filters, ID numbers masked, formula injection escaped,
each export recorded with its filter and row count."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from portal.models import AuditAction, AuditEntry
from tests.staff.conftest import add_credits
from tests.staff.helpers import otp_login

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def export(client, fmt="csv", **params):
    return client.get(reverse("admin:collection_archive_export", args=[fmt]), params)


def compliance(client, year, fmt="csv", **params):
    return client.get(reverse("admin:collection_archive_export_compliance", args=[year, fmt]), params)


def test_archive_csv_is_scoped_masked_and_escaped(client, people, staff):
    otp_login(client, staff["guiyang"])
    rows = csv_rows(export(client))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["档案编号", "姓名", "证件号码"]
    assert sorted(r[1] for r in data) == sorted([people.nanming.name, people.yunyan.name])
    text = "\n".join(",".join(r) for r in rows)
    for person in people.all():
        assert person.plain_id_number not in text
    assert {r[2] for r in data} == {people.nanming.id_number_masked, people.yunyan.id_number_masked}
    assert all("*" in r[2] and "****" in r[3] for r in data)  # ID and mobile masked
    assert all(r[6].startswith("'=HYPERLINK") for r in data)  # employer "=HYPERLINK(...)" neutralised
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT_ARCHIVES)
    assert entry.row_count == 2 and entry.params["format"] == "csv" and entry.actor == staff["guiyang"]


def test_archive_export_follows_the_lists_filters_and_search(client, people, staff):
    otp_login(client, staff["province"])
    nanming_pk = people.nanming.archive.division_id
    rows = csv_rows(export(client, division=str(nanming_pk)))
    assert [r[1] for r in rows[1:]] == [people.nanming.name]
    rows = csv_rows(export(client, qualification_level="intermediate"))
    assert [r[1] for r in rows[1:]] == [people.nanming.name]
    rows = csv_rows(export(client, q=people.zhongshan.plain_id_number))
    assert [r[1] for r in rows[1:]] == [people.zhongshan.name]
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT_ARCHIVES).order_by("-pk").first()
    assert entry.params["q"] == people.zhongshan.id_number_masked  # the full number is not logged
    assert entry.row_count == 1


def test_archive_xlsx(client, people, staff):
    otp_login(client, staff["provincial"])
    response = export(client, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(response)
    assert len(rows) == 2 and rows[1][1] == people.provincial.name and rows[1][4] == "省本级"
    assert rows[1][2] == people.provincial.id_number_masked and rows[1][6].startswith("'=")


def test_unknown_format_is_404(client, people, staff):
    otp_login(client, staff["province"])
    assert export(client, "pdf").status_code == 404
    assert compliance(client, 2025, "pdf").status_code == 404
    assert compliance(client, 1990).status_code == 404
    assert not AuditEntry.objects.exists()


def test_compliance_export(client, people, staff, this_year):
    year = this_year - 1
    add_credits(people.nanming, year, public=30, professional=60)
    add_credits(people.yunyan, year, public=10, professional=80)
    add_credits(people.zhongshan, year, public=30, professional=60)
    otp_login(client, staff["guiyang"])
    rows = csv_rows(compliance(client, year))
    assert rows[0][-1] == "是否达标"
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {people.nanming.name, people.yunyan.name}
    assert by_name[people.nanming.name][-4:] == ["30.0", "60.0", "90.0", "达标"]
    assert by_name[people.yunyan.name][-1] == "未达标"
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT_COMPLIANCE)
    assert entry.row_count == 2 and entry.params["year"] == year

    rows = xlsx_rows(compliance(client, year, "xlsx", compliance=f"{year}-met"))
    assert [r[1] for r in rows[1:]] == [people.nanming.name]


def test_compliance_filter_on_the_list(client, people, staff, this_year):
    year = this_year - 1
    add_credits(people.nanming, year, public=30, professional=60)
    otp_login(client, staff["province"])
    url = reverse("admin:collection_archive_changelist")
    met = client.get(url, {"compliance": f"{year}-met"}).context["cl"].result_list
    unmet = client.get(url, {"compliance": f"{year}-unmet"}).context["cl"].result_list
    assert [a.user_id for a in met] == [people.nanming.pk]
    assert {a.user_id for a in unmet} == {people.yunyan.pk, people.zhongshan.pk, people.provincial.pk}
    page = client.get(url, {"compliance": f"{year}-met"}).content.decode()
    assert reverse("admin:collection_archive_export_compliance", args=[year, "csv"]) in page
