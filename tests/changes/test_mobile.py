"""联系方式: a new mobile number proves itself by SMS and the person by the current
password; the old number is told; the record never holds a full number."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from accounts.identity import mask_mobile
from accounts.models import SmsCode, SmsMessage, SmsStatus, User
from accounts.services import mobile_is_bound
from tests.accounts.test_views import labels, latest_code, log_in, new_mobile
from tests.changes.helpers import (
    SMS_URL,
    collect,
    current_version,
    edit_url,
    form_values,
    item_url,
    messages_of,
    only_record,
    records,
    text,
)
from tests.collection.steps import page_errors, unique_digits
from tests.conftest import wait_for
from tests.factories import ACCOUNT_PASSWORD, AccountFactory

pytestmark = pytest.mark.django_db

EDIT = edit_url("contact")
IP = "198.51.100.23"


def national(user) -> str:
    return str(user.mobile.national_number)


def outbox(mobile: str):
    return SmsMessage.objects.filter(mobile="+86" + mobile).order_by("id")


def ask_code(client, mobile: str):
    return client.post(SMS_URL, {"purpose": "change_phone", "mobile": mobile})


def change(client, user, mobile: str, *, code: str | None = None, password: str = ACCOUNT_PASSWORD):
    return client.post(EDIT, {"version": current_version(user), "mobile": mobile,
                              "sms_code": latest_code(mobile) if code is None else code, "password": password},
                       REMOTE_ADDR=IP)


def assert_unchanged(user, mobile_before) -> None:
    assert User.objects.get(pk=user.pk).mobile == mobile_before
    assert not records(user)


# --- 获取短信验证码 ---------------------------------------------------------------------------


def test_code_request_needs_login(client, reference_data):
    mobile = new_mobile()
    response = ask_code(client, mobile)
    assert response.status_code == 403
    assert response.json()["ok"] is False and response.json()["message"] == "请先登录。"
    assert not outbox(mobile).exists()


def test_code_goes_to_the_new_number(client, collected):
    user, mobile = collected.user, new_mobile()
    response = ask_code(client, mobile)
    assert response.status_code == 200, response.json()
    assert response.json() == {"ok": True, "message": "短信验证码已发送至新手机号码，请查收。", "retry_after": 60}
    [message] = outbox(mobile)
    assert "变更手机号码" in message.body and len(latest_code(mobile)) == 6
    assert not outbox(national(user)).exists()


def test_code_refused_for_the_current_number(client, collected):
    current = national(collected.user)
    response = ask_code(client, current)
    assert response.status_code == 400 and response.json()["message"] == "新手机号码与当前手机号码相同。"
    assert not outbox(current).exists()


def test_code_refused_for_a_number_bound_to_another_account(client, collected):
    other = national(AccountFactory())
    response = ask_code(client, other)
    assert response.status_code == 400 and "已绑定其他账号" in response.json()["message"]
    assert not outbox(other).exists()


@pytest.mark.parametrize("mobile", ["", "12345", "23800000000"])
def test_code_refused_for_a_bad_number(client, collected, mobile):
    response = ask_code(client, mobile)
    assert response.status_code == 400 and not response.json()["ok"]
    assert not SmsMessage.objects.filter(body__contains="变更手机号码").exists()


def test_no_javascript_send_code_round_trip_keeps_what_was_typed(client, collected):
    mobile = new_mobile()
    response = client.post(EDIT, {"action": "send_code", "version": collected.version, "mobile": mobile,
                                  "sms_code": "", "password": "typed-secret"})
    assert response.status_code == 200
    html = text(response)
    assert "短信验证码已发送至新手机号码，请查收。" in html
    values = form_values(response)
    assert values["mobile"] == mobile and values["version"] == str(collected.version)
    assert values["password"] == "" and "typed-secret" not in html  # a password is never sent back
    assert not page_errors(response)  # asking for a code is not a save
    assert len(outbox(mobile)) == 1 and not records(collected.user)

    # the code from that SMS and the password: saved
    response = change(client, collected.user, mobile)
    assert response.status_code == 302 and response.url == item_url("contact"), page_errors(response)


def test_no_javascript_send_code_to_the_current_number_says_why(client, collected):
    response = client.post(EDIT, {"action": "send_code", "version": collected.version,
                                  "mobile": national(collected.user)})
    assert response.status_code == 200
    assert "新手机号码与当前手机号码相同。" in text(response) and "alert-danger" in text(response)


# --- 保存 --------------------------------------------------------------------------------------


def test_contact_pages_show_the_masked_number_and_the_three_fields(client, collected):
    current = national(collected.user)
    detail = text(client.get(item_url("contact")))
    assert mask_mobile(current) in detail and current not in detail
    page = client.get(EDIT)
    assert mask_mobile(current) in text(page) and current not in text(page)
    assert labels(page) == {"mobile": "新手机号码", "sms_code": "短信验证码", "password": "当前登录密码"}
    assert ">获取短信验证码</button>" in text(page) and ">保存</button>" in text(page)
    assert 'data-sms-purpose="change_phone"' in text(page)


def test_mobile_change_with_code_and_password(client, collected, caplog):
    caplog.set_level(logging.INFO)
    user = collected.user
    old, new = national(user), new_mobile()
    assert ask_code(client, new).status_code == 200
    response = change(client, user, new)
    assert response.status_code == 302 and response.url == item_url("contact"), page_errors(response)
    assert "联系方式已保存，变更已记入变更记录。" in messages_of(response)

    assert str(User.objects.get(pk=user.pk).mobile) == "+86" + new
    record = only_record(user)
    assert record.item == "contact" and record.ip_address == IP
    assert record.changes == [{"field": "mobile", "label": "手机号码", "old": mask_mobile(old),
                               "new": mask_mobile(new)}]
    assert mask_mobile(new) == f"{new[:3]}****{new[-4:]}"
    stored = json.dumps(record.changes)
    assert old not in stored and new not in stored

    # the old number is told, with the new one masked
    [notice] = outbox(old)
    assert "已变更" in notice.body and mask_mobile(new) in notice.body and new not in notice.body
    assert [m.body for m in outbox(new)] and all("验证码" in m.body for m in outbox(new))

    # the old number is free again (registration may use it), the new one is bound
    assert not mobile_is_bound(mobile="+86" + old) and mobile_is_bound(mobile="+86" + new)
    anonymous = Client()
    anonymous.post("/accounts/register/eligibility/", {"works_in_guizhou": "yes", "holds_qualification": "no"})
    response = anonymous.post(SMS_URL, {"purpose": "register", "mobile": old})
    assert response.status_code == 200, response.json()
    response = anonymous.post(SMS_URL, {"purpose": "register", "mobile": new})
    assert response.status_code == 400 and "已绑定" in response.json()["message"]

    # no log line carries either number in full
    assert new not in caplog.text and old not in caplog.text

    # the page shows the new number masked; the code cannot be used twice
    assert mask_mobile(new) in text(client.get(item_url("contact")))
    assert not SmsMessage.objects.filter(mobile="+86" + new, body__contains="已变更").exists()


def test_login_still_works_after_the_change(client, person, collected):
    new = new_mobile()
    ask_code(client, new)
    assert change(client, collected.user, new).status_code == 302
    other = Client()
    assert log_in(other, person).status_code == 302
    assert other.get(item_url("contact")).status_code == 200


def test_same_looking_masked_number_is_still_a_change(client, collected):
    """139****1234 → 139****1234 with other middle digits: a new number, saved and recorded."""
    old = national(collected.user)
    new = old[:3] + next(d for d in (unique_digits(4) for _ in range(20)) if d != old[3:7]) + old[7:]
    assert mask_mobile(new) == mask_mobile(old)
    assert ask_code(client, new).status_code == 200
    response = change(client, collected.user, new)
    assert response.status_code == 302, page_errors(response)
    assert "没有修改任何信息" not in " ".join(messages_of(response))
    assert str(User.objects.get(pk=collected.user.pk).mobile) == "+86" + new
    assert len(only_record(collected.user).changes) == 1
    assert outbox(old).filter(body__contains="已变更").count() == 1


def test_wrong_password_changes_nothing(client, collected):
    user, new = collected.user, new_mobile()
    ask_code(client, new)
    code = latest_code(new)
    response = change(client, user, new, code=code, password="Wrong#Pass2026")
    assert response.status_code == 200
    assert "当前登录密码不正确。" in text(response)
    assert form_values(response)["mobile"] == new  # what was typed is kept
    assert_unchanged(user, collected.user.mobile)
    assert not outbox(national(user)).exists()
    # the code was not spent on the refused try
    assert change(client, user, new, code=code).status_code == 302


def test_five_wrong_passwords_lock_the_check_even_for_the_right_one(client, collected):
    user, new = collected.user, new_mobile()
    ask_code(client, new)
    for _ in range(5):
        response = change(client, user, new, password="Wrong#Pass2026")
        assert "当前登录密码不正确。" in text(response)
    response = change(client, user, new)  # right code, right password
    assert response.status_code == 200
    assert "密码错误次数过多" in text(response)
    assert_unchanged(user, collected.user.mobile)


@pytest.mark.parametrize("case", ["wrong", "missing", "other_number"])
def test_the_sms_code_must_be_the_new_numbers(client, collected, case):
    user, new = collected.user, new_mobile()
    if case == "wrong":
        ask_code(client, new)
        code, message = f"{(int(latest_code(new)) + 1) % 1000000:06d}", "短信验证码不正确"
    elif case == "missing":
        code, message = "123456", "请先获取短信验证码。"
    else:
        elsewhere = new_mobile()
        ask_code(client, elsewhere)
        code, message = latest_code(elsewhere), "请先获取短信验证码。"
    response = change(client, user, new, code=code)
    assert response.status_code == 200 and message in text(response)
    assert_unchanged(user, collected.user.mobile)


def test_the_code_is_spent_by_the_change(client, collected):
    new = new_mobile()
    ask_code(client, new)
    assert change(client, collected.user, new).status_code == 302
    assert SmsCode.objects.get(mobile="+86" + new, purpose="change_phone").used_at is not None


def test_a_number_taken_after_the_code_was_sent_is_refused(client, collected):
    user, new = collected.user, new_mobile()
    ask_code(client, new)
    AccountFactory(mobile="+86" + new)  # someone registers it meanwhile
    response = change(client, user, new)
    assert response.status_code == 200 and "已绑定其他账号" in text(response)
    assert_unchanged(user, collected.user.mobile)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"mobile": "123"}, "mobile", "请输入正确的 11 位手机号码。"),
    ({"sms_code": "12"}, "sms_code", "短信验证码为 6 位数字。"),
    ({"password": ""}, "password", "请输入当前登录密码。"),
])
def test_form_validation(client, collected, data, field, message):
    post = {"version": collected.version, "mobile": new_mobile(), "sms_code": "123456",
            "password": ACCOUNT_PASSWORD, **data}
    response = client.post(EDIT, post)
    assert response.status_code == 200
    assert f'id="error_1_id_{field}"' in text(response) and message in text(response)
    assert_unchanged(collected.user, collected.user.mobile)


def test_the_old_numbers_notice_is_really_sent(tasks_run, reference_data, accountant):
    """Through the outbox and the task (the Celery worker when Redis is configured)."""
    client = Client()
    client.force_login(accountant)
    collect(client, accountant)
    old, new = national(accountant), new_mobile()
    assert ask_code(client, new).status_code == 200
    response = change(client, accountant, new)
    assert response.status_code == 302, page_errors(response)
    notice = wait_for(lambda: outbox(old).filter(body__contains="已变更", status=SmsStatus.SENT).first(),
                      message="the notice to the old number to be sent")
    assert mask_mobile(new) in notice.body and notice.attempts == 1
    assert len(only_record(accountant).changes) == 1
