"""The demo data `make run` loads: accountants in several states, an institution, a staff
user per role with a TOTP device; prints every credential. Idempotent (needs
`load_reference_data` first)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from accounts.identity import IdType
from accounts.models import StaffProfile, User
from accounts.roles import AUDITOR, QUERIER, REVIEWER, SYSADMIN, roles_setup
from accounts.services import account_create, user_get_by_id_number
from accounts.staff import unit_resolve
from collection import services as collection
from collection.models import Archive, ArchiveStatus, Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
from education import claims, credits
from education import services as education
from education.models import CreditCategory, CreditClaim, CreditSource, Institution
from portal.images import DOCUMENT, PHOTO, clean_image

DEMO_PASSWORD = "Gzkj#Demo2026"  # noqa: S105 - documented demo credential for local use only
STAFF_PASSWORD = "Staff#Demo2026"  # noqa: S105 - documented demo credential for local use only

# (name, ID number, mobile, state, division code)
ACCOUNTANTS = [
    ("张三", "520102199003071236", "+8613800000001", "registered", None),
    ("李四", "520102198805120013", "+8613800000002", "collected_claim", "520102"),
    ("王五", "520201198502140035", "+8613800000003", "collected_met", "520201"),
    ("赵六", "520103199211230010", "+8613800000004", "draft", None),
    ("钱七", "520000197907010016", "+8613800000005", "collected", "520000"),
]

# A person waiting on the local national platform to transfer in from 四川省 (name, ID number, mobile).
TRANSFER_IN = ("孙八", "510104199106150028", "+8613800000006")

# (username, name, unit, role)
STAFF = [
    ("demo-reviewer", "南明区审核员", "520102", REVIEWER),
    ("demo-querier", "全省查询员", "province", QUERIER),
    ("demo-sysadmin", "系统管理员", "province", SYSADMIN),
    ("demo-auditor", "审计员", "province", AUDITOR),
]


def _image(size, name) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (210, 220, 235)).save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _id_checked(number: str) -> str:
    """Demo numbers get a valid MOD 11-2 check character."""
    from accounts.identity import mod11_2_check_char

    return number[:17] + mod11_2_check_char(number[:17])


class Command(BaseCommand):
    help = ("Load the demo data for `make run`: accountants in several states (registered, draft, collected, with a "
            "pending claim, with last year's credits met), an institution, one staff user per role with a TOTP "
            "device; prints the credentials. Safe to run again. Example: seed_demo")

    def handle(self, *args, **options):
        if not Division.objects.exists() or not Ethnicity.objects.exists():
            raise CommandError("reference data missing: run `manage.py load_reference_data` first")
        roles_setup()
        lines = []
        total = len(ACCOUNTANTS) + len(STAFF) + 1
        step = 0
        for name, number, mobile, state, code in ACCOUNTANTS:
            step += 1
            self.stdout.write(f"[{step}/{total}] accountant {name} ({state})")
            number = _id_checked(number)
            with transaction.atomic():
                self._accountant(name=name, number=number, mobile=mobile, state=state, code=code)
            lines.append(f"  accountant {name:<4} 证件号码 {number}  密码 {DEMO_PASSWORD}  ({state})")
        step += 1
        self.stdout.write(f"[{step}/{total}] institution")
        self._institution()
        for username, name, unit, role in STAFF:
            step += 1
            self.stdout.write(f"[{step}/{total}] staff {username}")
            device = self._staff(username=username, name=name, unit=unit, role=role)
            lines.append(f"  staff /admin/  用户名 {username:<14} 密码 {STAFF_PASSWORD}  {role}  管理单位 {unit}\n"
                         f"      TOTP: {device.config_url}")
        lines.append(self._transfer_in())
        self.stdout.write("demo data ready:\n" + "\n".join(lines))
        self.stdout.write(self.style.SUCCESS(
            f"seed_demo: {len(ACCOUNTANTS)} accountants, 1 institution, {len(STAFF)} staff users"))

    def _transfer_in(self) -> str:
        """A record on the local national platform bound for Guizhou, for trying 跨省调入."""
        from django.conf import settings

        from accounts.identity import id_lookup_hash
        from transfers.demo import demo_payload
        from transfers.models import PlatformRecord, PlatformStatus
        from transfers.national import LocalPlatform
        from transfers.provinces import home_province

        name, number, mobile = TRANSFER_IN
        number = _id_checked(number)
        if settings.NATIONAL_PLATFORM_BACKEND != "local":
            return "  跨省调入: not seeded (NATIONAL_PLATFORM_BACKEND is not local)"
        waiting = PlatformRecord.objects.filter(id_hash=id_lookup_hash(number), to_province=home_province(),
                                                status=PlatformStatus.PENDING_RECEIPT).exists()
        if not waiting and user_get_by_id_number(id_number=number) is None:
            LocalPlatform().record_create(
                from_province="51", to_province=home_province(), name=name, id_type=IdType.RESIDENT_ID_CARD,
                id_number=number, mobile=mobile, payload=demo_payload(), status=PlatformStatus.PENDING_RECEIPT,
            )
        return (f"  跨省调入 (/transfers/in/): 姓名 {name}  证件号码 {number}  手机号码 {mobile[3:]}  "
                "(from 四川省; SMS code: manage.py sms_outbox --last)")

    def _accountant(self, *, name, number, mobile, state, code) -> None:
        user = user_get_by_id_number(id_number=number)
        if user is None:
            user = account_create(name=name, id_type=IdType.RESIDENT_ID_CARD, id_number=number, password=DEMO_PASSWORD,
                                  mobile=mobile, works_in_guizhou=True, holds_qualification=True)
        if state == "registered":
            return
        archive = Archive.objects.filter(user=user).first() or collection.archive_start(user=user)
        if state == "draft" or archive.status == ArchiveStatus.COLLECTED:
            self._extras(user=user, state=state)
            return
        for field, size, rule in (("photo", (300, 420), PHOTO), ("id_card_front", (640, 400), DOCUMENT),
                                  ("id_card_back", (640, 400), DOCUMENT)):
            collection.archive_upload_replace(archive=archive, field=field,
                                              content=clean_image(_image(size, f"{field}.jpg"), rule=rule))
        collection.archive_save_personal(archive=archive, ethnicity=Ethnicity.objects.get(name="汉族"),
                                         political_status=PoliticalStatus.objects.get(name="群众"),
                                         email="demo@example.com")
        collection.archive_save_education(archive=archive, full_time={
            "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
            "school": "贵州财经大学", "major": "会计学", "start_date": dt.date(2008, 9, 1),
            "graduation_date": dt.date(2012, 7, 1)}, part_time=None)
        collection.archive_save_professional(
            archive=archive,
            certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False,
                           "abacus_level": "none"},
            qualifications=[{"qualification_type": "accounting", "level": "intermediate", "method": "exam",
                             "obtained_on": dt.date(2016, 5, 20), "certificate_number": "Z2016520100123"}],
            talents=[], awards=[])
        division = Division.objects.get(code=code)
        collection.archive_save_work(archive=archive, employment_status="accounting", division=division,
                                     employer="贵州某某会计师事务所", school="",
                                     provincial_declaration=division.is_provincial_level)
        collection.archive_submit(archive=archive)
        self._extras(user=user, state=state)

    def _extras(self, *, user, state) -> None:
        year = timezone.localdate().year
        if state == "collected_claim" and not CreditClaim.objects.filter(user=user).exists():
            claims.credit_claim_create(user=user, year=year, activity="paper_sole", days=None,
                                       details="《贵州财会》论文一篇（演示）",
                                       evidence=clean_image(_image((600, 800), "evidence.jpg")))
        if state == "collected_met":
            for category, amount in ((CreditCategory.PUBLIC, 30), (CreditCategory.PROFESSIONAL, 60)):
                record_id = f"demo-{user.pk}-{year - 1}-{category}"
                if user.credit_records.filter(record_id=record_id).exists():
                    continue
                credits.credit_record_add(user=user, source=CreditSource.STAFF, record_id=record_id, year=year - 1,
                                          category=category, credits=Decimal(amount), course="演示课程",
                                          completed_at=dt.date(year - 1, 6, 30))

    def _institution(self) -> None:
        year = timezone.localdate().year
        if not Institution.objects.filter(code="GZ001").exists():
            education.institution_save(code="GZ001", name="贵州会计网校（演示）",
                                       platform_url="https://learn.example.com/", contact_name="王老师",
                                       contact_phone="0851-12345678", years=(year - 1, year), is_active=True)

    def _staff(self, *, username, name, unit, role) -> TOTPDevice:
        user = User.objects.filter(username=username).first()
        if user is None:
            kind, division = unit_resolve(unit)
            with transaction.atomic():
                user = User.objects.create_user(username, STAFF_PASSWORD, name=name, is_staff=True)
                StaffProfile.objects.create(user=user, unit_kind=kind, division=division)
                user.groups.add(Group.objects.get(name=role))
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
