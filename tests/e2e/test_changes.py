"""The manual's section 3 (信息变更) in a real browser at 375 px: a collected
person logs in, changes 电子邮箱 and adds a 专业技术资格 row through 变更信息 →
保存, and finds both in 变更记录 with old and new values (the certificate
number masked). Two tabs saving the same item: the second is refused and keeps
what was typed. 联系方式: a new mobile proved by an SMS code and the current
password; the old number is told.

The collected archive is built through the collection services (the wizard
itself is test_collection_wizard.py's subject); everything after that is done
by clicking. Every page is screenshotted (tests/e2e/screenshots/), must not
scroll sideways and must log no JavaScript error.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.models import SmsMessage, SmsStatus, User
from changes.models import ChangeItem, ChangeRecord
from collection import services as collection
from collection.models import (
    Archive,
    Degree,
    Division,
    DivisionLevel,
    EducationLevel,
    Ethnicity,
    PoliticalStatus,
)
from collection.reference import reference_data_load
from portal.images import PHOTO, clean_image
from tests.conftest import wait_for
from tests.e2e.test_collection_wizard import NAME, check_step, fill_qualification, log_in, masked
from tests.factories import AccountFactory
from tests.images import document_upload, photo_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD_EMAIL = "zhang.caiji@example.com"
NEW_EMAIL = "zhang.new@example.com"
OTHER_EMAIL = "zhang.other@example.com"
OLD_QUALIFICATION = ("会计类", "初级", "考试", "2012-05-20", "KJ2012-0001")
NEW_QUALIFICATION = ("会计类", "中级", "考试", "2018-09-08", "KJ2018-0099")
NEW_MOBILE = "13800001234"
SAVED = "{item}已保存，变更已记入变更记录。"


def _certificate_masked(number: str) -> str:
    """As 变更记录 and the item page show it: first two and last two characters."""
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


def qualification_text(values) -> str:
    kind, level, method, obtained_on, number = values
    return f"{kind}，{level}，{method}，{obtained_on}，{_certificate_masked(number)}"


@pytest.fixture
def collected(transactional_db):
    """张采集 with a collected (已采集) archive holding one 专业技术资格,
    built through the wizard's services; transactional tests flush the code
    tables, so they are loaded here."""
    reference_data_load()
    user = AccountFactory(name=NAME)
    archive = collection.archive_start(user=user)
    collection.archive_upload_replace(archive=archive, field="photo", content=clean_image(photo_upload(), rule=PHOTO))
    for field in ("id_card_front", "id_card_back"):
        collection.archive_upload_replace(archive=archive, field=field, content=clean_image(document_upload("JPEG")))
    collection.archive_save_personal(
        archive=archive,
        ethnicity=Ethnicity.objects.get(name="汉族"),
        political_status=PoliticalStatus.objects.get(name="群众"),
        email=OLD_EMAIL,
    )
    collection.archive_save_education(
        archive=archive,
        full_time={
            "level": EducationLevel.objects.get(name="大学本科"),
            "degree": Degree.objects.get(name="学士"),
            "school": "贵州财经大学",
            "major": "会计学",
            "start_date": dt.date(2006, 9, 1),
            "graduation_date": dt.date(2010, 7, 1),
        },
        part_time=None,
    )
    collection.archive_save_professional(
        archive=archive,
        certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False, "abacus_level": "none"},
        qualifications=[
            {
                "qualification_type": "accounting",
                "level": "junior",
                "method": "exam",
                "obtained_on": dt.date(2012, 5, 20),
                "certificate_number": OLD_QUALIFICATION[-1],
            }
        ],
        talents=[],
        awards=[],
    )
    collection.archive_save_work(
        archive=archive,
        employment_status="accounting",
        division=Division.objects.get(level=DivisionLevel.COUNTY, name="南明区", parent__name="贵阳市"),
        employer="贵阳市南明区某某公司",
        school="",
        provincial_declaration=False,
    )
    collection.archive_submit(archive=archive)
    return user


def _item_key(label: str) -> str:
    return next(value for value, text in ChangeItem.choices if text == label)


def open_item(page, item: str) -> None:
    """信息变更 menu → the item's row → 变更信息."""
    row = page.locator(".list-group-item").filter(has=page.get_by_role("link", name=item, exact=True))
    row.get_by_role("link", name="变更信息").click()
    page.wait_for_url(f"**/changes/{_item_key(item)}/edit/")
    expect(page.get_by_role("heading", name=f"信息变更 · {item}")).to_be_visible()


def save(page, item: str) -> None:
    """保存, answered without a server error, back on the item's page with the message."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="保存", exact=True).click()
    assert posted.value.status < 500, f"保存 on {page.url}: HTTP {posted.value.status}"
    page.wait_for_url(f"**/changes/{_item_key(item)}/")
    expect(page.locator(".messages .alert-success")).to_have_text(SAVED.format(item=item))


def item_value(page, label: str):
    """The <dd> of a read-only item page row labelled `label` (all of them when repeated)."""
    return page.locator("dl.summary dt", has_text=re.compile(f"^{label}$")).locator("xpath=following-sibling::dd[1]")


def track(pages, tab) -> None:
    """A tab opened in an existing context gets the same JavaScript-error watch as pages.open()."""
    tab.set_default_timeout(15_000)
    tab.on("console", lambda m: m.type == "error" and pages.js_errors.append(f"console.error: {m.text} ({tab.url})"))
    tab.on("pageerror", lambda error: pages.js_errors.append(f"{tab.url}: uncaught {error}"))


def test_change_email_and_add_qualification_then_see_both_in_history(pages, shot, collected):
    page = pages.open(width=375)
    page.goto("/accounts/login/")
    check_step(page, pages, shot, "login")
    log_in(page, collected)
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    check_step(page, pages, shot, "home")

    # 我的首页 → 信息变更: the five items, each with 变更信息.
    page.get_by_role("link", name="信息变更", exact=True).click()
    page.wait_for_url("**/changes/")
    expect(page.get_by_role("link", name="变更信息")).to_have_count(5)
    check_step(page, pages, shot, "menu")

    # 个人信息 → 变更信息: identity facts are shown, not editable; 电子邮箱 is.
    open_item(page, "个人信息")
    expect(page.get_by_text(masked(collected.plain_id_number))).to_be_visible()
    assert collected.plain_id_number not in page.content()
    expect(page.get_by_label("证件号码")).to_have_count(0)
    expect(page.get_by_label("姓名")).to_have_value(NAME)
    expect(page.get_by_label("电子邮箱")).to_have_value(OLD_EMAIL)
    page.get_by_label("电子邮箱").fill(NEW_EMAIL)
    check_step(page, pages, shot, "personal-edit")
    save(page, "个人信息")
    expect(item_value(page, "电子邮箱")).to_have_text(NEW_EMAIL)
    check_step(page, pages, shot, "personal-saved")

    # 专业技术信息 → 变更信息 → 新增 adds a row in the page (no reload) → 保存.
    page.locator("nav[aria-label='信息变更']").get_by_role("link", name="信息变更").click()
    page.wait_for_url("**/changes/")
    open_item(page, "专业技术信息")
    qualifications = page.locator("#section-qualifications")
    rows = qualifications.locator(".formset-row")
    expect(rows).to_have_count(1)
    expect(rows.nth(0).get_by_label("证书号或批文号")).to_have_value(OLD_QUALIFICATION[-1])
    page.evaluate("window.__noReload = true")
    qualifications.get_by_role("button", name="新增").click()
    expect(rows).to_have_count(2)
    assert page.evaluate("window.__noReload === true"), "新增 reloaded the page"
    expect(rows.nth(1).get_by_label("专业技术资格类型")).to_be_focused()
    fill_qualification(rows.nth(1), NEW_QUALIFICATION)
    check_step(page, pages, shot, "professional-edit")
    save(page, "专业技术信息")
    shown = item_value(page, "专业技术资格")
    expect(shown).to_have_count(2)
    # The page lists the rows in text order, not by date: compare as a set.
    assert sorted(t.strip() for t in shown.all_inner_texts()) == sorted(
        qualification_text(q) for q in (OLD_QUALIFICATION, NEW_QUALIFICATION)
    )
    check_step(page, pages, shot, "professional-saved")

    # 变更记录: newest first, each change with 变更前 / 变更后; the certificate number masked.
    page.locator("nav[aria-label='信息变更']").get_by_role("link", name="变更记录").click()
    page.wait_for_url("**/changes/history/")
    cards = page.locator(".card")
    expect(cards).to_have_count(2)
    professional, personal = cards.nth(0), cards.nth(1)
    expect(professional.get_by_role("heading")).to_have_text("专业技术信息")
    expect(professional.locator("li")).to_have_count(1)
    expect(professional.locator("li")).to_have_text(
        re.compile(rf"专业技术资格\s*变更前：—\s*变更后：{re.escape(qualification_text(NEW_QUALIFICATION))}")
    )
    expect(personal.get_by_role("heading")).to_have_text("个人信息")
    expect(personal.locator("li")).to_have_count(1)
    expect(personal.locator("li")).to_have_text(
        re.compile(rf"电子邮箱\s*变更前：{re.escape(OLD_EMAIL)}\s*变更后：{re.escape(NEW_EMAIL)}")
    )
    content = page.content()
    assert NEW_QUALIFICATION[-1] not in content and OLD_QUALIFICATION[-1] not in content
    assert collected.plain_id_number not in content
    check_step(page, pages, shot, "history")

    archive = Archive.objects.get(user=collected)
    assert archive.email == NEW_EMAIL
    assert sorted(archive.qualifications.values_list("certificate_number", flat=True)) == [
        OLD_QUALIFICATION[-1],
        NEW_QUALIFICATION[-1],
    ]
    assert list(ChangeRecord.objects.filter(user=collected).values_list("item", flat=True)) == [
        ChangeItem.PROFESSIONAL,
        ChangeItem.PERSONAL,
    ]


def test_a_save_from_a_stale_tab_is_refused_and_keeps_what_was_typed(pages, shot, collected):
    first = pages.open(width=375)
    log_in(first, collected)
    second = first.context.new_page()  # a second tab: same browser, same session
    track(pages, second)
    for tab in (first, second):
        tab.goto("/changes/")
        open_item(tab, "个人信息")
        expect(tab.get_by_label("电子邮箱")).to_have_value(OLD_EMAIL)

    first.get_by_label("电子邮箱").fill(NEW_EMAIL)
    save(first, "个人信息")
    check_step(first, pages, shot, "first-tab-saved")

    # The second tab still holds the page opened before the first saved.
    second.get_by_label("电子邮箱").fill(OTHER_EMAIL)
    with second.expect_response(lambda r: r.request.method == "POST") as posted:
        second.get_by_role("button", name="保存", exact=True).click()
    assert posted.value.status == 200
    expect(second).to_have_url(re.compile(r".*/changes/personal/edit/$"))
    refusal = second.locator(".alert-warning[role=alert]")
    expect(refusal).to_contain_text("刷新")
    expect(second.locator(".messages .alert-success")).to_have_count(0)
    expect(second.get_by_label("电子邮箱")).to_have_value(OTHER_EMAIL)
    check_step(second, pages, shot, "second-tab-refused")
    assert Archive.objects.get(user=collected).email == NEW_EMAIL
    assert ChangeRecord.objects.filter(user=collected).count() == 1

    # 刷新页面: the first tab's value shows, and saving from the fresh page works.
    refusal.get_by_role("link", name=re.compile("刷新页面")).click()
    second.wait_for_url("**/changes/personal/edit/")
    expect(second.get_by_label("电子邮箱")).to_have_value(NEW_EMAIL)
    expect(second.locator(".alert-warning")).to_have_count(0)
    check_step(second, pages, shot, "second-tab-refreshed")
    second.get_by_label("电子邮箱").fill(OTHER_EMAIL)
    save(second, "个人信息")
    expect(item_value(second, "电子邮箱")).to_have_text(OTHER_EMAIL)
    assert Archive.objects.get(user=collected).email == OTHER_EMAIL
    assert ChangeRecord.objects.filter(user=collected).count() == 2


def test_change_mobile_with_sms_code_and_password(pages, shot, collected, tasks_run):
    old_mobile = str(collected.mobile)
    page = pages.open(width=375)
    log_in(page, collected)
    page.goto("/changes/")
    open_item(page, "联系方式")
    current = old_mobile[-11:]
    expect(page.get_by_text(f"当前手机号码：{current[:3]}****{current[-4:]}")).to_be_visible()
    check_step(page, pages, shot, "contact-edit")

    # 获取短信验证码 with JavaScript: no reload, a countdown on the button.
    page.get_by_label("新手机号码").fill(NEW_MOBILE)
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.locator("[data-sms-status]")).to_have_text("短信验证码已发送至新手机号码，请查收。")
    expect(page.get_by_role("button", name=re.compile(r"^\d+ 秒后重新获取$"))).to_be_disabled()
    assert page.evaluate("window.__noReload === true"), "获取短信验证码 reloaded the page"
    expect(page.get_by_label("新手机号码")).to_have_value(NEW_MOBILE)
    check_step(page, pages, shot, "contact-code-sent")

    message = wait_for(
        lambda: SmsMessage.objects.filter(mobile="+86" + NEW_MOBILE, body__contains="验证码").order_by("-id").first(),
        message="a code in the SMS outbox",
    )
    page.get_by_label("短信验证码").fill(re.search(r"验证码(\d{6})", message.body).group(1))
    page.get_by_label("当前登录密码").fill(collected.plain_password)
    check_step(page, pages, shot, "contact-filled")
    save(page, "联系方式")
    expect(item_value(page, "手机号码")).to_have_text(f"{NEW_MOBILE[:3]}****{NEW_MOBILE[-4:]}")
    check_step(page, pages, shot, "contact-saved")

    assert str(User.objects.get(pk=collected.pk).mobile) == "+86" + NEW_MOBILE
    notice = wait_for(
        lambda: SmsMessage.objects.filter(mobile=old_mobile, body__contains="已变更", status=SmsStatus.SENT).first(),
        message="the change notice sent to the old number",
    )
    assert f"{NEW_MOBILE[:3]}****{NEW_MOBILE[-4:]}" in notice.body and NEW_MOBILE not in notice.body

    page.locator("nav[aria-label='信息变更']").get_by_role("link", name="变更记录").click()
    page.wait_for_url("**/changes/history/")
    expect(page.locator(".card li")).to_have_text(
        re.compile(
            rf"手机号码\s*变更前：{current[:3]}\*{{4}}{current[-4:]}\s*变更后：{NEW_MOBILE[:3]}\*{{4}}{NEW_MOBILE[-4:]}"
        )
    )
    assert NEW_MOBILE not in page.content()
    check_step(page, pages, shot, "contact-history")
