"""跨省调转 in a real browser (issue 6, point 11).

Transfer out, at 375 px: an accountant with an 已采集 archive and a 待审核 学分确认申请
logs in, 我的首页 → 人员调转 → 跨出省外调转 and is refused (the pending claim is
named, 申请 is disabled); 撤回 the claim in 我的申请历史; 申请 (调入省份, 调转原因,
调入单位, a JPEG) → 待调入地接收 (submitted to the national platform by the task: a
real Celery worker in CI) → 撤回 → 已撤回 → 申请 again → 待调入地接收; the destination
receives (`manage.py national_platform receive`) → 已调入 and 已调出, and
学分确认申请 is refused.

Transfer in: a record seeded by `manage.py national_platform incoming`; from the
public home page 进入跨省调转 → 跨省调入 → 1 填写验证信息 (SMS code by the
JavaScript fetch) → 2 确认调入信息 (masked ID, carried records; 市州 → 县区 follows
through work.js) → 3 设置账号登录密码 → 调入完成 → 登录 → 已采集, with the carried
credits in 继续教育记录查询. Each page is shot at 1280 px and again at 375 px.
"""

from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.models import SmsMessage, User
from collection.reference import reference_data_load
from education import claims
from education.models import CreditClaim, CreditClaimStatus
from portal.images import clean_image
from tests.conftest import wait_for
from tests.e2e.test_education_enrol import check
from tests.education.helpers import collect
from tests.factories import AccountFactory, make_id_number
from tests.images import document_upload
from transfers.models import PlatformRecord, PlatformStatus, TransferOut, TransferStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "李调出"
INCOMING_NAME = "王调入"
INCOMING_MOBILE = "13812345678"
INCOMING_PASSWORD = "Tr#Sichuan2026"


@pytest.fixture
def last_year() -> int:
    return timezone.localdate().year - 1


@pytest.fixture
def accountant(transactional_db, last_year):
    """已采集, with a 待审核 学分确认申请."""
    reference_data_load()
    account = AccountFactory(name=NAME)
    collect(account)
    claims.credit_claim_create(user=account, year=last_year, activity="exam_subject", days=None,
                               details="2025年中级会计实务合格", evidence=clean_image(document_upload()))
    return account


def status_of(page, testid: str, expected: str, *, timeout: float = 30.0) -> None:
    """Reload until the row shows `expected` (the platform submission is a task, run by
    a Celery worker in CI, so the status may change after the page was drawn)."""
    deadline = time.monotonic() + timeout
    badge = page.get_by_test_id(testid).get_by_test_id("status")
    while True:
        if badge.count() and badge.inner_text().strip() == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{testid} did not show {expected!r} within {timeout}s "
                                 f"(shows {badge.inner_text() if badge.count() else 'nothing'!r})")
        time.sleep(0.3)
        page.reload()


def refused_page(page, pages, path: str):
    """Open a page the person may not use now: 403 with the reason. Chromium logs the
    403 as a console error; that one is expected and dropped, any other still fails."""
    response = page.goto(path)
    assert response.status == 403, f"{path} answered {response.status}"
    forget_403(pages, path)
    return response


def forget_403(pages, path: str) -> None:
    pages.js_errors[:] = [e for e in pages.js_errors if not ("status of 403" in e and path in e)]


def apply_for_transfer(page, evidence, *, destination: str) -> None:
    page.get_by_test_id("apply").click()
    page.wait_for_url("**/transfers/out/new/")
    expect(page.get_by_role("heading", name="申请调出省外")).to_be_visible()
    page.get_by_label("调入省份").select_option(label="四川省")
    page.get_by_label("工作调动").check()
    page.get_by_label("调入单位、学校或地址").fill(destination)
    page.get_by_label("证明材料").set_input_files(str(evidence))


def test_transfer_out_refused_withdraw_claim_apply_withdraw_apply_received(pages, shot, live_server, accountant,
                                                                          tasks_run,
                                                                          tmp_path):
    claim = CreditClaim.objects.get(user=accountant)
    evidence = tmp_path / "work-change.jpg"
    Image.new("RGB", (800, 600), (235, 230, 220)).save(evidence, format="JPEG", quality=85)
    page = pages.open(width=375)

    # --- log in through the login page ------------------------------------------------------
    page.goto("/accounts/login/")
    page.get_by_label("证件号码").fill(accountant.plain_id_number)
    page.locator("#id_password").fill(accountant.plain_password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{NAME}").wait_for()
    expect(page.get_by_role("heading", name="人员调转")).to_be_visible()
    check(page, pages, shot, "home", javascript=True)

    # --- 人员调转 → 跨出省外调转: refused while the claim is 待审核 ----------------------------
    page.get_by_role("link", name="跨出省外调转").click()
    page.wait_for_url("**/transfers/out/")
    expect(page.get_by_role("heading", name="调出省外申请")).to_be_visible()
    expect(page.get_by_test_id("refusal")).to_contain_text("待审核的学分确认申请")
    expect(page.get_by_role("button", name="申请", exact=True)).to_be_disabled()
    expect(page.get_by_test_id("apply")).to_have_count(0)
    expect(page.get_by_test_id("no-transfers")).to_be_visible()
    expect(page.get_by_test_id("hint")).to_be_visible()
    check(page, pages, shot, "out-refused-pending-claim", javascript=True)
    # The form itself refuses too (a typed address is no way round it).
    refused_page(page, pages, "/transfers/out/new/")
    expect(page.get_by_test_id("refusal")).to_contain_text("待审核的学分确认申请")
    check(page, pages, shot, "out-form-refused", javascript=True)

    # --- 继续教育 → 我的申请历史: 撤回 the claim ------------------------------------------------
    page.goto("/accounts/home/")
    page.get_by_role("link", name="继续教育", exact=True).click()
    page.get_by_role("link", name="我的申请历史").click()
    page.wait_for_url("**/education/claims/")
    item = page.get_by_test_id(f"claim-{claim.pk}")
    expect(item.get_by_test_id("status")).to_have_text("待审核")
    page.get_by_role("button", name=f"撤回申请 #{claim.pk}").click()
    expect(item.get_by_test_id("status")).to_have_text("已撤回")
    check(page, pages, shot, "claim-withdrawn", javascript=True)
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.WITHDRAWN

    # --- 跨出省外调转 → 申请 ------------------------------------------------------------------
    page.goto("/accounts/home/")
    page.get_by_role("link", name="跨出省外调转").click()
    expect(page.get_by_test_id("refusal")).to_have_count(0)
    check(page, pages, shot, "out-list-empty", javascript=True)
    apply_for_transfer(page, evidence, destination="四川省成都市某某会计师事务所")
    check(page, pages, shot, "out-form-filled", javascript=True)
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/transfers/out/")
    expect(page.get_by_text("调出申请已提交")).to_be_visible()
    first = TransferOut.objects.get(user=accountant)
    row = page.get_by_test_id(f"transfer-{first.pk}")
    expect(row).to_contain_text("调往四川省 · 工作调动")
    expect(row).to_contain_text("四川省成都市某某会计师事务所")
    status_of(page, f"transfer-{first.pk}", "待调入地接收")
    first.refresh_from_db()
    assert first.status == TransferStatus.PENDING_RECEIPT and first.platform_ref
    expect(row).to_contain_text(f"全国平台编号：{first.platform_ref}")
    # While it is open, another 申请 is refused, naming the open transfer. (Reloaded: the page
    # status_of stopped on may have read the refusal just before the worker's commit.)
    page.reload()
    expect(page.get_by_test_id("refusal")).to_contain_text("进行中的调出省外申请（待调入地接收）")
    expect(page.get_by_role("button", name="申请", exact=True)).to_be_disabled()
    # Its evidence is the owner's to read.
    href = row.get_by_role("link", name="查看证明材料").get_attribute("href")
    evidence_response = page.request.get(href)
    assert evidence_response.status == 200 and evidence_response.headers["content-type"] == "image/jpeg"
    check(page, pages, shot, "out-pending-receipt", javascript=True)

    # --- 撤回 → 已撤回 ------------------------------------------------------------------------
    row.get_by_role("button", name=f"撤回调出申请 #{first.pk}").click()
    expect(page.get_by_text("调出申请已撤回。")).to_be_visible()
    expect(row.get_by_test_id("status")).to_have_text("已撤回")
    expect(row).to_contain_text("撤回时间：")
    expect(row.get_by_role("button", name=f"撤回调出申请 #{first.pk}")).to_have_count(0)
    check(page, pages, shot, "out-withdrawn", javascript=True)
    assert PlatformRecord.objects.get(ref=first.platform_ref).status == PlatformStatus.WITHDRAWN

    # --- 申请 again → 待调入地接收 ---------------------------------------------------------------
    apply_for_transfer(page, evidence, destination="四川省成都市锦江区某某公司")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/transfers/out/")
    second = TransferOut.objects.filter(user=accountant).exclude(pk=first.pk).get()
    status_of(page, f"transfer-{second.pk}", "待调入地接收")
    expect(page.get_by_test_id(f"transfer-{first.pk}").get_by_test_id("status")).to_have_text("已撤回")
    second.refresh_from_db()
    assert second.platform_ref and second.platform_ref != first.platform_ref
    check(page, pages, shot, "out-second-pending-receipt", javascript=True)

    # --- the destination receives: 已调入, 已调出 ----------------------------------------------
    call_command("national_platform", "receive", second.platform_ref)
    page.reload()
    row = page.get_by_test_id(f"transfer-{second.pk}")
    expect(row.get_by_test_id("status")).to_have_text("已调入")
    expect(row).to_contain_text("调入地接收时间：")
    expect(row.get_by_role("button", name=f"撤回调出申请 #{second.pk}")).to_have_count(0)
    expect(page.get_by_test_id("transferred-out")).to_contain_text("已调出")
    expect(page.get_by_role("button", name="申请", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("apply")).to_have_count(0)
    expect(page.get_by_test_id("hint")).to_have_count(0)  # "调入地接收前均可撤回" no longer applies
    check(page, pages, shot, "out-received", javascript=True)
    accountant.refresh_from_db()
    assert accountant.transferred_out_at is not None

    # The person still logs in and reads; every business action is refused.
    page.goto("/accounts/home/")
    expect(page.get_by_test_id("transferred-out")).to_contain_text("已调出")
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    check(page, pages, shot, "home-transferred-out", javascript=True)
    page.get_by_role("link", name="继续教育", exact=True).click()
    with page.expect_response("**/education/claims/new/") as answer:
        page.get_by_role("link", name="我要申请").click()
    assert answer.value.status == 403
    forget_403(pages, "/education/claims/new/")
    expect(page.get_by_test_id("refusal")).to_contain_text("已调出")
    expect(page.get_by_test_id("refusal")).to_contain_text("不能再办理业务")
    expect(page.get_by_role("button", name="提交申请")).to_have_count(0)
    check(page, pages, shot, "claim-refused-transferred-out", javascript=True)
    refused_page(page, pages, "/transfers/out/new/")
    expect(page.get_by_test_id("refusal")).to_contain_text("已调出")

    # The same list on a desktop screen.
    desktop = pages.open(width=1280, height=900)
    desktop.context.add_cookies(page.context.cookies())
    desktop.goto("/transfers/out/")
    expect(desktop.get_by_test_id(f"transfer-{second.pk}").get_by_test_id("status")).to_have_text("已调入")
    check(desktop, pages, shot, "out-received-desktop", javascript=True)


def check_both(page, pages, shot, name: str) -> None:
    """Screenshot at 1280 px, then at 375 px (no sideways scrolling), and back."""
    check(page, pages, shot, name, javascript=True)
    page.set_viewport_size({"width": 375, "height": 812})
    check(page, pages, shot, f"{name}-phone", javascript=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def latest_code(mobile: str) -> str:
    message = wait_for(
        lambda: SmsMessage.objects.filter(mobile="+86" + mobile, body__contains="验证码").order_by("-id").first(),
        message="a code in the SMS outbox",
    )
    return re.search(r"验证码(\d{6})", message.body).group(1)


def test_transfer_in_seeded_by_the_platform_three_steps_then_log_in(pages, shot, live_server, transactional_db,
                                                                  tasks_run, last_year):
    reference_data_load()
    id_number = make_id_number(birth="19890412", area="510104")
    call_command("national_platform", "incoming", "--name", INCOMING_NAME, "--id-number", id_number,
                 "--mobile", INCOMING_MOBILE, "--from-province", "四川省")
    record = PlatformRecord.objects.get(name=INCOMING_NAME)
    assert record.status == PlatformStatus.PENDING_RECEIPT
    page = pages.open(width=1280, height=900)

    # --- the public home page → 进入跨省调转 → 跨省调入 -------------------------------------------
    page.goto("/")
    page.get_by_role("link", name="进入跨省调转").click()
    page.wait_for_url("**/transfers/")
    expect(page.get_by_role("heading", name="跨省调转", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="登录后申请调出")).to_be_visible()
    check_both(page, pages, shot, "transfers-index")
    page.get_by_role("link", name="跨省调入", exact=True).click()
    page.wait_for_url("**/transfers/in/")

    # --- 1 填写验证信息 ------------------------------------------------------------------------
    expect(page.locator("[aria-current=step]")).to_have_text("1. 填写验证信息")
    page.get_by_label("姓名").fill(INCOMING_NAME)
    page.get_by_label("证件类型").select_option(label="居民身份证")
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("手机号码").fill(INCOMING_MOBILE)
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="获取短信验证码").click()
    page.locator("[data-sms-status]").get_by_text("短信验证码已发送").wait_for()
    page.get_by_role("button", name=re.compile(r"\d+ 秒后重新获取")).wait_for()
    assert page.evaluate("window.__noReload === true"), "获取短信验证码 reloaded the page"
    page.get_by_label("短信验证码").fill(latest_code(INCOMING_MOBILE))
    check_both(page, pages, shot, "in-step1-verify")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfers/in/confirm/")

    # --- 2 确认调入信息: masked, the carried records; 市州 → 县区 -------------------------------
    expect(page.locator("[aria-current=step]")).to_have_text("2. 确认调入信息")
    shown = page.get_by_test_id("record")
    expect(shown).to_contain_text(INCOMING_NAME)
    expect(shown).to_contain_text(id_number[:6] + "********" + id_number[-4:])
    expect(shown).to_contain_text("四川省")
    expect(shown).to_contain_text(record.ref)
    expect(shown).to_contain_text("西南财经大学")
    assert id_number not in page.content() and INCOMING_MOBILE not in page.content()
    carried = page.get_by_test_id("carried-credits")
    expect(carried.locator("tbody tr")).to_have_count(2)
    expect(carried).to_contain_text(str(last_year))
    county = page.get_by_label("县（市、区）")
    expect(county).to_be_hidden()  # shown once a 市（州） is chosen
    page.get_by_label("所属行政区划（市、州）").select_option(label="遵义市")
    expect(county).to_be_visible()
    names = [o.strip() for o in county.locator("option").all_inner_texts()]
    assert "汇川区" in names and "南明区" not in names, names
    county.select_option(label="汇川区")
    page.get_by_label("工作单位").fill("遵义市某某会计师事务所")
    page.get_by_label("以上调入信息是本人的，且正确无误").check()
    check_both(page, pages, shot, "in-step2-confirm")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/transfers/in/password/")

    # --- 3 设置账号登录密码 → 完成调入 -----------------------------------------------------------
    expect(page.locator("[aria-current=step]")).to_have_text("3. 设置账号登录密码")
    page.locator("#id_password1").fill(INCOMING_PASSWORD)
    page.locator("#id_password2").fill(INCOMING_PASSWORD)
    check_both(page, pages, shot, "in-step3-password")
    page.get_by_role("button", name="完成调入").click()
    page.wait_for_url("**/transfers/in/done/")
    expect(page.get_by_test_id("done")).to_contain_text("调入完成")
    check_both(page, pages, shot, "in-done")
    record.refresh_from_db()
    assert record.status == PlatformStatus.RECEIVED
    assert User.objects.filter(name=INCOMING_NAME).count() == 1

    # --- 登录 with the ID number and the new password -----------------------------------------
    page.get_by_role("link", name="登录").last.click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password").fill(INCOMING_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{INCOMING_NAME}").wait_for()
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    expect(page.get_by_test_id("transferred-out")).to_have_count(0)
    check_both(page, pages, shot, "in-home-collected")

    # --- 继续教育记录查询: the carried credits --------------------------------------------------
    page.get_by_role("link", name="继续教育", exact=True).click()
    page.get_by_role("link", name="继续教育记录查询").click()
    page.get_by_label("年度", exact=True).select_option(label=f"{last_year}年")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/education/credits/?year={last_year}")
    expect(page.get_by_test_id("total")).to_have_text("90.0")
    expect(page.get_by_test_id("public")).to_have_text("30.0")
    expect(page.get_by_test_id("professional")).to_have_text("60.0")
    check_both(page, pages, shot, "in-credits-carried")
