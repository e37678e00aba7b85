"""Issue 9 point 5: brute force, each limit tested through the pages on both sides of its
boundary, with the configured values (settings defaults, not lowered for the test).

The services' own tests (tests/accounts/test_sms.py, test_login.py, tests/education/
test_api.py) cover the rules in detail; here the attacker uses HTTP, as one would:
login lockout, SMS code guessing, SMS flooding per mobile and per address, the institution
API's signature and clock window, and a spoofed X-Forwarded-For.

Time is moved by rewriting the code rows' timestamps (as tests/accounts/test_sms.py does)
or, for the API's clock window, by fixing the clock the signature check reads.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SmsCode, User
from education import api_auth
from education.models import CreditBatch
from tests.accounts.test_sms import _make_room_in_the_day
from tests.accounts.test_views import choose_eligibility, latest_code, log_in, new_mobile, register_data
from tests.education.helpers import CREDIT_BATCHES_URL, signed_headers
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SMS_URL = "/accounts/sms-code/"
ATTACKER = "203.0.113.66"


def ask_code(client: Client, mobile: str, *, ip: str = ATTACKER, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(SMS_URL, {"purpose": "register", "mobile": mobile}, **extra)


def age_codes(mobile: str, seconds: float) -> None:
    SmsCode.objects.filter(mobile="+86" + mobile).update(created_at=F("created_at") - dt.timedelta(seconds=seconds))


def test_the_configured_limits_are_the_documented_ones():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.SMS_CODE_MAX_FAILURES == 5
    assert settings.SMS_RESEND_SECONDS == 60
    assert settings.SMS_DAILY_LIMIT_PER_PHONE == 10
    assert settings.SMS_HOURLY_LIMIT_PER_IP == 30
    assert settings.CE_API_CLOCK_SKEW_SECONDS == 300
    assert settings.TRUSTED_PROXY_COUNT == 0


# --- login lockout ----------------------------------------------------------------------------


def test_login_locks_at_the_limit_whatever_address_each_try_claims(client):
    user = AccountFactory()
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(1, limit):
        response = log_in(client, user, "Wrong#Pass2026", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
                          REMOTE_ADDR=f"198.51.100.{attempt}")
        assert response.status_code == 200, attempt  # still a plain "wrong password"
    assert log_in(client, user, "Wrong#Pass2026", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    # Locked for the right password too, from a fresh browser claiming yet another address.
    assert log_in(Client(), user, HTTP_X_FORWARDED_FOR="192.0.2.100").status_code == 429


def test_one_try_under_the_limit_then_the_right_password_logs_in(client):
    user = AccountFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, user, "Wrong#Pass2026").status_code == 200
    response = log_in(client, user)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")


# --- SMS code guessing through the registration page -------------------------------------------


def _register_with_guesses(client: Client, wrong_guesses: int):
    choose_eligibility(client)
    data = register_data()
    assert client.post(reverse("accounts:register"), {**data, "action": "send_code"}).status_code == 200
    right = latest_code(data["mobile"])
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for guess in range(wrong_guesses):
        response = client.post(reverse("accounts:register"), {**data, "sms_code": wrong})
        assert response.status_code == 200, guess
    return client.post(reverse("accounts:register"), {**data, "sms_code": right}), data


def test_the_right_code_after_one_guess_fewer_than_the_limit_registers(client):
    response, data = _register_with_guesses(client, settings.SMS_CODE_MAX_FAILURES - 1)
    assert response.status_code == 302
    assert User.objects.filter(mobile="+86" + data["mobile"]).exists()


def test_the_right_code_after_the_limit_of_wrong_guesses_is_refused(client):
    response, data = _register_with_guesses(client, settings.SMS_CODE_MAX_FAILURES)
    assert response.status_code == 200
    assert "验证码" in response.content.decode()
    assert not User.objects.filter(mobile="+86" + data["mobile"]).exists()


# --- SMS flooding: per mobile ------------------------------------------------------------------


def test_resend_is_refused_one_second_before_the_wait_and_allowed_at_it(client):
    mobile = new_mobile()
    assert ask_code(client, mobile).status_code == 200
    age_codes(mobile, settings.SMS_RESEND_SECONDS - 1)
    early = ask_code(client, mobile)
    assert early.status_code == 429 and early.json()["retry_after"] == 1
    age_codes(mobile, 1)
    assert ask_code(client, mobile).status_code == 200
    assert SmsCode.objects.filter(mobile="+86" + mobile).count() == 2


def test_the_daily_limit_per_mobile_allows_the_tenth_code_and_refuses_the_eleventh(client):
    mobile = new_mobile()
    start = _make_room_in_the_day(timezone.now())
    limit = settings.SMS_DAILY_LIMIT_PER_PHONE
    for n in range(limit):
        # A fresh address each time, so only the per-mobile limit can apply.
        response = ask_code(client, mobile, ip=f"192.0.2.{n + 1}")
        assert response.status_code == 200, n
        newest = SmsCode.objects.filter(mobile="+86" + mobile).order_by("-created_at").first()
        SmsCode.objects.filter(pk=newest.pk).update(created_at=start + dt.timedelta(seconds=n))
    refused = ask_code(client, mobile, ip="192.0.2.200")
    assert refused.status_code == 429 and "今日" in refused.json()["message"]
    assert SmsCode.objects.filter(mobile="+86" + mobile).count() == limit


# --- SMS flooding: per address, and X-Forwarded-For ------------------------------------------------


def _fill_the_hourly_allowance(client: Client, *, ip: str, forwarded) -> None:
    """SMS_HOURLY_LIMIT_PER_IP code requests (each for a new mobile), all accepted;
    forwarded(n) is the X-Forwarded-For of the n-th (None: no header)."""
    for n in range(settings.SMS_HOURLY_LIMIT_PER_IP):
        response = ask_code(client, new_mobile(), ip=ip, forwarded=forwarded(n))
        assert response.status_code == 200, (n, response.json())


def test_the_hourly_limit_per_address_allows_the_30th_and_refuses_the_31st(client):
    _fill_the_hourly_allowance(client, ip=ATTACKER, forwarded=lambda n: None)
    refused = ask_code(client, new_mobile(), ip=ATTACKER)
    assert refused.status_code == 429 and 1 <= refused.json()["retry_after"] <= 3600
    assert ask_code(client, new_mobile(), ip="203.0.113.67").status_code == 200  # another address


def test_without_trusted_proxies_a_spoofed_forwarded_for_does_not_buy_a_new_allowance(client):
    _fill_the_hourly_allowance(client, ip=ATTACKER, forwarded=lambda n: f"192.0.2.{n + 1}")
    assert ask_code(client, new_mobile(), ip=ATTACKER, forwarded="192.0.2.250").status_code == 429
    assert ask_code(client, new_mobile(), ip=ATTACKER, forwarded="").status_code == 429


def test_behind_one_trusted_proxy_the_right_most_hop_is_the_client(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy, client_address = "10.0.0.2", "198.51.100.23"
    # The client adds whatever it likes on the left; the proxy appends the address it saw.
    _fill_the_hourly_allowance(client, ip=proxy, forwarded=lambda n: f"192.0.2.{n + 1}, {client_address}")
    assert ask_code(client, new_mobile(), ip=proxy, forwarded=f"192.0.2.250, {client_address}").status_code == 429
    # Another client behind the same proxy has its own allowance.
    assert ask_code(client, new_mobile(), ip=proxy, forwarded="198.51.100.24").status_code == 200


def test_behind_two_trusted_proxies_the_second_from_the_right_is_the_client(client, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    inner, outer, client_address = "10.0.0.2", "172.16.0.9", "198.51.100.31"
    _fill_the_hourly_allowance(client, ip=inner, forwarded=lambda n: f"192.0.2.{n + 1}, {client_address}, {outer}")
    spoofed = f"192.0.2.250, {client_address}, {outer}"
    assert ask_code(client, new_mobile(), ip=inner, forwarded=spoofed).status_code == 429
    assert ask_code(client, new_mobile(), ip=inner, forwarded=f"198.51.100.32, {outer}").status_code == 200


# --- the institution API: signature and clock window -----------------------------------------


@pytest.fixture
def frozen_api_clock(monkeypatch):
    """The clock the signature check reads, fixed at a whole second."""
    now = 1_800_000_000
    monkeypatch.setattr(api_auth, "time", SimpleNamespace(time=lambda: float(now)))
    return now


def _get_batch(world, *, timestamp: int, secret: str | None = None, signature: str | None = None):
    key, real_secret = world.api_key
    headers = signed_headers(key_id=key.key_id, secret=secret or real_secret, body=b"", timestamp=timestamp)
    if signature is not None:
        headers["HTTP_X_SIGNATURE"] = signature
    return Client().get(f"{CREDIT_BATCHES_URL}/{world.batch.pk}", **headers)


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_timestamp_exactly_300s_off_is_accepted(world, frozen_api_clock, offset):
    assert _get_batch(world, timestamp=frozen_api_clock + offset).status_code == 200


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_301s_off_is_refused(world, frozen_api_clock, offset):
    response = _get_batch(world, timestamp=frozen_api_clock + offset)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "timestamp_out_of_range"


def test_a_bad_signature_is_refused_and_stores_nothing(world, frozen_api_clock):
    assert _get_batch(world, timestamp=frozen_api_clock, secret="not-the-secret").json()["error"]["code"] == (
        "bad_signature")
    assert _get_batch(world, timestamp=frozen_api_clock, signature="0" * 64).status_code == 401
    assert _get_batch(world, timestamp=frozen_api_clock).status_code == 200  # control
    # A POST with a signature made for another body stores no batch.
    key, secret = world.api_key
    body = json.dumps({"records": []}).encode()
    headers = signed_headers(key_id=key.key_id, secret=secret, body=b"{}", timestamp=frozen_api_clock)
    before = CreditBatch.objects.count()
    response = Client().generic("POST", CREDIT_BATCHES_URL, body, content_type="application/json", **headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_signature"
    assert CreditBatch.objects.count() == before
