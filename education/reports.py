"""The operators' yearly credit report (`manage.py credit_report`).

One row per collected (已采集) accountant in scope, read from the yearly summary
rows (CreditYearTotal) through one LEFT JOIN, never from the raw records;
streamed with `.iterator()` so 300k people are never in memory at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, DecimalField, FilteredRelation, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext as _

from collection.models import PROVINCIAL_LEVEL_CODE, Archive, ArchiveStatus, Division, DivisionLevel
from portal.errors import PortalError

HEADER = ("姓名", "证件号码", "所属行政区划", "公需科目", "专业科目", "合计", "是否达标")
CHUNK_SIZE = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class UnknownDivision(PortalError):
    """The division code is not one of Guizhou's divisions."""


@dataclass(frozen=True)
class ReportRow:
    name: str
    id_number_masked: str
    division: str
    public: Decimal
    professional: Decimal
    total: Decimal
    met: bool


def _scope(division_code: str | None) -> Q:
    """Prefecture = itself and its counties; 520000 = 省本级 only; a county = itself."""
    if not division_code:
        return Q()
    division = Division.objects.filter(code=division_code).first()
    if division is None:
        raise UnknownDivision(_("未知的行政区划代码：%(code)s") % {"code": division_code}, code="unknown_division")
    if division.level == DivisionLevel.PREFECTURE:
        return Q(division=division) | Q(division__parent=division)
    return Q(division=division)


def division_check(division_code: str | None) -> None:
    """Raise UnknownDivision for a code that is not one of Guizhou's divisions."""
    _scope(division_code)


def _division_label(code: str | None, name: str | None, parent_name: str | None, level: str | None) -> str:
    if code is None:
        return ""
    if code == PROVINCIAL_LEVEL_CODE:
        return _("省本级")
    if level == DivisionLevel.COUNTY and parent_name:
        return f"{parent_name} {name}"
    return name or ""


def _report_queryset(*, year: int, division_code: str | None, only_unmet: bool):
    """Collected archives in scope with that year's totals (zeros without a summary row)."""
    zero = Value(Decimal("0.0"), output_field=DecimalField(max_digits=8, decimal_places=1))
    public_min, professional_min = settings.CE_PUBLIC_MIN_CREDITS, settings.CE_PROFESSIONAL_MIN_CREDITS
    total_min = settings.CE_ANNUAL_MIN_CREDITS
    rows = (
        Archive.objects.filter(_scope(division_code), status=ArchiveStatus.COLLECTED)
        .annotate(year_total=FilteredRelation("user__credit_totals", condition=Q(user__credit_totals__year=year)))
        .annotate(public=Coalesce("year_total__public_credits", zero),
                  professional=Coalesce("year_total__professional_credits", zero),
                  total=Coalesce("year_total__total", zero))
    )
    if only_unmet:
        rows = rows.filter(Q(public__lt=public_min) | Q(professional__lt=professional_min) | Q(total__lt=total_min))
    return rows


def credit_report_rows(*, year: int, division_code: str | None = None, only_unmet: bool = False) -> Iterator[ReportRow]:
    """The report's rows, streamed: people without a total that year have zeros (未达标)."""
    public_min, professional_min = settings.CE_PUBLIC_MIN_CREDITS, settings.CE_PROFESSIONAL_MIN_CREDITS
    total_min = settings.CE_ANNUAL_MIN_CREDITS
    rows = _report_queryset(year=year, division_code=division_code, only_unmet=only_unmet)
    values = rows.order_by("division__code", "pk").values_list(
        "user__name", "user__id_number_masked", "division__code", "division__name", "division__parent__name",
        "division__level", "public", "professional", "total",
    )
    for name, masked, code, div_name, parent_name, level, public, professional, total in values.iterator(
            chunk_size=CHUNK_SIZE):
        public, professional, total = (Decimal(v).quantize(Decimal("0.1")) for v in (public, professional, total))
        yield ReportRow(
            name=name, id_number_masked=masked, division=_division_label(code, div_name, parent_name, level),
            public=public, professional=professional, total=total,
            met=public >= public_min and professional >= professional_min and total >= total_min,
        )


class _LineCounter(io.TextIOBase):
    """A text stream that passes COPY's output on and counts its lines (one per person:
    names and masked IDs never hold a line break)."""

    def __init__(self, stream: IO[str]):
        self.stream, self.lines = stream, 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.stream.write(text)
        return len(text)


def _escaped(expression):
    """SQL for escape_cell: a text starting with = + - @ tab or CR gets a leading '."""
    return Case(When(**{f"{expression}__regex": r"^[=+@\t\r-]"}, then=Concat(Value("'"), expression)),
                default=expression, output_field=CharField())


def credit_report_copy_csv(*, year: int, division_code: str | None = None, only_unmet: bool = False,
                           stream: IO[str]) -> int:
    """PostgreSQL: the same CSV as credit_report_write_csv, produced by the database itself
    (COPY ... TO STDOUT) so 300k rows never pass through Python objects; rows written."""
    public_min, professional_min = settings.CE_PUBLIC_MIN_CREDITS, settings.CE_PROFESSIONAL_MIN_CREDITS
    total_min = settings.CE_ANNUAL_MIN_CREDITS
    label = Case(
        When(division__isnull=True, then=Value("")),
        When(division__code=PROVINCIAL_LEVEL_CODE, then=Value(str(_("省本级")))),
        When(division__level=DivisionLevel.COUNTY, division__parent__isnull=False,
             then=Concat("division__parent__name", Value(" "), "division__name")),
        default="division__name", output_field=CharField(),
    )
    met = Case(
        When(Q(public__gte=public_min) & Q(professional__gte=professional_min) & Q(total__gte=total_min),
             then=Value(str(_("达标")))),
        default=Value(str(_("未达标"))), output_field=CharField(),
    )
    rows = (
        _report_queryset(year=year, division_code=division_code, only_unmet=only_unmet)
        .annotate(c_label=label)
        .annotate(c_name=_escaped("user__name"), c_masked=_escaped("user__id_number_masked"),
                  c_division=_escaped("c_label"), c_public=Cast("public", CharField()),
                  c_professional=Cast("professional", CharField()), c_total=Cast("total", CharField()), c_met=met)
        .order_by("division__code", "pk")
        .values_list("c_name", "c_masked", "c_division", "c_public", "c_professional", "c_total", "c_met")
    )
    sql, params = rows.query.sql_with_params()
    counter = _LineCounter(stream)
    csv.writer(stream).writerow(HEADER)
    with transaction.atomic(), connection.cursor() as cursor:
        # One big sorted read: sort in memory, and no JIT compilation (it costs more than it saves here).
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL jit = off")
        copy = cursor.cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params).decode()
        cursor.cursor.copy_expert(copy, counter)
    return counter.lines


def escape_cell(value: str) -> str:
    """Neutralise spreadsheet formula injection: a text cell starting with = + - @ gets a leading '."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cells(row: ReportRow) -> tuple:
    return (escape_cell(row.name), escape_cell(row.id_number_masked), escape_cell(row.division),
            row.public, row.professional, row.total, _("达标") if row.met else _("未达标"))


def credit_report_write_csv(*, rows: Iterable[ReportRow], stream: IO[str]) -> int:
    """Write the report as CSV to a text stream (the caller opens it with encoding utf-8-sig); rows written."""
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    count = 0
    for row in rows:
        writer.writerow([str(c) for c in _cells(row)])
        count += 1
    return count


def credit_report_write_xlsx(*, rows: Iterable[ReportRow], path) -> int:
    """Write the report as an .xlsx file (openpyxl write-only mode: rows are streamed); rows written."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("继续教育学分"))
    sheet.append(HEADER)
    count = 0
    for row in rows:
        sheet.append(list(_cells(row)))
        count += 1
    workbook.save(path)
    return count
