"""Import credit records offline from a CSV file, as if the institution had posted them.

Columns (header row, UTF-8, an Excel BOM is fine):

    record_id,id_type,id_number,name,year,category,credits,course,completed_at

The rows go through the same service as POST /api/v1/credit-batches (batches of
CE_CREDIT_BATCH_MAX_RECORDS, the same checks, the same idempotency on
(institution, record_id)), processed here rather than by the worker. A row
whose year or credits is not a number stops the import with its line number
before anything is stored.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from education import credits
from education.models import Institution
from portal.progress import Progress

_INT = re.compile(r"^-?\d{1,6}$")


def _typed(line: int, row: dict) -> dict:
    record = {k: (row.get(k) or "").strip() for k in credits.RECORD_FIELDS}
    if not _INT.match(record["year"]):
        raise ValueError(f"line {line}: year {record['year']!r} is not an integer")
    record["year"] = int(record["year"])
    try:
        record["credits"] = Decimal(record["credits"])
    except InvalidOperation:
        raise ValueError(f"line {line}: credits {record['credits']!r} is not a number") from None
    return record


class Command(BaseCommand):
    help = "Import credit records of an institution from a CSV file (same checks as the API)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8)")
        parser.add_argument("--institution", required=True, help="the institution's code")

    def handle(self, *args, **options):
        institution = Institution.objects.filter(code=options["institution"]).first()
        if institution is None:
            raise CommandError(f"no institution with code {options['institution']!r}")
        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in credits.RECORD_FIELDS if c not in header]
        if missing:
            raise CommandError(f"line 1: missing column(s) {', '.join(missing)}; "
                               f"expected {','.join(credits.RECORD_FIELDS)}")
        reader.fieldnames = header
        records, errors = [], []
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            try:
                records.append(_typed(reader.line_num, row))
            except ValueError as error:
                errors.append(str(error))
        if errors:
            raise CommandError("nothing imported:\n" + "\n".join(errors))
        if not records:
            raise CommandError("the file has no records")
        size = settings.CE_CREDIT_BATCH_MAX_RECORDS
        totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
        rejected_lines = []
        progress = Progress("import_credits", total=len(records), stream=self.stderr._out)
        for start in range(0, len(records), size):
            try:
                batch = credits.credit_batch_receive(institution=institution, records=records[start:start + size],
                                                     origin="csv")
            except credits.BatchInvalid as invalid:
                raise CommandError(str(invalid)) from None
            # Usually finished by the task already (inline); otherwise finish it here. Idempotent either way.
            credits.credit_batch_process(batch_id=batch.pk)
            report = credits.credit_batch_report(batch=batch)
            for entry in report["records"]:
                if entry["result"] in totals:
                    totals[entry["result"]] += 1
                if entry["result"] == "rejected":
                    rejected_lines.append(f"line {start + entry['index'] + 2}: record_id {entry['record_id']!r}: "
                                          f"{entry['reason']} ({entry['message']})")
            progress.advance(len(report["records"]))
        progress.done()
        for line in rejected_lines:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(
            f"credits: {totals['accepted']} accepted, {totals['duplicate']} duplicate, {totals['rejected']} rejected"
        ))
