"""Play the other provinces on the `local` national platform (development, demos, tests).

    manage.py national_platform incoming --name 张三 --id-number 110101199001011237 \\
        --mobile 13900000001 --from-province 四川省
    manage.py national_platform receive QG2026112712345678
    manage.py national_platform list [--status pending_receipt]
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import NumberParseException

from accounts.identity import IdType, validate_id_number
from transfers import services
from transfers.demo import demo_payload
from transfers.models import PlatformRecord, PlatformStatus, TransferOut
from transfers.national import LocalPlatform, PlatformRefused
from transfers.provinces import PROVINCES, home_province, province_name


def _province(value: str) -> str:
    value = value.strip()
    if value in PROVINCES:
        return value
    for code, name in PROVINCES.items():
        if value in (name, name.rstrip("省市"), name[:2]):
            return code
    raise CommandError(f"unknown province {value!r}: give a two-digit code (e.g. 51) or a name (e.g. 四川省)")


def _id_type(value: str) -> str:
    if value in IdType.values:
        return value
    for choice in IdType:
        if value == choice.label:
            return choice.value
    raise CommandError(f"unknown ID type {value!r}: one of {', '.join(IdType.values)} (or its Chinese name)")


def _mobile(value: str) -> str:
    try:
        number = PhoneNumber.from_string(value, region="CN")
    except NumberParseException:
        number = None
    if number is None or not number.is_valid() or number.country_code != 86:
        raise CommandError(f"not a valid mainland mobile number: {value}")
    return number.as_e164


class Command(BaseCommand):
    help = "Play the other provinces on the local national platform: incoming, receive, list."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        incoming = sub.add_parser("incoming", help="create a record bound for this province, 待调入地接收")
        incoming.add_argument("--name", required=True)
        incoming.add_argument("--id-type", default=IdType.RESIDENT_ID_CARD, help="e.g. resident_id_card or 居民身份证")
        incoming.add_argument("--id-number", required=True)
        incoming.add_argument("--mobile", required=True, help="the mobile the origin province registered")
        incoming.add_argument("--from-province", required=True, help="code (51) or name (四川省)")
        incoming.add_argument("--credit-years", type=int, default=2, help="complete years of credits carried")
        receive = sub.add_parser("receive", help="the destination province receives a transfer out of this one")
        receive.add_argument("ref", help="the platform reference (全国平台编号)")
        listing = sub.add_parser("list", help="records on the local platform, newest first")
        listing.add_argument("--status", choices=PlatformStatus.values)
        listing.add_argument("--limit", type=int, default=50)

    def handle(self, *args, action: str, **options):
        if settings.NATIONAL_PLATFORM_BACKEND != "local":
            raise CommandError("national_platform works on the local backend only (NATIONAL_PLATFORM_BACKEND=local)")
        getattr(self, f"_{action}")(**options)

    def _incoming(self, *, name, id_type, id_number, mobile, from_province, credit_years, **_):
        id_type = _id_type(id_type)
        try:
            number = validate_id_number(id_type, id_number).number
        except ValidationError as exc:
            raise CommandError(f"invalid ID number: {exc.messages[0]}") from None
        origin = _province(from_province)
        if origin == home_province():
            raise CommandError("the origin must be another province")
        if not 0 <= credit_years <= 10:
            raise CommandError("--credit-years must be between 0 and 10")
        record = LocalPlatform().record_create(
            from_province=origin, to_province=home_province(), name=name.strip(), id_type=id_type, id_number=number,
            mobile=_mobile(mobile), payload=demo_payload(credit_years=credit_years),
            status=PlatformStatus.PENDING_RECEIPT,
        )
        self.stdout.write(self.style.SUCCESS(
            f"created {record.ref}: {record.name} ({record.id_number_masked}) from {province_name(origin)}, "
            f"{record.get_status_display()}"
        ))

    def _receive(self, *, ref, **_):
        record = PlatformRecord.objects.filter(ref=ref).first()
        if record is None:
            raise CommandError(f"no record {ref} on the local platform")
        if record.from_province != home_province():
            raise CommandError(f"{ref} is not a transfer out of this province")
        try:
            with transaction.atomic():
                LocalPlatform().outgoing_receive(ref=ref, from_province=home_province())
        except PlatformRefused as exc:
            raise CommandError(f"{ref} cannot be received: {exc.message}") from None
        self.stdout.write(self.style.SUCCESS(f"{ref} received by {province_name(record.to_province)}"))
        transfer = TransferOut.objects.filter(platform_ref=ref).first()
        if transfer is not None:
            services.transfer_sync(transfer_id=transfer.pk)
            transfer.refresh_from_db()
            self.stdout.write(f"portal application #{transfer.pk}: {transfer.get_status_display()}")

    def _list(self, *, status=None, limit=50, **_):
        records = PlatformRecord.objects.order_by("-created_at", "-pk")
        if status:
            records = records.filter(status=status)
        rows = list(records[:limit])
        if not rows:
            self.stdout.write("(no records)")
            return
        for r in rows:
            when = timezone.localtime(r.updated_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"{r.ref}  {province_name(r.from_province)} → {province_name(r.to_province)}  {r.name} "
                f"{r.id_number_masked}  [{r.get_status_display()}]  {when}"
            )
        self.stdout.write(f"{len(rows)} record(s)")
