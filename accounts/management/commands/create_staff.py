"""Create a staff user: management unit, role, password and a TOTP device to enrol."""

from __future__ import annotations

import getpass
import secrets
import sys

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import StaffProfile, User
from accounts.roles import ROLE_NAMES, roles_setup
from accounts.staff import UnknownUnit, unit_resolve


def new_password() -> str:
    # Letters, digits and a symbol: passes the portal's character-class validator.
    return f"{secrets.token_urlsafe(12)}#{secrets.randbelow(90) + 10}"


def totp_device_issue(*, user: User) -> TOTPDevice:
    """A new confirmed TOTP device for `user`, replacing any previous one."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


class Command(BaseCommand):
    help = ("Create a staff user for the admin (/admin/): management unit, role, password, and a TOTP device "
            "whose provisioning URI is printed for the authenticator app. "
            "Example: create_staff --username nm-reviewer --name 王审核 --unit 520102 --role 审核员")

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True, help="login name for the admin")
        parser.add_argument("--name", required=True, help="姓名")
        parser.add_argument("--unit", required=True,
                            help="管理单位: province (全省), provincial (省本级) or a division code, e.g. 520102")
        parser.add_argument("--role", required=True, choices=ROLE_NAMES, help="角色")
        parser.add_argument("--password", help="the password (default: prompt on a terminal, else generate one)")
        parser.add_argument("--generate-password", action="store_true", help="generate and print a password")
        parser.add_argument("--qr", action="store_true", help="also print the TOTP QR code in the terminal")
        parser.add_argument("--reset-totp", action="store_true",
                            help="for an existing staff user: issue a new TOTP device (the old one stops working)")

    def handle(self, *args, username, name, unit, role, password=None, generate_password=False, qr=False,
               reset_totp=False, **options):
        username = username.strip()
        if not username or username.startswith("id:"):
            raise CommandError("invalid --username (must not be empty or start with 'id:')")
        try:
            kind, division = unit_resolve(unit)
        except UnknownUnit as error:
            raise CommandError(str(error)) from None
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            if not reset_totp or not existing.is_staff:
                raise CommandError(f"user {username!r} already exists (use --reset-totp to re-enrol a staff user)")
            device = totp_device_issue(user=existing)
            self._print_device(device, qr=qr)
            self.stdout.write(self.style.SUCCESS(f"create_staff: new TOTP device for {username}"))
            return
        generated = False
        if password is None:
            if generate_password or not sys.stdin.isatty():
                password, generated = new_password(), True
            else:
                password = getpass.getpass("密码: ")
                if password != getpass.getpass("再次输入密码: "):
                    raise CommandError("the two passwords differ")
        candidate = User(username=username, name=name, is_staff=True)
        try:
            validate_password(password, candidate)
        except ValidationError as error:
            raise CommandError("password refused: " + " ".join(error.messages)) from None
        roles_setup()
        with transaction.atomic():
            user = User.objects.create_user(username, password, name=name, is_staff=True)
            StaffProfile.objects.create(user=user, unit_kind=kind, division=division)
            user.groups.add(Group.objects.get(name=role))
            device = totp_device_issue(user=user)
        profile = StaffProfile.objects.get(user=user)
        self.stdout.write(f"username: {username}")
        if generated:
            self.stdout.write(f"password: {password}  (shown once: hand it over securely)")
        self._print_device(device, qr=qr)
        self.stdout.write(self.style.SUCCESS(f"create_staff: {username} ({name}), {role}, 管理单位 {profile}"))

    def _print_device(self, device: TOTPDevice, *, qr: bool) -> None:
        self.stdout.write("TOTP: add this to the authenticator app (shown once):")
        self.stdout.write(f"  {device.config_url}")
        if qr:
            import segno

            segno.make(device.config_url, error="m").terminal(out=self.stdout, compact=True)
