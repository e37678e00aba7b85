"""The manual's sections 2.1-2.2 in a real browser: register with an SMS code,
log in, log out, reset the password, log in again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import F

from accounts.models import SmsCode, SmsMessage, User
from tests.conftest import wait_for
from tests.factories import make_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kj#Browser2026"
NEW_PASSWORD = "Nw$Browser2027"


def latest_code(mobile: str) -> str:
    message = wait_for(
        lambda: SmsMessage.objects.filter(mobile="+86" + mobile, body__contains="验证码").order_by("-id").first(),
        message="a code in the SMS outbox",
    )
    return re.search(r"验证码(\d{6})", message.body).group(1)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_register_login_logout_reset_login(page, shot, live_server):
    id_number = make_id_number(birth="19880512")
    mobile = "13712345678"

    page.goto("/")
    assert no_horizontal_scroll(page)
    shot(page, "home")
    page.get_by_role("link", name="用户注册").first.click()

    # 第二步：选择信息采集对象
    page.get_by_text("是否在贵州省内从事会计工作").wait_for()
    page.locator("#id_works_in_guizhou_0").check()
    page.locator("#id_holds_qualification_1").check()
    shot(page, "eligibility")
    page.get_by_role("button", name="下一步").click()

    # 第三步：填写注册信息
    page.get_by_label("姓名").fill("王五")
    page.get_by_label("证件类型").select_option(label="居民身份证")
    page.get_by_label("证件号码").fill(id_number.lower())
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_label("手机号码").fill(mobile)
    page.get_by_role("button", name="获取短信验证码").click()
    status = page.locator("[data-sms-status]")
    status.get_by_text("短信验证码已发送").wait_for()
    # JavaScript countdown on the button, and the page did not reload.
    page.get_by_role("button", name=re.compile(r"\d+ 秒后重新获取")).wait_for()
    assert page.get_by_label("姓名").input_value() == "王五"
    assert no_horizontal_scroll(page)
    shot(page, "register-code-sent")
    page.get_by_label("短信验证码").fill(latest_code(mobile))
    page.get_by_role("button", name="注册").click()

    page.get_by_text("注册成功").wait_for()
    assert page.url.endswith("/accounts/login/")
    assert User.objects.filter(mobile="+86" + mobile, name="王五").count() == 1
    shot(page, "login-after-register")

    # 登录
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("您好，王五").wait_for()
    masked = id_number[:6] + "********" + id_number[-4:]
    assert page.get_by_test_id("masked-id").inner_text() == masked
    assert id_number not in page.content()
    assert page.get_by_test_id("collection-status").inner_text() == "未采集"
    shot(page, "personal-home")

    page.get_by_role("button", name="退出").click()
    page.get_by_text("您已安全退出").wait_for()
    page.goto("/accounts/home/")
    assert "/accounts/login/" in page.url

    # 忘记密码 (the registration code was less than 60 s ago: let that time pass)
    SmsCode.objects.filter(mobile="+86" + mobile).update(created_at=F("created_at") - timedelta(seconds=61))
    page.goto("/")
    page.get_by_role("link", name="忘记密码").click()
    page.get_by_label("姓名").fill("王五")
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("手机号码").fill(mobile)
    page.get_by_role("button", name="获取短信验证码").click()
    page.locator("[data-sms-status]").get_by_text("短信验证码已发送至该手机号码").wait_for()
    code = wait_for(lambda: _reset_code(mobile), message="the reset code")
    page.get_by_label("短信验证码").fill(code)
    shot(page, "reset-step1")
    page.get_by_role("button", name="下一步").click()
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    shot(page, "reset-step2")
    page.get_by_role("button", name="完成").click()
    page.get_by_text("密码已重置").wait_for()
    assert SmsMessage.objects.filter(mobile="+86" + mobile, body__contains="密码已重置").exists()

    # The old password no longer works; the new one does.
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("证件号码或密码错误").wait_for()
    page.get_by_label("证件号码").fill(id_number)
    page.locator("#id_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("您好，王五").wait_for()
    shot(page, "logged-in-again")


def _reset_code(mobile: str) -> str | None:
    message = (
        SmsMessage.objects.filter(mobile="+86" + mobile, body__contains="找回密码").order_by("-id").first()
    )
    return re.search(r"验证码(\d{6})", message.body).group(1) if message else None


def test_sms_button_without_javascript_keeps_what_was_typed(browser, live_server, shot):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 375, "height": 812}
    )
    page = context.new_page()
    try:
        page.goto("/accounts/register/")
        page.locator("#id_works_in_guizhou_0").check()
        page.locator("#id_holds_qualification_0").check()
        page.get_by_role("button", name="下一步").click()
        id_number = make_id_number()
        page.get_by_label("姓名").fill("赵六")
        page.get_by_label("证件号码").fill(id_number)
        page.locator("#id_password1").fill(PASSWORD)
        page.locator("#id_password2").fill(PASSWORD)
        page.get_by_label("手机号码").fill("13600001111")
        page.get_by_role("button", name="获取短信验证码").click()
        page.get_by_text("短信验证码已发送").wait_for()
        assert page.get_by_label("姓名").input_value() == "赵六"
        assert page.get_by_label("证件号码").input_value() == id_number
        assert page.get_by_label("手机号码").input_value() == "13600001111"
        assert page.locator("#id_password1").input_value() == PASSWORD
        shot(page, "nojs-code-sent")
        page.get_by_label("短信验证码").fill(latest_code("13600001111"))
        page.get_by_role("button", name="注册").click()
        page.get_by_text("注册成功").wait_for()
        assert User.objects.filter(name="赵六").count() == 1
    finally:
        context.close()
