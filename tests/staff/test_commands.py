"""Operator commands: --help, summary lines, non-zero exit with a clear message on bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SmsCode, StaffProfile, StaffUnitKind, User
from accounts.roles import REVIEWER
from portal.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

OPERATOR_COMMANDS = ["load_reference_data", "setup_roles", "create_staff", "import_institutions", "import_credits",
                     "credit_report", "sms_outbox", "cleanup", "check_credit_totals", "seed_demo", "load_demo_data"]


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("name", OPERATOR_COMMANDS)
def test_every_operator_command_has_help(name):
    commands = get_commands()
    assert name in commands, name
    command = load_command_class(commands[name], name)
    text = command.create_parser("manage.py", name).format_help()
    assert command.help and len(command.help) > 20 and "usage:" in text


# --- create_staff -------------------------------------------------------------------------------


def test_create_staff(reference_data):
    out = run("create_staff", "--username", "nm-rev", "--name", "王审核", "--unit", "520102", "--role", REVIEWER,
              "--generate-password")
    user = User.objects.get(username="nm-rev")
    assert user.is_staff and not user.is_superuser and user.name == "王审核"
    assert list(user.groups.values_list("name", flat=True)) == [REVIEWER]
    profile = StaffProfile.objects.get(user=user)
    assert profile.unit_kind == StaffUnitKind.DIVISION and profile.division.code == "520102"
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.config_url in out and "otpauth://totp/" in out
    password = next(line.split()[1] for line in out.splitlines() if line.startswith("password:"))
    assert user.check_password(password)
    assert "create_staff: nm-rev" in out
    token = totp(device.bin_key)
    assert device.verify_token(token)


@pytest.mark.parametrize(("unit", "kind"), [("province", StaffUnitKind.PROVINCE),
                                            ("provincial", StaffUnitKind.PROVINCIAL)])
def test_create_staff_units(reference_data, unit, kind):
    run("create_staff", "--username", f"u-{unit}", "--name", "某", "--unit", unit, "--role", "审计员",
        "--password", "Stf#Portal2026x")
    assert StaffProfile.objects.get(user__username=f"u-{unit}").unit_kind == kind


@pytest.mark.parametrize(("args", "message"), [
    (["--unit", "999999"], "未知的管理单位"),
    (["--unit", "520102", "--role", "超级管理员"], "invalid choice"),
    (["--unit", "520102", "--password", "short"], "password refused"),
])
def test_create_staff_bad_input(reference_data, args, message):
    base = {"--username": "bad", "--name": "某", "--role": REVIEWER}
    argv = []
    for key, value in base.items():
        if key not in args:
            argv += [key, value]
    with pytest.raises(CommandError, match=message):
        run("create_staff", *argv, *args)
    assert not User.objects.filter(username="bad").exists()


def test_create_staff_refuses_an_existing_username_and_reenrols_on_request(reference_data):
    run("create_staff", "--username", "dup", "--name", "某", "--unit", "province", "--role", REVIEWER,
        "--generate-password")
    first = TOTPDevice.objects.get(user__username="dup").key
    with pytest.raises(CommandError, match="already exists"):
        run("create_staff", "--username", "dup", "--name", "某", "--unit", "province", "--role", REVIEWER)
    out = run("create_staff", "--username", "dup", "--name", "某", "--unit", "province", "--role", REVIEWER,
              "--reset-totp")
    assert "otpauth://" in out and TOTPDevice.objects.get(user__username="dup").key != first


# --- cleanup -------------------------------------------------------------------------------------


def test_cleanup(db, settings):
    now = timezone.now()
    old = SmsCode.objects.create(mobile="+8613900000001", purpose="register", code_hash="x",
                                 created_at=now - dt.timedelta(days=3), expires_at=now - dt.timedelta(days=3))
    fresh = SmsCode.objects.create(mobile="+8613900000001", purpose="register", code_hash="y",
                                   created_at=now - dt.timedelta(hours=2), expires_at=now - dt.timedelta(hours=2))
    settings.AUDIT_RETENTION_DAYS = 10  # below the minimum: 185 days are kept anyway
    AuditEntry.objects.create(actor_username="x", action=AuditAction.ARCHIVE_VIEW,
                              created_at=now - dt.timedelta(days=100))
    AuditEntry.objects.create(actor_username="x", action=AuditAction.ARCHIVE_VIEW,
                              created_at=now - dt.timedelta(days=200))
    Session.objects.create(session_key="expired-session-key-0001", session_data="",
                           expire_date=now - dt.timedelta(days=1))
    out = run("cleanup")
    assert not SmsCode.objects.filter(pk=old.pk).exists() and SmsCode.objects.filter(pk=fresh.pk).exists()
    assert AuditEntry.objects.count() == 1
    assert "[1/4] sms" in out and "[4/4] audit" in out
    assert "cleanup: 1 expired SMS codes" in out and "1 audit rows older than 185 days" in out
    if settings.SESSION_ENGINE.endswith(".db"):
        assert not Session.objects.filter(session_key="expired-session-key-0001").exists()


def test_cleanup_bad_input(db):
    with pytest.raises(CommandError, match="at least 1"):
        run("cleanup", "--uploads-older-than-hours", "0")
    with pytest.raises(CommandError):
        run("cleanup", "--skip", "everything")


# --- setup_roles, seed_demo ------------------------------------------------------------------------


def test_setup_roles_summary(reference_data):
    out = run("setup_roles")
    assert "setup_roles: 4 roles up to date" in out and "审计员: 1 permissions" in out


def test_seed_demo_needs_reference_data(db):
    with pytest.raises(CommandError, match="load_reference_data"):
        run("seed_demo")


def test_seed_demo_is_idempotent(reference_data):
    out = run("seed_demo")
    assert "seed_demo: 5 accountants, 1 institution, 4 staff users" in out
    counts = (User.objects.count(), TOTPDevice.objects.count(), AuditEntry.objects.count())
    again = run("seed_demo")
    assert (User.objects.count(), TOTPDevice.objects.count(), AuditEntry.objects.count()) == counts
    assert again.count("otpauth://") == 4
    for username in ("demo-reviewer", "demo-querier", "demo-sysadmin", "demo-auditor"):
        user = User.objects.get(username=username)
        assert user.is_staff and not user.is_superuser and user.groups.count() == 1
        assert StaffProfile.objects.filter(user=user).exists()
    assert not User.objects.filter(is_superuser=True).exists()
