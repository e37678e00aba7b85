"""用户注册 (manual 2.1): 选择信息采集对象 → 填写注册信息, with and without JavaScript,
and the password policy."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.identity import id_lookup_hash
from accounts.models import SmsCode, SmsMessage, User
from tests.accounts.test_views import (
    GOOD_PASSWORD,
    choose_eligibility,
    labels,
    latest_code,
    new_mobile,
    page_text,
    register_data,
    register_via_views,
)
from tests.factories import AccountFactory, make_id_number

pytestmark = pytest.mark.django_db

REGISTER = reverse("accounts:register")
ELIGIBILITY = reverse("accounts:register_eligibility")


def user_with_id(id_number: str) -> User | None:
    return User.objects.filter(id_hash=id_lookup_hash(id_number)).first()


def codes_sent_to(mobile: str) -> int:
    return (
        SmsCode.objects.filter(mobile="+86" + mobile).count() + SmsMessage.objects.filter(mobile="+86" + mobile).count()
    )


# --- step 1: 选择信息采集对象 -------------------------------------------------------------


def test_eligibility_page_asks_the_two_questions(client):
    html = page_text(client.get(ELIGIBILITY))
    assert "是否在贵州省内从事会计工作" in html
    assert "是否持有会计专业技术资格证书" in html
    assert html.count('type="radio"') == 4
    assert 'value="下一步"' in html


def test_neither_answer_yes_means_no_collection_is_needed(client):
    response = choose_eligibility(client, works="no", holds="no")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register_not_needed")
    page = client.get(response["Location"])
    assert "无须" in page_text(page)
    # ... and the registration form stays closed.
    assert client.get(REGISTER)["Location"] == ELIGIBILITY


def test_answering_no_after_yes_closes_the_form_again(client):
    choose_eligibility(client, works="yes", holds="no")
    assert client.get(REGISTER).status_code == 200
    choose_eligibility(client, works="no", holds="no")
    response = client.get(REGISTER)
    assert response.status_code == 302
    assert response["Location"] == ELIGIBILITY


@pytest.mark.parametrize("works, holds", [("yes", "no"), ("no", "yes"), ("yes", "yes")])
def test_any_yes_leads_to_step_two(client, works, holds):
    response = choose_eligibility(client, works=works, holds=holds)
    assert response.status_code == 302
    assert response["Location"] == REGISTER
    assert client.get(REGISTER).status_code == 200


def test_unanswered_questions_are_asked_again_in_chinese(client):
    response = client.post(ELIGIBILITY, {"works_in_guizhou": "yes"})
    assert response.status_code == 200
    assert response.context["form"].errors["holds_qualification"] == ["请选择是或否。"]


def test_step_two_without_step_one_goes_back_to_step_one(client):
    response = client.get(REGISTER)
    assert response.status_code == 302
    assert response["Location"] == ELIGIBILITY
    # Posting straight to step 2 creates nothing either.
    data = {**register_data(), "sms_code": "123456"}
    response = client.post(REGISTER, data)
    assert response["Location"] == ELIGIBILITY
    assert user_with_id(data["id_number"]) is None


@pytest.mark.parametrize("works, holds", [("yes", "no"), ("no", "yes")])
def test_answers_are_kept_on_the_account(client, works, holds):
    choose_eligibility(client, works=works, holds=holds)
    data = register_data()
    client.post(REGISTER, {**data, "action": "send_code"})
    response = client.post(REGISTER, {**data, "sms_code": latest_code(data["mobile"])})
    assert response.status_code == 302
    user = user_with_id(data["id_number"])
    assert user.works_in_guizhou is (works == "yes")
    assert user.holds_qualification is (holds == "yes")


# --- step 2: 填写注册信息 -------------------------------------------------------------------


def test_form_has_the_manual_labels_and_buttons(client):
    choose_eligibility(client)
    response = client.get(REGISTER)
    html = page_text(response)
    assert labels(response) == {
        "name": "姓名",
        "id_type": "证件类型",
        "id_number": "证件号码",
        "password1": "密码",
        "password2": "确认密码",
        "mobile": "手机号码",
        "sms_code": "短信验证码",
    }
    assert "<button" in html and ">获取短信验证码</button>" in html
    assert 'value="注册"' in html
    assert ">居民身份证</option>" in html


def test_successful_registration_goes_to_login_with_a_message(client):
    response, data = register_via_views(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    page = client.get(response["Location"])
    assert "注册成功" in page_text(page)
    user = user_with_id(data["id_number"])
    assert user.name == "张三"
    assert str(user.mobile) == "+86" + data["mobile"]
    assert user.check_password(GOOD_PASSWORD)
    # The person can now log in with what they registered.
    login = client.post(reverse("accounts:login"), {"id_number": data["id_number"], "password": GOOD_PASSWORD})
    assert login["Location"] == reverse("accounts:home")


def test_id_already_registered_is_told_with_login_and_reset_links(client):
    existing = AccountFactory()
    response, data = register_via_views(client, id_number=existing.plain_id_number)
    html = page_text(response)
    assert response.status_code == 200
    assert "该证件号码已注册" in html
    assert f'href="{reverse("accounts:login")}">登录</a>' in html
    assert f'href="{reverse("accounts:password_reset")}">忘记密码</a>' in html
    assert User.objects.filter(id_hash=existing.id_hash).count() == 1
    assert not User.objects.filter(mobile="+86" + data["mobile"]).exists()


def test_id_already_registered_with_lower_case_x_is_the_same_person(client):
    existing = AccountFactory(id_number=_id_ending_in_x())
    response, _ = register_via_views(client, id_number=existing.plain_id_number.lower())
    assert "该证件号码已注册" in page_text(response)
    assert User.objects.filter(id_hash=existing.id_hash).count() == 1


def test_mobile_already_bound_is_told_and_no_second_account(client):
    existing = AccountFactory()
    choose_eligibility(client)
    data = register_data(mobile=str(existing.mobile.national_number))
    # The code itself is refused for a bound mobile, so a made-up one is typed.
    response = client.post(REGISTER, {**data, "sms_code": "123456"})
    html = page_text(response)
    assert "该手机号码已绑定其他账号" in html
    assert f'href="{reverse("accounts:login")}">登录</a>' in html
    assert f'href="{reverse("accounts:password_reset")}">忘记密码</a>' in html
    assert user_with_id(data["id_number"]) is None
    assert User.objects.filter(mobile=existing.mobile).count() == 1


def test_bad_check_character_is_refused_on_the_field_and_nothing_stored(client):
    choose_eligibility(client)
    good = make_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    data = register_data(id_number=bad)
    client.post(REGISTER, {**data, "action": "send_code"})
    users_before = User.objects.count()
    response = client.post(REGISTER, {**data, "sms_code": latest_code(data["mobile"])})
    assert response.status_code == 200
    assert response.context["form"].errors["id_number"] == ["证件号码校验位不正确，请核对后重新输入。"]
    assert "证件号码校验位不正确" in page_text(response)
    assert User.objects.count() == users_before
    assert user_with_id(bad) is None and user_with_id(good) is None
    # The code was not used up by the failed submit.
    assert SmsCode.objects.get(mobile="+86" + data["mobile"]).used_at is None


def test_wrong_sms_code_is_refused_and_nothing_stored(client):
    choose_eligibility(client)
    data = register_data()
    client.post(REGISTER, {**data, "action": "send_code"})
    right = latest_code(data["mobile"])
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(REGISTER, {**data, "sms_code": wrong})
    assert response.status_code == 200
    errors = response.context["form"].errors["sms_code"]
    assert errors and errors[0].startswith("短信验证码不正确")
    assert user_with_id(data["id_number"]) is None


def test_code_without_asking_for_one_is_refused(client):
    choose_eligibility(client)
    data = register_data()
    response = client.post(REGISTER, {**data, "sms_code": "123456"})
    assert response.context["form"].errors["sms_code"] == ["请先获取短信验证码。"]
    assert user_with_id(data["id_number"]) is None


def test_typed_values_are_kept_after_a_failed_submit(client):
    choose_eligibility(client)
    data = register_data(name="欧阳娜娜", password2=GOOD_PASSWORD + "x")
    response = client.post(REGISTER, {**data, "sms_code": "123456"})
    assert response.context["form"].errors["password2"] == ["两次输入的密码不一致。"]
    html = page_text(response)
    assert 'value="欧阳娜娜"' in html
    assert f'value="{data["id_number"]}"' in html
    assert f'value="{data["mobile"]}"' in html
    assert 'value="123456"' in html
    assert user_with_id(data["id_number"]) is None


# --- 获取短信验证码 without JavaScript ------------------------------------------------------


def test_send_code_without_javascript_keeps_everything_typed(client):
    choose_eligibility(client)
    data = register_data(name="李四")
    response = client.post(REGISTER, {**data, "action": "send_code"})
    html = page_text(response)
    assert response.status_code == 200
    assert "已发送" in html
    assert response.context["sms_status"] == "success"
    for value in ("李四", data["id_number"], data["mobile"], GOOD_PASSWORD):
        assert f'value="{value}"' in html, value
    assert html.count(f'value="{GOOD_PASSWORD}"') == 2  # 密码 and 确认密码
    # No field is marked wrong just because the code was not typed yet.
    assert "is-invalid" not in html
    assert SmsCode.objects.filter(mobile="+86" + data["mobile"]).count() == 1
    assert len(latest_code(data["mobile"])) == 6


def test_send_code_with_an_invalid_mobile_says_so_and_sends_nothing(client):
    choose_eligibility(client)
    for bad in ("12912345678", "1391234567", "abcdefghijk"):
        response = client.post(REGISTER, {**register_data(mobile=bad), "action": "send_code"})
        assert response.status_code == 200
        assert response.context["sms_status"] == "danger"
        assert response.context["sms_message"] == "请输入正确的 11 位手机号码。"
        assert "请输入正确的 11 位手机号码" in page_text(response)
    assert SmsCode.objects.count() == 0
    assert SmsMessage.objects.count() == 0


def test_send_code_to_a_bound_mobile_says_so_and_sends_nothing(client):
    existing = AccountFactory()
    choose_eligibility(client)
    mobile = str(existing.mobile.national_number)
    response = client.post(REGISTER, {**register_data(mobile=mobile), "action": "send_code"})
    assert response.context["sms_status"] == "danger"
    assert "该手机号码已绑定其他账号" in page_text(response)
    assert codes_sent_to(mobile) == 0


# --- 获取短信验证码 with JavaScript (the JSON endpoint) ---------------------------------------

SMS_URL = reverse("accounts:sms_code_send")


def test_json_code_request_answers_retry_after_and_refuses_a_second_within_60_s(client):
    mobile = new_mobile()
    first = client.post(SMS_URL, {"purpose": "register", "mobile": mobile})
    assert first.status_code == 200
    assert first.json()["ok"] is True
    assert first.json()["retry_after"] == settings.SMS_RESEND_SECONDS == 60
    assert "已发送" in first.json()["message"]
    second = client.post(SMS_URL, {"purpose": "register", "mobile": mobile})
    assert second.status_code == 429
    body = second.json()
    assert body["ok"] is False
    assert 0 < body["retry_after"] <= 60
    assert "秒后再重新获取" in body["message"]
    assert SmsCode.objects.filter(mobile="+86" + mobile).count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"purpose": "register", "mobile": "12345"},
        {"purpose": "register", "mobile": ""},
        {"purpose": "nonsense", "mobile": "13912345678"},
        {"mobile": "13912345678"},
    ],
)
def test_json_code_request_with_bad_input_is_400(client, payload):
    response = client.post(SMS_URL, payload)
    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert response.json()["message"]
    assert SmsCode.objects.count() == 0


def test_json_code_request_to_a_bound_mobile_sends_nothing(client):
    existing = AccountFactory()
    mobile = str(existing.mobile.national_number)
    response = client.post(SMS_URL, {"purpose": "register", "mobile": mobile})
    assert response.status_code == 400
    assert "该手机号码已绑定其他账号" in response.json()["message"]
    assert codes_sent_to(mobile) == 0


def test_json_code_request_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    mobile = new_mobile()
    refused = client.post(SMS_URL, {"purpose": "register", "mobile": mobile})
    assert refused.status_code == 403
    assert SmsCode.objects.count() == 0
    client.get(reverse("accounts:password_reset"))  # any form page sets the token cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(SMS_URL, {"purpose": "register", "mobile": mobile}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200


def test_json_code_request_is_post_only(client):
    assert client.get(SMS_URL, {"purpose": "register", "mobile": new_mobile()}).status_code == 405


# --- password policy ------------------------------------------------------------------------


def _register_errors(client, password: str, **overrides) -> list[str]:
    choose_eligibility(client)
    data = register_data(password1=password, password2=password, **overrides)
    response = client.post(REGISTER, {**data, "sms_code": "123456"})
    assert response.status_code == 200
    assert user_with_id(data["id_number"]) is None
    return response.context["form"].errors.get("password1", [])


def test_password_shorter_than_8_is_refused_in_chinese(client):
    assert _register_errors(client, "Kj#2026") == ["密码长度不能少于 8 位。"]


def test_password_with_two_character_classes_is_refused(client):
    assert _register_errors(client, "kjtest2026pass") == ["密码须包含大写字母、小写字母、数字、符号中的至少三类。"]
    assert _register_errors(client, "KJTEST###PASS") == ["密码须包含大写字母、小写字母、数字、符号中的至少三类。"]


def test_common_password_is_refused(client):
    assert _register_errors(client, "Password1") == ["这个密码太常见了。"]


def test_password_containing_the_id_number_is_refused(client):
    id_number = make_id_number()
    assert _register_errors(client, "Kj#" + id_number, id_number=id_number) == ["密码不能包含证件号码。"]
    # The last eight characters are enough to count.
    assert _register_errors(client, "Kj#x" + id_number[-8:], id_number=id_number) == ["密码不能包含证件号码。"]


def test_password_containing_the_mobile_is_refused(client):
    mobile = new_mobile()
    assert _register_errors(client, "Kj#" + mobile, mobile=mobile) == ["密码不能包含手机号码。"]


def test_password_containing_the_name_is_refused(client):
    assert _register_errors(client, "Kj#2026张三丰", name="张三丰") == ["密码不能包含姓名。"]


def test_mismatched_passwords_are_refused(client):
    choose_eligibility(client)
    response = client.post(REGISTER, {**register_data(password2="Kj#Other2026"), "sms_code": "123456"})
    assert response.context["form"].errors["password2"] == ["两次输入的密码不一致。"]


def test_good_password_is_accepted_and_stored_with_argon2id(client):
    assert settings.PASSWORD_HASHERS[0] == "accounts.hashers.PortalArgon2PasswordHasher"
    response, data = register_via_views(client, password1="Gz.kuaiji-2026", password2="Gz.kuaiji-2026")
    assert response.status_code == 302
    user = user_with_id(data["id_number"])
    # argon2id with at least OWASP's minimum: m=19 MiB, t=2, p=1.
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.check_password("Gz.kuaiji-2026")


def test_a_hash_with_older_parameters_still_logs_in_and_is_rehashed(client):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    user = AccountFactory()
    user.password = Argon2PasswordHasher().encode("Gz.kuaiji-2026", Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    assert ",p=8$" in user.password
    assert user.check_password("Gz.kuaiji-2026")  # check_password re-hashes with the current parameters
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def _id_ending_in_x() -> str:
    for seq in range(1, 500):
        number = make_id_number(seq=seq, birth="19791123")
        if number.endswith("X"):
            return number
    raise AssertionError("no number with check character X found")
