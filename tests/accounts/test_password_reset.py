"""忘记密码 (manual 2.2): 填写账号信息 + 短信验证码 → 下一步 → 设置新密码 → 完成."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import SmsCode, SmsMessage, SmsStatus, UserSession
from tests.accounts.test_login import HOME, LOGIN, fail, is_logged_in, normalised, session_key
from tests.accounts.test_views import labels, latest_code, log_in, new_mobile, page_text
from tests.conftest import wait_for
from tests.factories import AccountFactory, make_id_number

RESET = reverse("accounts:password_reset")
RESET_SET = reverse("accounts:password_reset_set")
SMS_URL = reverse("accounts:sms_code_send")
NEW_PASSWORD = "Xin#Mima2026"


def details(user) -> dict[str, str]:
    return {"name": user.name, "id_number": user.plain_id_number, "mobile": str(user.mobile.national_number)}


def ask_code(client, data: dict[str, str]):
    return client.post(RESET, {**data, "action": "send_code"})


def verify(client, user):
    """Step 1 for `user`: ask for the code, read it from the outbox, 下一步."""
    data = details(user)
    assert ask_code(client, data).status_code == 200
    return client.post(RESET, {**data, "sms_code": latest_code(data["mobile"])})


def complete(client, password: str = NEW_PASSWORD):
    return client.post(RESET_SET, {"new_password1": password, "new_password2": password})


def outbox_to(mobile: str):
    return SmsMessage.objects.filter(mobile="+86" + mobile)


def store():
    return import_module(settings.SESSION_ENGINE).SessionStore


# --- step 1 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_step_one_has_the_manual_labels_and_buttons(client):
    response = client.get(RESET)
    assert labels(response) == {"name": "姓名", "id_number": "证件号码", "mobile": "手机号码", "sms_code": "短信验证码"}
    html = page_text(response)
    assert ">获取短信验证码</button>" in html
    assert 'value="下一步"' in html


def _non_matching_cases():
    """(description, typed details) for details that match no account."""
    other = AccountFactory(name="赵六")
    by_mobile = AccountFactory(name="钱七")
    return [
        ("wrong name", {**details(other), "name": "赵六六"}),
        ("wrong mobile", {**details(by_mobile), "mobile": new_mobile()}),
        ("unknown ID", {"name": "孙八", "id_number": make_id_number(), "mobile": new_mobile()}),
    ]


@pytest.mark.django_db
def test_page_answers_the_same_whether_or_not_the_details_match(client):
    user = AccountFactory(name="周五")
    matched = ask_code(client, details(user))
    assert matched.status_code == 200
    assert matched.context["sms_status"] == "success"
    assert "短信验证码已发送" in matched.context["sms_message"]
    assert outbox_to(details(user)["mobile"]).count() == 1
    for case, typed in _non_matching_cases():
        other = ask_code(Client(), typed)
        assert other.status_code == matched.status_code, case
        for key in ("sms_status", "sms_message", "retry_after"):
            assert other.context[key] == matched.context[key], (case, key)
        assert normalised(page_text(other), *typed.values()) == normalised(
            page_text(matched), *details(user).values()
        ), case
        assert not outbox_to(typed["mobile"]).exists(), case
        assert not SmsCode.objects.filter(mobile="+86" + typed["mobile"]).exists(), case
    assert SmsCode.objects.count() == 1


@pytest.mark.django_db
def test_json_answers_the_same_whether_or_not_the_details_match(client):
    user = AccountFactory(name="吴九")
    matched = client.post(SMS_URL, {"purpose": "reset", **details(user)})
    assert matched.status_code == 200
    assert matched.json() == {
        "ok": True,
        "message": "如姓名、证件号码与手机号码匹配，短信验证码已发送至该手机号码，请查收。",
        "retry_after": 60,
    }
    assert outbox_to(details(user)["mobile"]).count() == 1
    for case, typed in _non_matching_cases():
        other = Client().post(SMS_URL, {"purpose": "reset", **typed})
        assert (other.status_code, other.json()) == (matched.status_code, matched.json()), case
        assert not outbox_to(typed["mobile"]).exists(), case
    # A second ask within 60 s is refused alike, matched or not.
    again = client.post(SMS_URL, {"purpose": "reset", **details(user)})
    assert again.status_code == 429 and 0 < again.json()["retry_after"] <= 60
    assert outbox_to(details(user)["mobile"]).count() == 1


@pytest.mark.django_db
def test_sms_limits_do_not_tell_whether_the_details_matched(client, settings):
    settings.SMS_RESEND_SECONDS = 0
    settings.SMS_DAILY_LIMIT_PER_PHONE = 1
    user = AccountFactory()
    first = client.post(SMS_URL, {"purpose": "reset", **details(user)})
    assert first.status_code == 200
    assert outbox_to(details(user)["mobile"]).count() == 1
    # The matching mobile has had its one code for today; a stranger's has had none.
    over_limit = client.post(SMS_URL, {"purpose": "reset", **details(user)})
    stranger = client.post(
        SMS_URL, {"purpose": "reset", "name": "无名", "id_number": make_id_number(), "mobile": new_mobile()}
    )
    assert (over_limit.status_code, over_limit.json()) == (stranger.status_code, stranger.json()) == (200, first.json())
    assert outbox_to(details(user)["mobile"]).count() == 1


@pytest.mark.django_db
def test_json_reset_request_with_an_invalid_mobile_is_400(client):
    user = AccountFactory()
    response = client.post(SMS_URL, {"purpose": "reset", **details(user), "mobile": "1391234"})
    assert response.status_code == 400
    assert response.json()["message"] == "请输入正确的 11 位手机号码。"
    assert SmsCode.objects.count() == 0


@pytest.mark.django_db
def test_wrong_code_keeps_the_person_on_step_one(client):
    user = AccountFactory()
    data = details(user)
    ask_code(client, data)
    right = latest_code(data["mobile"])
    response = client.post(RESET, {**data, "sms_code": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert response.status_code == 200
    assert response.context["form"].errors["sms_code"][0].startswith("短信验证码不正确")
    assert client.get(RESET_SET)["Location"] == RESET


@pytest.mark.django_db
def test_right_code_with_details_of_no_account_is_refused(client):
    user = AccountFactory()
    data = details(user)
    ask_code(client, data)
    code = latest_code(data["mobile"])
    response = client.post(RESET, {**data, "name": "别人", "sms_code": code})
    assert response.status_code == 200
    assert "不匹配" in response.context["form"].errors["sms_code"][0]
    assert client.get(RESET_SET)["Location"] == RESET


@pytest.mark.django_db
def test_step_two_without_step_one_goes_to_step_one(client):
    response = client.get(RESET_SET)
    assert response.status_code == 302
    assert response["Location"] == RESET
    assert "请先验证身份信息" in page_text(client.get(RESET))
    assert complete(client)["Location"] == RESET


# --- step 2 and the whole flow -------------------------------------------------------------------


@pytest.mark.django_db
def test_step_two_has_the_manual_labels_and_applies_the_policy(client):
    user = AccountFactory()
    assert verify(client, user)["Location"] == RESET_SET
    response = client.get(RESET_SET)
    assert labels(response) == {"new_password1": "新密码", "new_password2": "确认密码"}
    assert 'value="完成"' in page_text(response)
    with_id = complete(client, "Kj#" + user.plain_id_number)
    assert with_id.context["form"].errors["new_password1"] == ["密码不能包含证件号码。"]
    with_mobile = complete(client, "Kj#" + str(user.mobile.national_number))
    assert with_mobile.context["form"].errors["new_password1"] == ["密码不能包含手机号码。"]
    short = complete(client, "Kj#1")
    assert short.context["form"].errors["new_password1"] == ["密码长度不能少于 8 位。"]
    mismatch = client.post(RESET_SET, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"})
    assert mismatch.context["form"].errors["new_password2"] == ["两次输入的密码不一致。"]
    user.refresh_from_db()
    assert user.check_password(user.plain_password)


def test_reset_changes_the_password_ends_every_session_and_tells_the_owner(tasks_run):
    user = AccountFactory()
    mobile = str(user.mobile.national_number)
    phone, laptop = Client(), Client()
    assert log_in(phone, user).status_code == 302
    assert log_in(laptop, user).status_code == 302
    keys = [session_key(phone), session_key(laptop)]
    assert is_logged_in(phone) and is_logged_in(laptop)

    helper = Client()
    step_one = verify(helper, user)
    assert step_one.status_code == 302
    assert step_one["Location"] == RESET_SET
    done = complete(helper)
    assert done.status_code == 302
    assert done["Location"] == LOGIN
    assert "密码已重置" in page_text(helper.get(LOGIN))

    # Every session of the account is gone from the store, not only unusable.
    for key in keys:
        assert not store()().exists(key)
    assert not UserSession.objects.filter(user=user).exists()
    assert not is_logged_in(phone)
    assert not is_logged_in(laptop)

    notice = outbox_to(mobile).filter(body__contains="密码已重置").get()
    wait_for(lambda: SmsMessage.objects.get(pk=notice.pk).status == SmsStatus.SENT, message="the notice SMS")

    assert log_in(Client(), user).status_code == 200  # old password: refused
    response = log_in(Client(), user, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_step_two_token_is_single_use(tasks_run):
    user = AccountFactory()
    client = Client()
    verify(client, user)
    token = client.session["password_reset"]["token"]
    assert services.password_reset_token_valid(user=user, token=token)
    assert complete(client).status_code == 302
    response = client.get(RESET_SET)
    assert response.status_code == 302
    assert response["Location"] == RESET
    user.refresh_from_db()
    assert not services.password_reset_token_valid(user=user, token=token)
    # Putting the used token back into a session does not open step 2 again.
    session = client.session
    session["password_reset"] = {"uid": user.pk, "token": token}
    session.save()
    assert client.get(RESET_SET)["Location"] == RESET
    assert complete(client, "Another#Pass2026")["Location"] == RESET
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_reset_lifts_the_lockout(tasks_run):
    user = AccountFactory()
    attacker = Client()
    for _ in range(5):
        fail(attacker, user.plain_id_number)
    assert log_in(Client(), user).status_code == 429
    helper = Client()
    verify(helper, user)
    assert complete(helper)["Location"] == LOGIN
    response = log_in(Client(), user, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == HOME


@pytest.mark.django_db
def test_a_code_is_good_for_one_reset_only(client):
    user = AccountFactory()
    data = details(user)
    ask_code(client, data)
    code = latest_code(data["mobile"])
    assert client.post(RESET, {**data, "sms_code": code})["Location"] == RESET_SET
    again = Client().post(RESET, {**data, "sms_code": code})
    assert again.status_code == 200
    assert re.match("请先获取短信验证码|短信验证码已使用", again.context["form"].errors["sms_code"][0])
