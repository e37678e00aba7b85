"""Recompute every yearly credit total from the records and report any difference.

Exit code 1 when a total differs (after repairing it, with --fix).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from education import credits


class Command(BaseCommand):
    help = "Check the yearly credit totals against the credit records (--fix repairs them)."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="set each differing total to its records' sum")

    def handle(self, *args, **options):
        differences = credits.credit_totals_check()
        for diff in differences:
            stored = "missing" if diff.stored is None else "/".join(str(v) for v in diff.stored)
            expected = "/".join(str(v) for v in diff.expected)
            self.stdout.write(f"user {diff.user_id} year {diff.year}: stored {stored}, "
                              f"records give {expected} (公需/专业/合计)")
        if not differences:
            self.stdout.write(self.style.SUCCESS("credit totals: all consistent"))
            return
        if options["fix"]:
            credits.credit_totals_repair(differences=differences)
            raise CommandError(f"credit totals: {len(differences)} differed and were repaired", returncode=1)
        raise CommandError(f"credit totals: {len(differences)} differ (run with --fix to repair)", returncode=1)
