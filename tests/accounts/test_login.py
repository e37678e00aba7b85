"""登录 and 退出: ID-number login, the account lockout, sessions and `next`."""

from __future__ import annotations

import datetime as dt
import re
import time
from importlib import import_module

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.identity import login_username
from accounts.models import UserSession
from tests.accounts.test_registration import _id_ending_in_x
from tests.accounts.test_views import labels, log_in, page_text
from tests.factories import AccountFactory, make_id_number

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
HOME = reverse("accounts:home")
WRONG = "Wrong#Pass2026"
LOCKED_TEXT = "登录失败次数过多"


def store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_key(client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie and cookie.value else None


def is_logged_in(client) -> bool:
    return client.get(HOME).status_code == 200


def fail(client, id_number: str, *, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"id_number": id_number, "password": WRONG}, REMOTE_ADDR=ip)


def normalised(html: str, *typed: str) -> str:
    """The page without what differs by request: CSRF tokens and the echoed ID."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    for value in typed:
        html = html.replace(value, "<typed>")
    return html


# --- the page and successful login ----------------------------------------------------------


def test_login_page_has_the_manual_labels_and_button(client):
    response = client.get(LOGIN)
    assert labels(response) == {"id_number": "证件号码", "password": "密码"}
    html = page_text(response)
    assert 'value="登录"' in html
    assert f'href="{reverse("accounts:password_reset")}">忘记密码</a>' in html
    assert f'href="{reverse("accounts:register_eligibility")}">用户注册</a>' in html


def test_login_with_the_id_number_and_password(client):
    user = AccountFactory()
    response = log_in(client, user)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert is_logged_in(client)
    assert UserSession.objects.filter(user=user, session_key=session_key(client)).exists()


def test_lower_case_x_in_the_id_number_works(client):
    user = AccountFactory(id_number=_id_ending_in_x())
    response = client.post(LOGIN, {"id_number": user.plain_id_number.lower(), "password": user.plain_password})
    assert response["Location"] == HOME


def test_wrong_password_and_unknown_id_answer_the_same(client):
    user = AccountFactory()
    unknown = make_id_number()
    wrong_password = fail(client, user.plain_id_number)
    unknown_id = fail(client, unknown)
    assert wrong_password.status_code == unknown_id.status_code == 200
    errors = wrong_password.context["form"].non_field_errors()
    assert errors == unknown_id.context["form"].non_field_errors()
    assert errors[0].startswith("证件号码或密码错误")
    assert normalised(page_text(wrong_password), user.plain_id_number) == normalised(page_text(unknown_id), unknown)
    assert not is_logged_in(client)


def test_new_session_key_at_login(client):
    user = AccountFactory()
    before = client.session
    before["probe"] = "set before login"
    before.save()
    old_key = session_key(client)
    assert old_key
    log_in(client, user)
    new_key = session_key(client)
    assert new_key and new_key != old_key
    assert not store()().exists(old_key)  # the pre-login key is gone, not only unused


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/?from=login", "/?from=login"),
        ("https://evil.example/steal", HOME),
        ("//evil.example/steal", HOME),
        ("http://testserver.evil.example/", HOME),
    ],
)
def test_next_only_redirects_to_this_host(client, target, expected):
    user = AccountFactory()
    page = client.get(LOGIN, {"next": target})
    action = re.search(r'<form method="post" action="([^"]+)"', page_text(page)).group(1).replace("&amp;", "&")
    response = client.post(action, {"id_number": user.plain_id_number, "password": user.plain_password})
    assert response.status_code == 302
    assert response["Location"] == expected


def test_next_is_also_honoured_from_the_posted_field(client):
    user = AccountFactory()
    response = client.post(
        LOGIN, {"id_number": user.plain_id_number, "password": user.plain_password, "next": "/?posted=1"}
    )
    assert response["Location"] == "/?posted=1"


# --- lockout ----------------------------------------------------------------------------------


def test_five_failures_lock_the_account_even_for_the_right_password(client):
    user = AccountFactory()
    for attempt in range(4):
        response = fail(client, user.plain_id_number)
        assert response.status_code == 200, attempt
    fifth = fail(client, user.plain_id_number)
    assert fifth.status_code == 429
    assert LOCKED_TEXT in page_text(fifth)
    assert "15 分钟" in page_text(fifth)
    right = log_in(client, user)
    assert right.status_code == 429
    assert LOCKED_TEXT in page_text(right)
    assert not is_logged_in(client)
    # From another browser and another address it is locked just the same.
    assert log_in(Client(), user, REMOTE_ADDR="10.20.30.40").status_code == 429


def test_lockout_says_nothing_about_whether_the_id_exists(client):
    user = AccountFactory()
    unknown = make_id_number()
    for _ in range(5):
        known_response = fail(client, user.plain_id_number)
        unknown_response = fail(client, unknown)
    assert known_response.status_code == unknown_response.status_code == 429
    assert normalised(page_text(known_response)) == normalised(page_text(unknown_response))
    assert user.plain_id_number not in page_text(known_response)
    # The unknown ID stays locked too: a sixth try is refused without looking.
    assert fail(client, unknown).status_code == 429


def test_messages_follow_the_configured_limit_and_lock_time(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=10)
    user = AccountFactory()
    first = fail(client, user.plain_id_number)
    assert first.context["form"].non_field_errors() == ["证件号码或密码错误。连续输入错误 3 次，账号将被锁定 10 分钟。"]
    fail(client, user.plain_id_number)
    third = fail(client, user.plain_id_number)
    assert third.status_code == 429
    assert "请 10 分钟后再试" in page_text(third)


def test_lockout_lasts_15_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == dt.timedelta(minutes=15)
    user = AccountFactory()
    client = Client()
    for _ in range(5):
        fail(client, user.plain_id_number)
    attempts = AccessAttempt.objects.filter(username=login_username(user.plain_id_number))
    attempts.update(attempt_time=timezone.now() - dt.timedelta(minutes=14))
    assert log_in(client, user).status_code == 429
    attempts.update(attempt_time=timezone.now() - dt.timedelta(minutes=15, seconds=30))
    response = log_in(client, user)
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_the_lock_is_on_the_account_not_the_address():
    victim, colleague = AccountFactory(), AccountFactory()
    office = "10.0.0.8"
    attacker = Client()
    for _ in range(5):
        fail(attacker, victim.plain_id_number, ip=office)
    assert log_in(Client(), victim, REMOTE_ADDR=office).status_code == 429
    other = Client()
    response = log_in(other, colleague, REMOTE_ADDR=office)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert is_logged_in(other)


def test_a_success_resets_the_failure_count():
    user = AccountFactory()
    first = Client()
    for _ in range(4):
        assert fail(first, user.plain_id_number).status_code == 200
    assert log_in(first, user).status_code == 302
    second = Client()
    for _ in range(4):
        assert fail(second, user.plain_id_number).status_code == 200
    assert log_in(second, user)["Location"] == HOME


# --- sessions: idle timeout and logout -------------------------------------------------------------


def _server_side_seconds_left(key: str, *, set_to: int | None = None) -> float:
    """Seconds the session store will keep `key`; with set_to, age it first."""
    if settings.SESSION_ENGINE in ("django.contrib.sessions.backends.db", "portal.sessions"):
        rows = Session.objects.filter(pk=key)
        if set_to is not None:
            rows.update(expire_date=timezone.now() + dt.timedelta(seconds=set_to))
            if settings.SESSION_ENGINE == "portal.sessions":
                # The store never caches a copy longer than the row has left: as if that copy had
                # expired, the next read goes to the row (and caches it for what is left).
                from portal.sessions import SessionStore

                cache.delete(SessionStore.cache_key_prefix + key)
        return (rows.get().expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
    redis, name = cache._cache.get_client(), cache.make_key("django.contrib.sessions.cache" + key)
    if set_to is not None:
        redis.expire(name, set_to)
    return redis.ttl(name)


def test_sessions_expire_after_30_idle_minutes_renewed_by_a_page_view(client):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_RENEW_SECONDS == 60
    user = AccountFactory()
    log_in(client, user)
    key = session_key(client)
    assert 1790 <= _server_side_seconds_left(key) <= 1800
    # 29 idle minutes later one page view renews it for another 30 minutes,
    # on the server and in the cookie.
    session = store()(session_key=key)
    session["_renewed_at"] = int(time.time()) - 29 * 60
    session.save()
    _server_side_seconds_left(key, set_to=60)
    response = client.get(HOME)
    assert response.status_code == 200
    assert int(response.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) == 1800
    assert 1790 <= _server_side_seconds_left(key) <= 1800


def test_a_page_view_within_a_minute_of_the_last_renewal_writes_no_session(client):
    """The session is not written on every request (SessionRenewMiddleware): one
    UPDATE and commit fewer per page view."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    log_in(client, AccountFactory())
    key = session_key(client)
    assert client.get(HOME).status_code == 200
    before = _server_side_seconds_left(key)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    writes = [q["sql"] for q in queries if "session" in q["sql"].lower() and not q["sql"].lstrip().startswith("SELECT")]
    assert writes == []
    assert "sessionid" not in client.get(HOME).cookies  # no new cookie either
    assert _server_side_seconds_left(key) <= before


def test_a_session_past_its_expiry_is_logged_out(client):
    user = AccountFactory()
    log_in(client, user)
    key = session_key(client)
    session = store()(session_key=key)
    session.set_expiry(timezone.now() + dt.timedelta(minutes=5))
    session.save()
    assert is_logged_in(client)  # control: a live session is still logged in
    session = store()(session_key=key)
    session.set_expiry(timezone.now() - dt.timedelta(seconds=1))
    session.save()
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_logout_is_post_only(client):
    user = AccountFactory()
    log_in(client, user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_logged_in(client)


def test_logout_ends_the_session_on_the_server(client):
    user = AccountFactory()
    log_in(client, user)
    key = session_key(client)
    assert store()().exists(key)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "您已安全退出" in page_text(client.get("/"))
    assert not store()().exists(key)
    assert not UserSession.objects.filter(session_key=key).exists()
    # Someone holding on to the old cookie gets nothing.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    response = replay.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_logout_form_in_the_header_posts_with_a_token(client):
    user = AccountFactory()
    log_in(client, user)
    html = page_text(client.get(HOME))
    form = re.search(
        r'<form method="post" action="' + re.escape(reverse("accounts:logout")) + r'".*?</form>', html, re.S
    )
    assert form and "csrfmiddlewaretoken" in form.group(0) and "退出" in form.group(0)
