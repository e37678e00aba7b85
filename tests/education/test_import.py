"""manage.py import_institutions: idempotent, all-or-nothing, line numbers."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from education.models import Institution, InstitutionFiling

pytestmark = pytest.mark.django_db

HEADER = "code,name,platform_url,contact_name,contact_phone,years,active\n"
GOOD = (
    HEADER
    + "GZ001,贵州会计网校,https://gz.example.com/learn,王老师,0851-12345678,2025;2026,1\n"
    + "GZ002,黔中财会学院,http://qz.example.com/,,,2026,否\n"
)


def _write(tmp_path, text: str, name="institutions.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _snapshot():
    return (
        list(Institution.objects.order_by("code").values_list(
            "code", "name", "platform_url", "contact_name", "contact_phone", "is_active", "updated_at")),
        list(InstitutionFiling.objects.order_by("institution__code", "year").values_list("institution__code", "year")),
    )


def test_import_creates_institutions_and_filings(tmp_path, capsys):
    call_command("import_institutions", _write(tmp_path, GOOD))
    gz1 = Institution.objects.get(code="GZ001")
    assert (gz1.name, gz1.platform_url, gz1.contact_name, gz1.contact_phone, gz1.is_active) == (
        "贵州会计网校", "https://gz.example.com/learn", "王老师", "0851-12345678", True)
    assert sorted(gz1.filings.values_list("year", flat=True)) == [2025, 2026]
    assert Institution.objects.get(code="GZ002").is_active is False
    assert "2 created" in capsys.readouterr().out


def test_second_run_changes_nothing(tmp_path, capsys):
    path = _write(tmp_path, GOOD)
    call_command("import_institutions", path)
    before = _snapshot()
    capsys.readouterr()
    call_command("import_institutions", path)
    assert _snapshot() == before
    assert "0 created, 0 updated, 2 unchanged; filed years added: 0" in capsys.readouterr().out


def test_a_changed_row_updates_and_adds_years(tmp_path):
    call_command("import_institutions", _write(tmp_path, GOOD))
    changed = GOOD.replace("王老师", "赵老师").replace("2025;2026", "2026;2027")
    call_command("import_institutions", _write(tmp_path, changed, "v2.csv"))
    gz1 = Institution.objects.get(code="GZ001")
    assert gz1.contact_name == "赵老师"
    # a filing is never withdrawn by an import
    assert sorted(gz1.filings.values_list("year", flat=True)) == [2025, 2026, 2027]


@pytest.mark.parametrize(("bad_row", "message"), [
    ("GZ003,坏机构,ftp://bad.example.com,,,2026,1", "platform_url"),
    ("GZ003,坏机构,https://ok.example.com,,,20x6,1", "year"),
    ("GZ003,坏机构,https://ok.example.com,,,,1", "years"),
    ("GZ003,,https://ok.example.com,,,2026,1", "name"),
    ("GZ 3,坏机构,https://ok.example.com,,,2026,1", "code"),
    ("GZ003,坏机构,https://ok.example.com,,,2026,maybe", "active"),
    ("GZ001,重复代码,https://ok.example.com,,,2026,1", "already appears on line 2"),
])
def test_a_bad_row_writes_nothing_and_names_its_line(tmp_path, bad_row, message):
    text = GOOD + bad_row + "\n"
    with pytest.raises(CommandError) as raised:
        call_command("import_institutions", _write(tmp_path, text))
    assert "line 4" in str(raised.value) and message in str(raised.value)
    assert not Institution.objects.exists() and not InstitutionFiling.objects.exists()


def test_a_bad_row_leaves_an_earlier_import_untouched(tmp_path):
    call_command("import_institutions", _write(tmp_path, GOOD))
    before = _snapshot()
    text = GOOD.replace("王老师", "赵老师") + "GZ009,新机构,https://new.example.com,,,2026,1\nGZ010,,x,,,2026,1\n"
    with pytest.raises(CommandError, match="line 5"):
        call_command("import_institutions", _write(tmp_path, text, "v2.csv"))
    assert _snapshot() == before


def test_missing_columns_are_reported(tmp_path):
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_institutions", _write(tmp_path, "code,name\nGZ001,x\n"))


def test_excel_bom_and_blank_lines_are_accepted(tmp_path):
    call_command("import_institutions", _write(tmp_path, "\ufeff" + GOOD + "\n"))
    assert Institution.objects.count() == 2
