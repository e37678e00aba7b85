"""Staff users for tests: a management unit, a role, a TOTP device, an OTP-verified client."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import StaffProfile, User
from accounts.staff import unit_resolve

STAFF_PASSWORD = "Stf#Portal2026x"


def make_staff(username: str, *, unit: str | None = "province", role: str | None = None,
               password: str = STAFF_PASSWORD, superuser: bool = False) -> User:
    """A staff user with a management unit (None: no unit), a role (group) and a TOTP device."""
    if superuser:
        user = User.objects.create_superuser(username, password, name=f"管理员{username}")
    else:
        user = User.objects.create_user(username, password, name=f"工作人员{username}", is_staff=True)
    if unit is not None:
        kind, division = unit_resolve(unit)
        StaffProfile.objects.create(user=user, unit_kind=kind, division=division)
    if role:
        user.groups.add(Group.objects.get(name=role))
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return User.objects.get(pk=user.pk)


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user)


def token_for(user, *, drift: int = 0) -> str:
    device = device_of(user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def otp_login(client, user):
    """force_login plus the session mark django-otp sets after a verified token."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
