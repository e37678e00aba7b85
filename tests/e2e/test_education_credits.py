"""继续教育记录查询 in a real browser, at 375 px: playing the institution, post a
signed credit batch to the live server; the batch is processed by the task (a
real Celery worker in CI); then log in, 继续教育 → 继续教育记录查询, choose 年度,
查询, see the totals and 达标, 查看明细. Runs with JavaScript on and off."""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from collection.reference import reference_data_load
from education import services
from education.api_auth import sign
from education.models import CreditBatch, CreditBatchStatus
from tests.conftest import wait_for
from tests.education.helpers import CREDIT_BATCHES_URL, collect, credit_record, make_institution
from tests.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "李学分"


@pytest.fixture
def last_year() -> int:
    return timezone.localdate().year - 1


@pytest.fixture
def learner(transactional_db, last_year):
    reference_data_load()
    account = AccountFactory(name=NAME)
    collect(account)
    return account


def signed(base_url: str, method: str, path: str, *, key_id: str, secret: str, body: bytes = b""):
    timestamp = int(time.time())
    return requests.request(method, base_url + path, data=body or None, timeout=15, headers={
        "Content-Type": "application/json", "X-Institution-Key": key_id, "X-Timestamp": str(timestamp),
        "X-Signature": sign(secret, timestamp, body),
    })


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_posted_credits_show_in_the_records_query(pages, shot, live_server, learner, last_year, tasks_run,
                                                  javascript):
    institution = make_institution("GZ001", years=(last_year,), name="贵州会计网校")
    services.enrolment_create(user=learner, institution=institution, year=last_year)
    key, secret = services.institution_api_key_issue(institution=institution)

    # The institution, server to server.
    records = [
        credit_record(learner, record_id="E1", year=last_year, category="公需科目", credits=30,
                      course="公需课：职业道德"),
        credit_record(learner, record_id="E2", year=last_year, category="专业科目", credits=60,
                      course="政府会计制度"),
    ]
    body = json.dumps({"records": records}, ensure_ascii=False).encode()
    posted = signed(live_server.url, "POST", CREDIT_BATCHES_URL, key_id=key.key_id, secret=secret, body=body)
    assert posted.status_code == 202, posted.text
    batch_id = posted.json()["batch_id"]
    wait_for(lambda: CreditBatch.objects.get(pk=batch_id).status == CreditBatchStatus.DONE,
             message="the credit batch to be processed")
    status = signed(live_server.url, "GET", f"{CREDIT_BATCHES_URL}/{batch_id}", key_id=key.key_id, secret=secret)
    assert status.status_code == 200 and status.json()["counts"]["accepted"] == 2

    # The learner.
    page = pages.open(width=375, javascript=javascript)
    page.goto("/accounts/login/")
    page.get_by_label("证件号码").fill(learner.plain_id_number)
    page.locator("#id_password").fill(learner.plain_password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{NAME}").wait_for()

    page.goto("/education/")
    page.get_by_role("link", name="继续教育记录查询").click()
    expect(page.get_by_role("heading", name="继续教育记录查询")).to_be_visible()
    expect(page.get_by_test_id("no-credits")).to_be_visible()  # this year: nothing yet
    page.get_by_label("年度", exact=True).select_option(label=f"{last_year}年")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/education/credits/?year={last_year}")
    expect(page.get_by_test_id("total")).to_have_text("90.0")
    expect(page.get_by_test_id("public")).to_have_text("30.0")
    expect(page.get_by_test_id("professional")).to_have_text("60.0")
    expect(page.get_by_test_id("verdict")).to_contain_text("达标")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "credits")
    page.get_by_role("link", name="查看明细").click()
    expect(page.get_by_role("heading", name=f"{last_year}年度学分明细")).to_be_visible()
    expect(page.get_by_test_id("credit-records").locator("li")).to_have_count(2)
    expect(page.get_by_text("政府会计制度")).to_be_visible()
    expect(page.get_by_text("公需课：职业道德")).to_be_visible()
    expect(page.get_by_text("备案机构（贵州会计网校）").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "detail")
    if javascript:
        pages.assert_no_js_errors("on the credits pages")
