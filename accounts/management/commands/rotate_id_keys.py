"""Re-encrypt every stored ID number under the first key of ID_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.identity import reencrypt_id_number
from accounts.models import User


class Command(BaseCommand):
    help = "Re-encrypt ID numbers with the current (first) key; run after adding a new key first."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size=1000, **options):
        done = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    User.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(id_number_encrypted="")
                    .order_by("pk")
                    .only("pk", "id_number_encrypted")[:batch_size]
                )
                if not batch:
                    break
                for user in batch:
                    user.id_number_encrypted = reencrypt_id_number(user.id_number_encrypted)
                User.objects.bulk_update(batch, ["id_number_encrypted"])
            done += len(batch)
            last_pk = batch[-1].pk
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {done} ID numbers"))
