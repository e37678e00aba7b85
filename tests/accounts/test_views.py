"""The public home page and the person's own home page, plus the helpers the
other account view tests share (registration through the real pages, SMS codes
read from the outbox, label scraping)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.identity import mask_id_number
from accounts.models import SmsMessage
from tests.factories import AccountFactory, make_id_number, make_mobile

GOOD_PASSWORD = "Kj#Reg2026pass"

_LABEL_RE = re.compile(r'<label[^>]*\bfor="id_(\w+)"[^>]*>\s*([^<]+?)\s*<')
_CODE_RE = re.compile(r"验证码(\d{6})")


def labels(response) -> dict[str, str]:
    """Field name → visible label text of every labelled input on the page."""
    return dict(_LABEL_RE.findall(response.content.decode()))


def national(mobile_e164: str) -> str:
    """The 11 digits a person types for a "+86..." number."""
    return mobile_e164.removeprefix("+86")


def new_mobile() -> str:
    return national(make_mobile())


def latest_code(mobile: str) -> str:
    """The code of the latest SMS sent to `mobile` (11 digits or E.164), read from the outbox."""
    e164 = mobile if mobile.startswith("+") else "+86" + mobile
    message = SmsMessage.objects.filter(mobile=e164, body__contains="验证码").order_by("-created_at", "-id").first()
    assert message is not None, f"no code SMS to {e164}"
    return _CODE_RE.search(message.body).group(1)


def choose_eligibility(client, *, works: str = "yes", holds: str = "no"):
    return client.post(
        reverse("accounts:register_eligibility"), {"works_in_guizhou": works, "holds_qualification": holds}
    )


def register_data(**overrides) -> dict[str, str]:
    data = {
        "name": "张三",
        "id_type": "resident_id_card",
        "id_number": make_id_number(),
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        "mobile": new_mobile(),
    }
    data.update(overrides)
    return data


def register_via_views(client, **overrides):
    """Walk 用户注册 like a person without JavaScript; return (final response, data typed)."""
    choose_eligibility(client)
    data = register_data(**overrides)
    sent = client.post(reverse("accounts:register"), {**data, "action": "send_code"})
    assert sent.status_code == 200
    data["sms_code"] = latest_code(data["mobile"])
    return client.post(reverse("accounts:register"), data), data


def log_in(client, user, password: str | None = None, **extra):
    return client.post(
        reverse("accounts:login"),
        {"id_number": user.plain_id_number, "password": password or user.plain_password},
        **extra,
    )


def page_text(response) -> str:
    return response.content.decode()


# --- public home page -------------------------------------------------------------------


@pytest.mark.django_db
def test_public_home_has_the_entries_and_account_links(client):
    response = client.get("/")
    html = page_text(response)
    assert response.status_code == 200
    for entry in ("信息采集", "继续教育", "跨省调转"):
        assert re.search(rf"<a [^>]*href=\"[^\"]+\"[^>]*>[^<]*{entry}", html), entry
    for name, text in (
        ("accounts:login", "登录"),
        ("accounts:register_eligibility", "用户注册"),
        ("accounts:password_reset", "忘记密码"),
    ):
        assert re.search(rf"<a [^>]*href=\"{re.escape(reverse(name))}\"[^>]*>\s*{text}\s*</a>", html), text


@pytest.mark.django_db
def test_public_home_is_phone_ready_and_loads_nothing_from_other_hosts(client):
    html = page_text(client.get("/"))
    assert re.search(r'<meta name="viewport" content="width=device-width, initial-scale=1"', html)
    scripts = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]*)\"", html)
    sheets = re.findall(r"<link\b[^>]*\bhref=\"([^\"]*)\"", html)
    assert sheets, "the page should load the vendored Bootstrap"
    for url in scripts + sheets:
        assert not re.match(r"^(https?:)?//", url, re.IGNORECASE), url


# --- the person's home page -------------------------------------------------------------------


@pytest.mark.django_db
def test_home_shows_name_masked_id_and_collection_status(client, django_assert_max_num_queries):
    user = AccountFactory(name="王小明", id_number=make_id_number(birth="19851201"))
    assert log_in(client, user).status_code == 302
    with django_assert_max_num_queries(8):
        response = client.get(reverse("accounts:home"))
    html = page_text(response)
    assert response.status_code == 200
    assert "王小明" in html
    masked = mask_id_number(user.plain_id_number)
    assert re.fullmatch(r"520102\*{8}[0-9X]{4}", masked)
    assert masked in html
    assert user.plain_id_number not in html
    assert user.plain_id_number[6:14] not in html  # not even the birth date part
    assert "未采集" in html


@pytest.mark.django_db
def test_home_needs_login(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?next=" + reverse("accounts:home")
