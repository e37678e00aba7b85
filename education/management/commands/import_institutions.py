"""Load 备案机构 and their filed years from a CSV file (format: education/importing.py).

Idempotent: a second run of the same file changes nothing. Every row is
validated first; a bad row stops the import with its line number and nothing
is written, not even the good rows.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from education.importing import COLUMNS, institution_rows_parse
from education.services import institution_save


class Command(BaseCommand):
    help = f"Create or update filed institutions from a CSV file with the columns {','.join(COLUMNS)}."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the CSV file (UTF-8)")

    def handle(self, *args, **options):
        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from None
        parsed = institution_rows_parse(text)
        if parsed.errors:
            raise CommandError("nothing imported:\n" + "\n".join(parsed.errors))
        created = updated = unchanged = years_added = 0
        with transaction.atomic():
            for row in parsed.rows:
                saved = institution_save(
                    code=row.code, name=row.name, platform_url=row.platform_url, contact_name=row.contact_name,
                    contact_phone=row.contact_phone, years=row.years, is_active=row.is_active,
                )
                created += saved.created
                updated += saved.changed
                unchanged += not (saved.created or saved.changed)
                years_added += saved.years_added
        self.stdout.write(self.style.SUCCESS(
            f"institutions: {created} created, {updated} updated, {unchanged} unchanged; "
            f"filed years added: {years_added}"
        ))
