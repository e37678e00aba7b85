"""Load the code tables (民族, 政治面貌, 学历, 学位, 行政区划...). Idempotent."""

from django.core.management.base import BaseCommand

from collection.reference import reference_data_load


class Command(BaseCommand):
    help = "Create or update the reference code tables from collection/data/."

    def handle(self, *args, **options):
        result = reference_data_load()
        summary = ", ".join(f"{table} {n}" for table, n in result.items())
        self.stdout.write(self.style.SUCCESS(f"reference data loaded (rows changed: {summary})"))
