"""Print the SMS outbox: what the `outbox` backend 'sent' (development, demos)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import NumberParseException

from accounts.models import SmsMessage


class Command(BaseCommand):
    help = "List SMS messages in the outbox, newest first."

    def add_arguments(self, parser):
        parser.add_argument("--phone", help="only messages to this mobile (11 digits or +86...)")
        parser.add_argument("--last", action="store_true", help="only the newest message")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args, phone=None, last=False, limit=20, **options):
        messages = SmsMessage.objects.order_by("-created_at", "-id")
        if phone:
            try:
                number = PhoneNumber.from_string(phone, region="CN")
            except NumberParseException:
                number = None
            if number is None or not number.is_valid():
                raise CommandError(f"not a valid mobile number: {phone}")
            messages = messages.filter(mobile=number.as_e164)
        messages = messages[: 1 if last else limit]
        if not messages:
            self.stdout.write("(outbox is empty)")
            return
        for m in messages:
            when = timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(f"{when}  {m.mobile}  [{m.get_status_display()}]  {m.body}")
        self.stderr.write(f"sms_outbox: {len(messages)} message(s) shown")
