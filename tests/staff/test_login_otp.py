"""Staff log in to admin with password plus TOTP; the same lockout as accountants."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import REVIEWER
from tests.staff.helpers import STAFF_PASSWORD, make_staff, token_for

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def reviewer(reference_data):
    return make_staff("otp-reviewer", unit="520102", role=REVIEWER)


def login(client, username, password=STAFF_PASSWORD, token=""):
    return client.post(f"{LOGIN}?next=/admin/", {"username": username, "password": password, "otp_token": token,
                                                  "next": "/admin/"})


def test_login_page_asks_for_the_dynamic_code(client, reference_data):
    html = client.get(LOGIN).content.decode()
    assert 'name="otp_token"' in html and "动态口令" in html and 'name="password"' in html


def test_password_alone_does_not_open_admin(client, reviewer):
    response = login(client, "otp-reviewer")
    assert response.status_code == 200 and "请输入身份验证器上的 6 位动态口令" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_session_without_otp_is_sent_to_login(client, reviewer):
    client.force_login(reviewer)  # password only, as if the OTP step were skipped
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert client.get(reverse("admin:collection_archive_changelist")).status_code == 302


def test_wrong_code_is_refused(client, reviewer):
    good = token_for(reviewer)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = login(client, "otp-reviewer", token=bad)
    assert response.status_code == 200 and "动态口令不正确" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_password_and_code_open_admin(client, reviewer):
    response = login(client, "otp-reviewer", token=token_for(reviewer))
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_code_is_accepted_once(client, reviewer):
    token = token_for(reviewer)
    assert login(client, "otp-reviewer", token=token).status_code == 302
    client.logout()
    assert login(client, "otp-reviewer", token=token).status_code == 200  # replay refused


def test_an_accountant_cannot_open_admin_even_with_a_device(client, reference_data):
    from tests.factories import AccountFactory

    account = AccountFactory()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=account, name="x", confirmed=True)
    response = client.post(LOGIN, {"username": account.username, "password": account.plain_password,
                                   "otp_token": "123456"})
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_wrong_passwords_lock_the_account(client, reviewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "otp-reviewer", password="wrong-Pass#1")
    response = login(client, "otp-reviewer", token=token_for(reviewer))
    assert response.status_code == 429 and "锁定" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, reviewer, settings):
    good = token_for(reviewer)
    bad = f"{(int(good) + 7) % 1_000_000:06d}"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "otp-reviewer", token=bad)
    response = login(client, "otp-reviewer", token=good)
    assert response.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302
