"""The manual's section 4.1 (专业课学习 → 远程教育) in a real browser, at 375 px:
log in, 继续教育 → 专业课学习 → 远程教育, choose 年度, 查询, 报名, 报名成功,
点击查看. The navigation to the institution's platform is intercepted (no
network); then, playing the institution, the token from that URL is exchanged
with a signed request for the learner, once. Runs with JavaScript on and off.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from collection.reference import reference_data_load
from education import services
from education.api_auth import sign
from tests.education.helpers import EXCHANGE_URL, collect, make_institution
from tests.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "李继教"
PLATFORM = "http://institution.test/learn"


@pytest.fixture
def learner(transactional_db):
    reference_data_load()
    account = AccountFactory(name=NAME)
    collect(account)
    return account


@pytest.fixture
def last_year() -> int:
    return timezone.localdate().year - 1


@pytest.fixture
def institution(transactional_db, last_year):
    make_institution("NOW", years=(last_year + 1,), name="本年度网校", platform_url="http://other.test/")
    return make_institution("GZ001", years=(last_year,), name="贵州会计网校", platform_url=PLATFORM)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def check(page, pages, shot, name: str, *, javascript: bool) -> None:
    shot(page, name)
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at 375 px"
    if javascript:
        pages.assert_no_js_errors(f"on {name}")


def signed_exchange(base_url: str, *, key_id: str, secret: str, token: str) -> requests.Response:
    body = json.dumps({"token": token}).encode()
    timestamp = int(time.time())
    return requests.post(base_url + EXCHANGE_URL, data=body, timeout=15, headers={
        "Content-Type": "application/json", "X-Institution-Key": key_id, "X-Timestamp": str(timestamp),
        "X-Signature": sign(secret, timestamp, body),
    })


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_enrol_and_launch(pages, shot, live_server, learner, institution, last_year, javascript):
    key, secret = services.institution_api_key_issue(institution=institution)
    page = pages.open(width=375, javascript=javascript)
    launched: list[str] = []

    def platform(route):
        launched.append(route.request.url)
        route.fulfill(status=200, content_type="text/html; charset=utf-8",
                      body="<!doctype html><title>网校</title><h1>机构学习平台</h1>")

    page.route("http://institution.test/**", platform)

    page.goto("/accounts/login/")
    page.get_by_label("证件号码").fill(learner.plain_id_number)
    page.locator("#id_password").fill(learner.plain_password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{NAME}").wait_for()

    page.goto("/education/")
    expect(page.get_by_role("heading", name="继续教育")).to_be_visible()
    expect(page.get_by_text("即将开放")).to_have_count(0)
    for link in ("专业课学习", "我要申请", "我的申请历史", "继续教育记录查询"):
        expect(page.get_by_role("link", name=link).first).to_be_visible()
    check(page, pages, shot, "menu", javascript=javascript)
    page.get_by_role("link", name="专业课学习").click()
    expect(page.get_by_role("heading", name="专业课学习")).to_be_visible()
    check(page, pages, shot, "professional", javascript=javascript)
    page.get_by_role("link", name="远程教育").click()
    expect(page.get_by_role("heading", name="远程教育")).to_be_visible()
    expect(page.get_by_text("本年度网校")).to_be_visible()
    expect(page.get_by_text("贵州会计网校")).to_have_count(0)
    check(page, pages, shot, "remote-current-year", javascript=javascript)

    page.get_by_label("年度", exact=True).select_option(label=f"{last_year}年")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/education/remote/?year={last_year}")
    expect(page.get_by_text("贵州会计网校")).to_be_visible()
    expect(page.get_by_text("本年度网校")).to_have_count(0)
    check(page, pages, shot, "remote-queried", javascript=javascript)

    page.get_by_role("button", name="报名：贵州会计网校").click()
    expect(page.get_by_text("报名成功")).to_be_visible()
    expect(page.get_by_text("已报名", exact=True)).to_be_visible()
    check(page, pages, shot, "enrolled", javascript=javascript)

    page.get_by_role("button", name="点击查看：贵州会计网校").click()
    expect(page.get_by_role("heading", name="机构学习平台")).to_be_visible()
    shot(page, "platform")
    assert len(launched) == 1
    url = launched[0]
    assert url.startswith(PLATFORM + "?token=") and learner.plain_id_number not in url
    token = parse_qs(urlsplit(url).query)["token"][0]

    # The institution, server to server.
    first = signed_exchange(live_server.url, key_id=key.key_id, secret=secret, token=token)
    assert first.status_code == 200, first.text
    assert first.json()["name"] == NAME and first.json()["id_number"] == learner.plain_id_number
    assert first.json()["year"] == last_year
    again = signed_exchange(live_server.url, key_id=key.key_id, secret=secret, token=token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "token_used"
