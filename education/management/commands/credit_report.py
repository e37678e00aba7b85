"""Yearly continuing-education report for operators: one row per collected accountant.

    python manage.py credit_report --year 2025 [--division 520100] [--format csv|xlsx]
                                   [--only-unmet] [--output FILE]

CSV is UTF-8 with a BOM (opens in Excel); without --output it goes to stdout.
xlsx needs --output.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from education import reports
from education.models import MAX_YEAR, MIN_YEAR
from portal.progress import Progress


class Command(BaseCommand):
    help = "继续教育学分报表: one row per collected accountant (from the yearly totals), CSV or xlsx."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年度")
        parser.add_argument("--division", help="行政区划代码: a prefecture includes its counties; 520000 = 省本级 only")
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--only-unmet", action="store_true", help="only people who are 未达标")
        parser.add_argument("--output", help="file to write (default for csv: stdout)")

    def handle(self, *args, **options):
        year, division, output = options["year"], options["division"], options["output"]
        fmt, only_unmet = options["format"], options["only_unmet"]
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise CommandError(f"--year must be between {MIN_YEAR} and {MAX_YEAR}")
        if fmt == "xlsx" and not output:
            raise CommandError("--format xlsx needs --output FILE")
        try:
            reports.division_check(division)  # before any file is created
        except reports.UnknownDivision as error:
            raise CommandError(error.message) from None
        if fmt == "csv" and connection.vendor == "postgresql":
            self._copy_csv(year=year, division=division, only_unmet=only_unmet, output=output)
            return
        rows = reports.credit_report_rows(year=year, division_code=division, only_unmet=only_unmet)
        if output:  # on stdout the data is the output: no progress mixed in
            rows = _counted(rows, Progress("credit_report", stream=self.stderr._out))
        if fmt == "xlsx":
            count = reports.credit_report_write_xlsx(rows=rows, path=output)
        elif output:
            with open(output, "w", encoding="utf-8-sig", newline="") as stream:
                count = reports.credit_report_write_csv(rows=rows, stream=stream)
        else:
            self.stdout.write("\ufeff", ending="")
            count = reports.credit_report_write_csv(rows=rows, stream=self.stdout)
        if output:
            self.stderr.write(f"credit_report: {count} rows written to {output}")


    def _copy_csv(self, *, year, division, only_unmet, output) -> None:
        """PostgreSQL writes the CSV itself (COPY): the fast path for all 300k people."""
        if output:
            with open(output, "w", encoding="utf-8-sig", newline="") as stream:
                count = reports.credit_report_copy_csv(year=year, division_code=division, only_unmet=only_unmet,
                                                       stream=stream)
            self.stderr.write(f"credit_report: {count} rows written to {output}")
        else:
            self.stdout.write("\ufeff", ending="")
            reports.credit_report_copy_csv(year=year, division_code=division, only_unmet=only_unmet,
                                           stream=self.stdout._out)  # raw: OutputWrapper would add line ends


def _counted(rows, progress: Progress):
    for row in rows:
        yield row
        progress.advance()
    progress.done()
