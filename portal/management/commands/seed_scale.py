"""Seed a provincial-scale data set for the benchmarks (issue 8, bench/README.md).

    python manage.py seed_scale --accountants 300000 --credit-records 3000000

Re-runnable: a second run adds nothing, or tops the data set up to the sizes asked
for. PostgreSQL (COPY) for anything large; SQLite only up to 5,000 accountants.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from collection.models import Ethnicity
from portal import scale


class Command(BaseCommand):
    help = "Seed (or top up) seeded accountants with archives, education, enrolments, credits and their totals."

    def add_arguments(self, parser):
        parser.add_argument("--accountants", type=int, default=300_000, help="seeded people (default 300000)")
        parser.add_argument("--credit-records", type=int, default=3_000_000,
                            help="institution credit records over the seeded people (default 3000000)")

    def handle(self, *args, **options):
        accountants, records = options["accountants"], options["credit_records"]
        if accountants < 0 or records < 0:
            raise CommandError("sizes must not be negative")
        if connection.vendor != "postgresql" and accountants > scale.SQLITE_MAX_ACCOUNTANTS:
            raise CommandError(
                f"seed_scale writes {accountants:,} accountants with PostgreSQL COPY; on {connection.vendor} "
                f"it allows at most --accountants {scale.SQLITE_MAX_ACCOUNTANTS:,} (for tests). "
                "Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/portal_bench_300k."
            )
        if not Ethnicity.objects.exists():
            from django.core.management import call_command

            self.stdout.write("loading the reference data first")
            call_command("load_reference_data", verbosity=0)

        def log(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            report = scale.seed_scale(accountants=accountants, credit_records=records, log=log)
        except (RuntimeError, ValueError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write("")
        self.stdout.write(f"seeded people: {report.people_before:,} before, {report.people_created:,} created")
        self.stdout.write(f"institution credit records: {report.records_before:,} before, "
                          f"{report.records_created:,} created; yearly totals written: {report.totals_rows:,}")
        for table, n in report.rows.items():
            self.stdout.write(f"  {table:<26} {n:>12,}")
        self.stdout.write("timings:")
        for stage, seconds in report.timings.items():
            self.stdout.write(f"  {stage:<26} {seconds:>10.1f} s")
        self.stdout.write(self.style.SUCCESS(f"seed_scale done in {report.timings['total']:.1f} s "
                                             f"(password of every seeded account: {scale.SEED_PASSWORD})"))
