"""Staff exports (CSV and XLSX): the archive list and the yearly credit compliance of a
(scoped, filtered) archive queryset. ID numbers and mobiles masked; every text cell
escaped against formula injection (education.reports.escape_cell). Rows are streamed
from the database and written to a temporary file, never held in memory as a list."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.db.models import DecimalField, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from collection.models import ArchiveStatus, EmploymentStatus
from education.reports import _division_label, escape_cell

from .identity import mask_mobile

FORMATS = ("csv", "xlsx")
CHUNK_SIZE = 2000

ARCHIVE_HEADER = ("档案编号", "姓名", "证件号码", "手机号码", "所属行政区划", "在岗状态", "工作单位或学校",
                  "采集状态", "采集时间")
COMPLIANCE_HEADER = ("档案编号", "姓名", "证件号码", "所属行政区划", "年度", "公需科目", "专业科目", "合计", "是否达标")

_DIVISION_VALUES = ("division__code", "division__name", "division__parent__name", "division__level")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_cell(value)
    return value


def archive_rows(queryset: QuerySet) -> Iterator[tuple]:
    """One row per archive of `queryset` (already scoped and filtered by the caller)."""
    employment = dict(EmploymentStatus.choices)
    status = dict(ArchiveStatus.choices)
    values = queryset.order_by().order_by("pk").values_list(
        "archive_number", "user__name", "user__id_number_masked", "user__mobile", *_DIVISION_VALUES,
        "employment_status", "employer", "school", "status", "collected_at",
    )
    for (number, name, masked, mobile, code, div_name, parent_name, level, employment_status, employer, school,
         archive_status, collected_at) in values.iterator(chunk_size=CHUNK_SIZE):
        yield (
            number or "", name, masked, mask_mobile(str(mobile)) if mobile else "",
            _division_label(code, div_name, parent_name, level), str(employment.get(employment_status, "")),
            employer or school or "", str(status.get(archive_status, archive_status)),
            timezone.localtime(collected_at).strftime("%Y-%m-%d %H:%M") if collected_at else "",
        )


def compliance_rows(queryset: QuerySet, *, year: int) -> Iterator[tuple]:
    """The year's credits against the requirement for each collected archive of `queryset`,
    read from the yearly totals (one LEFT JOIN); no total that year = zeros, 未达标."""
    zero = Value(Decimal("0.0"), output_field=DecimalField(max_digits=8, decimal_places=1))
    public_min, professional_min = settings.CE_PUBLIC_MIN_CREDITS, settings.CE_PROFESSIONAL_MIN_CREDITS
    total_min = settings.CE_ANNUAL_MIN_CREDITS
    rows = (
        queryset.order_by().filter(status=ArchiveStatus.COLLECTED)
        .annotate(export_total=FilteredRelation("user__credit_totals",
                                                condition=Q(user__credit_totals__year=year)))
        .annotate(export_public=Coalesce("export_total__public_credits", zero),
                  export_professional=Coalesce("export_total__professional_credits", zero),
                  export_sum=Coalesce("export_total__total", zero))
        .order_by("division__code", "pk")
        .values_list("archive_number", "user__name", "user__id_number_masked", *_DIVISION_VALUES,
                     "export_public", "export_professional", "export_sum")
    )
    for number, name, masked, code, div_name, parent_name, level, public, professional, total in rows.iterator(
            chunk_size=CHUNK_SIZE):
        public, professional, total = (Decimal(v).quantize(Decimal("0.1")) for v in (public, professional, total))
        met = public >= public_min and professional >= professional_min and total >= total_min
        yield (number or "", name, masked, _division_label(code, div_name, parent_name, level), year,
               public, professional, total, _("达标") if met else _("未达标"))


def write_csv(*, header: Iterable[str], rows: Iterable[tuple], stream: IO[str]) -> int:
    writer = csv.writer(stream)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([str(_cell(c)) for c in row])
        count += 1
    return count


def write_xlsx(*, header: Iterable[str], rows: Iterable[tuple], stream: IO[bytes], title: str) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    count = 0
    for row in rows:
        sheet.append([_cell(c) for c in row])
        count += 1
    workbook.save(stream)
    return count


def export_file(*, fmt: str, header: Iterable[str], rows: Iterable[tuple], title: str) -> tuple[IO[bytes], int]:
    """The export in a rewound temporary file (spooled: small exports stay in memory) and its row count."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        count = write_csv(header=header, rows=rows, stream=text)
        text.flush()
        text.detach()
    else:
        count = write_xlsx(header=header, rows=rows, stream=out, title=title)
    out.seek(0)
    return out, count


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
