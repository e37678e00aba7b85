"""The manual, end to end (issue 9 point 1): one journey in a real browser following
the manual's sections 2.1 → 5.2 in order on the live server.

2.1 用户注册 (SMS code from the outbox) → 2.2 忘记密码 → 2.3 信息采集 (every step, the
three uploads) → 采集状态 → 3 信息变更 → 4.1 报名 and 点击查看 (the test plays the
institution: exchanges the launch token and posts a signed credit batch) → 4.2 学分确认申请,
approved by a staff reviewer in the admin (password + TOTP) → 4.3 继续教育记录查询 and
打印继续教育证明 → 5.1 跨省调入 of another person through the three steps → 5.2 跨省调出,
received by the destination (`manage.py national_platform receive`).

Every page is screenshotted (tests/e2e/screenshots/<test>/, copied to
test-artifacts/screenshots/ when that folder exists, as in CI) and scanned with axe-core
(installed from npm into tests/e2e/node_modules by `make test`; injected through
Playwright's evaluate, which the page's Content-Security-Policy does not govern): no
violation of impact serious or critical, the reviewer's admin pages included.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from accounts.models import SmsCode, User
from collection.models import Archive, ArchiveStatus
from collection.reference import reference_data_load
from education import services as education
from education.models import CreditBatch, CreditBatchStatus, CreditClaim, CreditClaimStatus
from tests.conftest import wait_for
from tests.e2e.conftest import ARTIFACTS as SCREENSHOTS
from tests.e2e.test_accounts_journey import _reset_code, latest_code
from tests.e2e.test_changes import item_value, open_item, save
from tests.e2e.test_collection_wizard import (
    QUALIFICATIONS,
    accept_notice,
    fill_certifications,
    fill_education,
    fill_qualification,
    go_on,
    no_horizontal_scroll,
)
from tests.e2e.test_education_credits import signed
from tests.e2e.test_education_enrol import signed_exchange
from tests.e2e.test_transfers import status_of
from tests.education.helpers import CREDIT_BATCHES_URL, make_institution
from tests.factories import make_id_number
from transfers.models import PlatformRecord, PlatformStatus, TransferOut, TransferStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
NAME = "陈手册"
PASSWORD = "Kj#Manual2026"
NEW_PASSWORD = "Nw$Manual2027"
MOBILE = "13912340001"
EMAIL, NEW_EMAIL = "chen.shouce@example.com", "chen.new@example.com"
INSTITUTION = "贵州会计网校"
PLATFORM = "http://institution.test/learn"
INCOMING_NAME, INCOMING_MOBILE, INCOMING_PASSWORD = "周调入", "13812340002", "Tr#Manual2026"
REVIEWER_PASSWORD = "Rev!ew-2026-manual"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        message = "axe-core is missing: run `npm ci --prefix tests/e2e` (`make test` does)"
        if os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def artifacts(request):
    """After the test, its screenshots (and the axe report) go to test-artifacts/ too, when it exists."""
    yield
    source, target = SCREENSHOTS / request.node.name, ROOT / "test-artifacts"
    if source.is_dir() and target.is_dir():
        shutil.copytree(source, target / "screenshots" / request.node.name, dirs_exist_ok=True)


class Checks:
    """Per page: screenshot, no sideways scrolling at 375 px, no JavaScript error, an axe scan."""

    def __init__(self, pages, shot, axe_source: str, folder: Path):
        self.pages, self.shot, self.axe_source, self.folder = pages, shot, axe_source, folder
        self.findings: list[dict] = []
        self.scanned: list[str] = []

    def __call__(self, page, name: str, *, scan: bool = True) -> None:
        self.shot(page, name)
        if page.viewport_size["width"] <= 400:
            assert no_horizontal_scroll(page), f"{name} scrolls sideways"
        self.pages.assert_no_js_errors(f"on {name}")
        if scan:
            self.scan(page, name)

    def scan(self, page, name: str) -> None:
        self._inject(page)
        before = len(self.pages.js_errors)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        # axe's own probing (it tries styles on links to judge their contrast) is refused by the
        # page's Content-Security-Policy: those console errors are the scanner's, not the page's.
        self.pages.js_errors[before:] = [
            e for e in self.pages.js_errors[before:] if "Applying inline style violates" not in e
        ]
        self.scanned.append(f"{name}: {urlsplit(page.url).path}")
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical"):
                self.findings.append({
                    "page": name, "url": urlsplit(page.url).path, "rule": violation["id"],
                    "impact": violation["impact"], "help": violation["help"],
                    "nodes": [n["html"][:200] for n in violation["nodes"][:5]],
                })

    def _inject(self, page) -> None:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)  # Playwright's evaluate: not subject to the page's CSP

    def control(self, page) -> None:
        """The scanner does see a violation here: an image without alternative text (critical)."""
        self._inject(page)
        found = page.evaluate("""async () => {
            const probe = document.createElement('div');
            probe.id = 'axe-control';
            probe.appendChild(document.createElement('img'));
            document.body.appendChild(probe);
            const result = await axe.run('#axe-control', {runOnly: ['image-alt']});
            probe.remove();
            return result.violations.map(v => [v.id, v.impact]);
        }""")
        assert found == [["image-alt", "critical"]], found

    def report(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "axe-report.json").write_text(
            json.dumps({"scanned": self.scanned, "serious_or_critical": self.findings}, ensure_ascii=False, indent=2),
            encoding="utf-8")
        assert not self.findings, "axe-core: serious or critical violations\n" + json.dumps(
            self.findings, ensure_ascii=False, indent=1)


def images(folder: Path) -> dict[str, Path]:
    def make(name, size, colour):
        image = Image.new("RGB", size, colour)
        ImageDraw.Draw(image).rectangle([10, 10, size[0] - 10, size[1] - 10], outline=(40, 40, 40), width=4)
        image.save(folder / name, "JPEG", quality=85)
        return folder / name

    return {"photo": make("photo.jpg", (300, 420), (200, 220, 240)),
            "front": make("id-front.jpg", (856, 540), (235, 225, 200)),
            "back": make("id-back.jpg", (856, 540), (210, 235, 210)),
            "paper": make("paper.jpg", (600, 800), (230, 220, 200)),
            "move": make("move.jpg", (800, 600), (235, 230, 220))}


def log_in(page, id_number: str, password: str, name: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{name}").wait_for()


def records_query(page, year: int) -> None:
    page.goto("/education/")
    page.get_by_role("link", name="继续教育记录查询").click()
    page.get_by_label("年度", exact=True).select_option(label=f"{year}年")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/education/credits/?year={year}")


def test_the_manual_from_registration_to_transfer(pages, shot, live_server, transactional_db, tasks_run, tmp_path,
                                                  axe_source, artifacts, request):
    reference_data_load()
    year = timezone.localdate().year - 1
    institution = make_institution("GZ001", years=(year,), name=INSTITUTION, platform_url=PLATFORM)
    key, secret = education.institution_api_key_issue(institution=institution)
    files = images(tmp_path)
    check = Checks(pages, shot, axe_source, SCREENSHOTS / request.node.name)
    id_number = make_id_number(birth="19860412")
    page = pages.open(width=375)

    # === 2.1 注册 =============================================================================
    page.goto("/")
    check(page, "home")
    check.control(page)
    page.get_by_role("link", name="用户注册").first.click()
    page.get_by_text("是否在贵州省内从事会计工作").wait_for()
    check(page, "register-eligibility")
    page.locator("#id_works_in_guizhou_0").check()
    page.locator("#id_holds_qualification_0").check()
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("姓名").fill(NAME)
    page.get_by_label("证件类型").select_option(label="居民身份证")
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("手机号码").fill(MOBILE)
    check(page, "register-form")
    page.get_by_role("button", name="获取短信验证码").click()
    page.locator("[data-sms-status]").get_by_text("短信验证码已发送").wait_for()
    page.get_by_label("短信验证码").fill(latest_code(MOBILE))
    check(page, "register-code-sent")
    page.get_by_role("button", name="注册").click()
    page.get_by_text("注册成功").wait_for()
    assert User.objects.filter(name=NAME).count() == 1
    check(page, "register-done-login")

    # === 2.2 重置密码 (the registration code is younger than the 60 s resend limit: age it) =====
    SmsCode.objects.filter(mobile="+86" + MOBILE).update(created_at=F("created_at") - timedelta(seconds=61))
    page.get_by_role("link", name="忘记密码").click()
    page.get_by_label("姓名").fill(NAME)
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("手机号码").fill(MOBILE)
    page.get_by_role("button", name="获取短信验证码").click()
    page.locator("[data-sms-status]").get_by_text("短信验证码已发送至该手机号码").wait_for()
    page.get_by_label("短信验证码").fill(wait_for(lambda: _reset_code(MOBILE), message="the reset code"))
    check(page, "reset-step1")
    page.get_by_role("button", name="下一步").click()
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    check(page, "reset-step2")
    page.get_by_role("button", name="完成").click()
    page.get_by_text("密码已重置").wait_for()
    check(page, "reset-done")

    # === 2.3 信息采集 ===========================================================================
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{NAME}").wait_for()
    expect(page.get_by_test_id("collection-status")).to_have_text("未采集")
    check(page, "personal-home")
    page.goto("/collection/")
    page.wait_for_url("**/collection/notice/")
    check(page, "collect-notice")
    accept_notice(page)
    page.get_by_label("民族").select_option(label="布依族")
    page.get_by_label("政治面貌").select_option(label="群众")
    page.get_by_label("电子邮箱").fill(EMAIL)
    page.get_by_label("免冠证件照").set_input_files(files["photo"])
    page.get_by_label("身份证人像面").set_input_files(files["front"])
    page.get_by_label("身份证国徽面").set_input_files(files["back"])
    check(page, "collect-personal")
    go_on(page, "education")
    fill_education(page)
    check(page, "collect-education")
    go_on(page, "professional")
    fill_certifications(page)
    qualifications = page.locator("#section-qualifications")
    qualifications.get_by_role("button", name="新增").click()
    fill_qualification(qualifications.locator(".formset-row").nth(0), QUALIFICATIONS[0])
    check(page, "collect-professional")
    go_on(page, "work")
    page.get_by_label("会计工作岗位", exact=True).check()
    page.get_by_label("所属行政区划（市、州）").select_option(label="贵阳市")
    page.get_by_label("县（市、区）").select_option(label="南明区")
    page.get_by_label("工作单位").fill("贵阳市南明区某某会计师事务所")
    check(page, "collect-work")
    go_on(page, "review")
    expect(page.get_by_role("alert")).to_have_count(0)
    check(page, "collect-review")
    go_on(page, "status", button="提交")
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    user = User.objects.get(name=NAME)
    assert Archive.objects.get(user=user).status == ArchiveStatus.COLLECTED
    check(page, "collect-status")

    # === 3 信息变更 =============================================================================
    page.goto("/accounts/home/")
    page.get_by_role("link", name="信息变更", exact=True).click()
    page.wait_for_url("**/changes/")
    check(page, "change-menu")
    open_item(page, "个人信息")
    page.get_by_label("电子邮箱").fill(NEW_EMAIL)
    check(page, "change-edit")
    save(page, "个人信息")
    expect(item_value(page, "电子邮箱")).to_have_text(NEW_EMAIL)
    check(page, "change-saved")
    page.locator("nav[aria-label='信息变更']").get_by_role("link", name="变更记录").click()
    page.wait_for_url("**/changes/history/")
    check(page, "change-history")

    # === 4.1 专业课学习 → 远程教育: 报名, 点击查看; the institution posts the credits =============
    launched: list[str] = []

    def platform(route):
        launched.append(route.request.url)
        route.fulfill(status=200, content_type="text/html; charset=utf-8",
                      body="<!doctype html><html lang='zh-CN'><title>网校</title><h1>机构学习平台</h1></html>")

    page.route("http://institution.test/**", platform)
    page.goto("/accounts/home/")
    page.get_by_role("link", name="继续教育", exact=True).click()
    expect(page.get_by_role("heading", name="继续教育")).to_be_visible()
    check(page, "education-menu")
    page.get_by_role("link", name="专业课学习").click()
    check(page, "education-professional")
    page.get_by_role("link", name="远程教育").click()
    page.get_by_label("年度", exact=True).select_option(label=f"{year}年")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**/education/remote/?year={year}")
    check(page, "education-remote")
    page.get_by_role("button", name=f"报名：{INSTITUTION}").click()
    expect(page.get_by_text("报名成功")).to_be_visible()
    check(page, "education-enrolled")
    page.get_by_role("button", name=f"点击查看：{INSTITUTION}").click()
    expect(page.get_by_role("heading", name="机构学习平台")).to_be_visible()
    shot(page, "institution-platform")  # the institution's page, not ours: not scanned
    token = parse_qs(urlsplit(launched[0]).query)["token"][0]
    exchanged = signed_exchange(live_server.url, key_id=key.key_id, secret=secret, token=token)
    assert exchanged.status_code == 200 and exchanged.json()["id_number"] == id_number, exchanged.text
    records = [
        {"record_id": f"M{n}", "id_type": "resident_id_card", "id_number": id_number, "name": NAME, "year": year,
         "category": category, "credits": 30, "course": course, "completed_at": f"{year}-06-30"}
        for n, (category, course) in enumerate([("公需科目", "公需课：会计职业道德"), ("专业科目", "企业会计准则解读")])
    ]
    body = json.dumps({"records": records}, ensure_ascii=False).encode()
    posted = signed(live_server.url, "POST", CREDIT_BATCHES_URL, key_id=key.key_id, secret=secret, body=body)
    assert posted.status_code == 202, posted.text
    batch_id = posted.json()["batch_id"]
    wait_for(lambda: CreditBatch.objects.get(pk=batch_id).status == CreditBatchStatus.DONE, timeout=60,
             message="the credit batch to be processed")

    # === 4.2 学分确认申请: 我要申请, 我的申请历史; a reviewer approves ===========================
    page.goto("/education/")
    page.get_by_role("link", name="我要申请").click()
    expect(page.get_by_role("heading", name="我要申请")).to_be_visible()
    page.get_by_label("年度").select_option(label=f"{year}年")
    page.locator("input[name=activity][value=paper_sole]").check()
    page.get_by_label("活动说明").fill("《贵州财会》2025 年第 2 期：行政事业单位内部控制")
    page.get_by_label("证明材料").set_input_files(str(files["paper"]))
    check(page, "claim-form")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/education/claims/")
    claim = CreditClaim.objects.get(user=user)
    expect(page.get_by_test_id(f"claim-{claim.pk}").get_by_test_id("status")).to_have_text("待审核")
    check(page, "claim-history-pending")

    reviewer = User.objects.create_superuser("manual-reviewer", REVIEWER_PASSWORD, name="审核员")
    device = TOTPDevice.objects.create(user=reviewer, name="authenticator", confirmed=True)
    admin = pages.open(width=1280, height=900)
    admin.goto("/admin/")
    admin.get_by_label("用户名").fill("manual-reviewer")
    admin.get_by_label("密码").fill(REVIEWER_PASSWORD)
    admin.get_by_label("动态口令").fill(f"{totp(device.bin_key):06d}")
    shot(admin, "admin-login")
    admin.get_by_role("button", name="登录").click()
    expect(admin.get_by_role("link", name="注销").or_(admin.get_by_role("button", name="注销"))).to_be_visible()
    admin.goto(f"/admin/education/creditclaim/{claim.pk}/change/")
    expect(admin.get_by_role("img", name="证明材料")).to_be_visible()
    pages.js_errors[:] = [e for e in pages.js_errors if "/favicon.ico" not in e]  # the admin asks for one
    check(admin, "admin-claim")
    admin.get_by_role("button", name="通过", exact=True).click()
    expect(admin.get_by_text(f"申请 #{claim.pk} 已通过")).to_be_visible()
    pages.js_errors[:] = [e for e in pages.js_errors if "/favicon.ico" not in e]
    check(admin, "admin-approved")
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.APPROVED
    page.goto("/education/claims/")
    expect(page.get_by_test_id(f"claim-{claim.pk}").get_by_test_id("status")).to_have_text("已通过")
    check(page, "claim-history-approved")

    # === 4.3 继续教育记录查询, 查看明细, 打印继续教育证明 =========================================
    records_query(page, year)
    expect(page.get_by_test_id("total")).to_have_text("90.0")
    expect(page.get_by_test_id("verdict")).to_contain_text("达标")
    check(page, "records-query")
    page.get_by_role("link", name="查看明细").click()
    expect(page.get_by_test_id("credit-records").locator("li")).to_have_count(3)
    check(page, "records-detail")
    page.go_back()
    page.get_by_role("link", name="打印继续教育证明").click()
    expect(page.get_by_test_id("certificate")).to_be_visible()
    expect(page.get_by_test_id("cert-total")).to_contain_text("90.0")
    assert id_number not in page.content()
    check(page, "certificate")

    # === 5.1 跨省调入: another person, seeded on the national platform by their old province ====
    incoming_id = make_id_number(birth="19890412", area="510104")
    call_command("national_platform", "incoming", "--name", INCOMING_NAME, "--id-number", incoming_id,
                 "--mobile", INCOMING_MOBILE, "--from-province", "四川省")
    newcomer = pages.open(width=375)
    newcomer.goto("/")
    newcomer.get_by_role("link", name="进入跨省调转").click()
    newcomer.wait_for_url("**/transfers/")
    check(newcomer, "transfers-index")
    newcomer.get_by_role("link", name="跨省调入", exact=True).click()
    newcomer.get_by_label("姓名").fill(INCOMING_NAME)
    newcomer.get_by_label("证件类型").select_option(label="居民身份证")
    newcomer.get_by_label("证件号码").fill(incoming_id)
    newcomer.get_by_label("手机号码").fill(INCOMING_MOBILE)
    newcomer.get_by_role("button", name="获取短信验证码").click()
    newcomer.locator("[data-sms-status]").get_by_text("短信验证码已发送").wait_for()
    newcomer.get_by_label("短信验证码").fill(latest_code(INCOMING_MOBILE))
    check(newcomer, "transfer-in-step1")
    newcomer.get_by_role("button", name="下一步").click()
    newcomer.wait_for_url("**/transfers/in/confirm/")
    newcomer.get_by_label("所属行政区划（市、州）").select_option(label="遵义市")
    newcomer.get_by_label("县（市、区）").select_option(label="汇川区")
    newcomer.get_by_label("工作单位").fill("遵义市某某会计师事务所")
    newcomer.get_by_label("以上调入信息是本人的，且正确无误").check()
    check(newcomer, "transfer-in-step2")
    newcomer.get_by_role("button", name="下一步").click()
    newcomer.wait_for_url("**/transfers/in/password/")
    newcomer.locator("#id_password1").fill(INCOMING_PASSWORD)
    newcomer.locator("#id_password2").fill(INCOMING_PASSWORD)
    check(newcomer, "transfer-in-step3")
    newcomer.get_by_role("button", name="完成调入").click()
    newcomer.wait_for_url("**/transfers/in/done/")
    expect(newcomer.get_by_test_id("done")).to_contain_text("调入完成")
    check(newcomer, "transfer-in-done")
    assert PlatformRecord.objects.get(name=INCOMING_NAME).status == PlatformStatus.RECEIVED
    log_in(newcomer, incoming_id, INCOMING_PASSWORD, INCOMING_NAME)
    expect(newcomer.get_by_test_id("collection-status")).to_have_text("已采集")
    check(newcomer, "transfer-in-home")

    # === 5.2 跨省调出: 人员调转 → 跨出省外调转 → 申请; the destination receives ================
    page.goto("/accounts/home/")
    page.get_by_role("link", name="跨出省外调转").click()
    page.wait_for_url("**/transfers/out/")
    check(page, "transfer-out-list")
    page.get_by_test_id("apply").click()
    page.wait_for_url("**/transfers/out/new/")
    page.get_by_label("调入省份").select_option(label="四川省")
    page.get_by_label("工作调动").check()
    page.get_by_label("调入单位、学校或地址").fill("四川省成都市某某会计师事务所")
    page.get_by_label("证明材料").set_input_files(str(files["move"]))
    check(page, "transfer-out-form")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/transfers/out/")
    transfer = TransferOut.objects.get(user=user)
    status_of(page, f"transfer-{transfer.pk}", "待调入地接收")
    check(page, "transfer-out-pending-receipt")
    transfer.refresh_from_db()
    call_command("national_platform", "receive", transfer.platform_ref)
    page.reload()
    expect(page.get_by_test_id(f"transfer-{transfer.pk}").get_by_test_id("status")).to_have_text("已调入")
    expect(page.get_by_test_id("transferred-out")).to_contain_text("已调出")
    assert TransferOut.objects.get(pk=transfer.pk).status == TransferStatus.RECEIVED
    check(page, "transfer-out-received")

    check.report()
