"""跨省调入 (public): 1 填写验证信息 (with the SMS code) → 2 确认调入信息 (masked; where
in Guizhou) → 3 设置账号登录密码 → 完成: the account, its 已采集 archive and the carried
credits, created once; a person who once left Guizhou is re-opened."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.identity import mask_id_number
from accounts.models import SmsMessage, User
from collection.models import Archive, ArchiveStatus, Division, DivisionLevel
from education.models import CreditRecord, CreditSource, CreditYearTotal
from tests.accounts.test_views import latest_code
from tests.factories import AccountFactory, make_id_number, make_mobile
from transfers import services
from transfers.models import PlatformRecord, PlatformStatus, TransferIn

from .helpers import FakePlatform, at_once, incoming, messages_of, receive, submitted, text

VERIFY = reverse("transfers:in_verify")
CONFIRM = reverse("transfers:in_confirm")
PASSWORD = reverse("transfers:in_password")
DONE = reverse("transfers:in_done")
SMS_URL = reverse("accounts:sms_code_send")
NEW_PASSWORD = "Gz#Diaoru2026"
NOT_FOUND = "未找到可以调入贵州省的记录"


def person(**overrides) -> dict:
    """What the person types at step 1 (the mobile as 11 digits)."""
    return {"name": "李调入", "id_type": "resident_id_card", "id_number": make_id_number(area="510104"),
            "mobile": make_mobile()[3:], **overrides}


def record_for(data: dict, **kwargs) -> PlatformRecord:
    return incoming(name=data["name"], id_number=data["id_number"], mobile="+86" + data["mobile"], **kwargs)


def ask_code(client, data: dict):
    return client.post(VERIFY, {**data, "action": "send_code"})


def verify(client, data: dict, code: str | None = None):
    if code is None:
        assert ask_code(client, data).status_code == 200
        code = latest_code(data["mobile"])
    return client.post(VERIFY, {**data, "sms_code": code})


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def confirm(client, *, prefecture="520100", county="520102", employer="贵阳某某有限公司", confirmed=True,
            declaration=False):
    data = {"prefecture": division(prefecture).pk, "employer": employer}
    if county:
        data["county"] = division(county).pk
    if confirmed:
        data["confirmed"] = "on"
    if declaration:
        data["provincial_declaration"] = "on"
    return client.post(CONFIRM, data)


def set_password(client, password=NEW_PASSWORD, again=None):
    return client.post(PASSWORD, {"password1": password, "password2": again or password})


def through(client, data: dict) -> User:
    assert verify(client, data).url == CONFIRM
    assert confirm(client).url == PASSWORD
    response = set_password(client)
    assert response.status_code == 302 and response.url == DONE, response.context["form"].errors
    return User.objects.get(name=data["name"])


def refusal(response) -> str:
    assert response.status_code == 200
    return response.context["refusal"]


# --- step 1 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_step_one_page(client):
    response = client.get(VERIFY)
    html = text(response)
    for label in ("姓名", "证件类型", "证件号码", "手机号码", "短信验证码", "获取短信验证码", "下一步", "填写验证信息"):
        assert label in html, label
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_code_by_the_json_endpoint_and_by_the_form_button(client, reference_data):
    data = person()
    record_for(data)
    response = client.post(SMS_URL, {"purpose": "transfer_in", **data})
    assert response.status_code == 200 and response.json()["ok"] is True
    assert SmsMessage.objects.filter(mobile="+86" + data["mobile"]).count() == 1
    bad = client.post(SMS_URL, {"purpose": "transfer_in", **data, "id_number": "510104199003070000"})
    assert bad.status_code == 400 and bad.json()["ok"] is False
    no_js = ask_code(client, data)
    assert no_js.status_code == 200 and no_js.context["sms_status"] == "success"
    assert no_js.context["form"]["name"].value() == data["name"]  # what was typed stays
    assert SmsMessage.objects.filter(mobile="+86" + data["mobile"]).count() == 2
    response = verify(client, data, latest_code(data["mobile"]))
    assert response.status_code == 302 and response.url == CONFIRM


@pytest.mark.django_db
def test_a_wrong_code(client, reference_data):
    data = person()
    record_for(data)
    ask_code(client, data)
    right = latest_code(data["mobile"])
    wrong = "000000" if right != "000000" else "111111"
    assert "短信验证码不正确" in refusal(verify(client, data, wrong))
    assert verify(client, data, right).url == CONFIRM
    assert "短信验证码已使用" in refusal(verify(Client(), data, right))


@pytest.mark.django_db
def test_no_record_another_province_or_another_mobile_get_the_same_message(reference_data):
    nothing = person()
    elsewhere = person()
    record_for(elsewhere, to_province="53")  # bound for 云南
    other_mobile = person()
    record_for({**other_mobile, "mobile": make_mobile()[3:]})
    other_name = person()
    record_for({**other_name, "name": "李另一"})
    messages = [refusal(verify(Client(), data)) for data in (nothing, elsewhere, other_mobile, other_name)]
    assert len(set(messages)) == 1 and NOT_FOUND in messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "message"), [
    (PlatformStatus.WITHDRAWN, "该调转已由原采集地撤回，不能调入"),
    (PlatformStatus.RECEIVED, "该调转记录已被接收，无需再次办理调入"),
    (PlatformStatus.WAITING, "尚在原采集地办理中"),
])
def test_a_record_not_waiting_for_us_says_why(client, reference_data, status, message):
    data = person()
    rec = record_for(data, status=status)
    if status == PlatformStatus.RECEIVED:  # received, and the person's account made here
        TransferIn.objects.create(platform_ref=rec.ref, from_province=rec.from_province, user=AccountFactory())
    assert message in refusal(verify(client, data))
    assert client.get(CONFIRM).url == VERIFY


@pytest.mark.django_db
def test_a_receipt_confirmed_whose_local_part_failed_can_be_finished(client, reference_data, monkeypatch):
    """The platform confirmed the receipt, then the local transaction failed: the record
    is 已接收 on the platform with nothing here. Step 1 again lets the person finish."""
    data = person()
    rec = record_for(data)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_account_for", lambda record, password: broken())
    with pytest.raises(RuntimeError):
        services.transfer_in_complete(ref=rec.ref, division=division("520102"), employer="贵阳某公司",
                                      password=NEW_PASSWORD)
    rec.refresh_from_db()
    assert rec.status == PlatformStatus.RECEIVED and not User.objects.exists()
    monkeypatch.undo()
    assert verify(client, data).url == CONFIRM
    assert confirm(client).url == PASSWORD
    assert client.post(PASSWORD, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    assert User.objects.get().archive.status == ArchiveStatus.COLLECTED


@pytest.mark.django_db
def test_someone_registered_and_collected_in_guizhou_is_refused(client, accountant):
    data = {"name": accountant.name, "id_type": "resident_id_card", "id_number": accountant.plain_id_number,
            "mobile": str(accountant.mobile.national_number)}
    record_for(data)
    assert "该证件号码已在贵州省注册并完成信息采集" in refusal(verify(client, data))


@pytest.mark.django_db
def test_a_mobile_held_by_another_account_is_refused(client, reference_data):
    holder = AccountFactory()
    data = person(mobile=str(holder.mobile.national_number))
    record_for(data)
    assert "该手机号码已绑定贵州省的其他账号" in refusal(verify(client, data))


@pytest.mark.django_db
def test_the_platform_down_keeps_the_code_for_another_try(client, reference_data, settings):
    data = person()
    record_for(data)
    ask_code(client, data)
    code = latest_code(data["mobile"])
    with FakePlatform() as server:
        closed = server.url
    settings.NATIONAL_PLATFORM_BACKEND = "http"
    settings.NATIONAL_PLATFORM_URL = closed
    settings.NATIONAL_PLATFORM_RETRIES = 0
    settings.NATIONAL_PLATFORM_TIMEOUT_SECONDS = 0.3
    assert "全国平台暂时无法连接" in refusal(verify(client, data, code))
    settings.NATIONAL_PLATFORM_BACKEND = "local"
    assert verify(client, data, code).url == CONFIRM


@pytest.mark.django_db
def test_steps_two_and_three_without_step_one_go_back_to_step_one(client):
    for url in (CONFIRM, PASSWORD):
        response = Client().get(url)
        assert response.status_code == 302 and response.url == VERIFY
        assert messages_of(response) == ["请先填写验证信息。"]
    assert client.post(PASSWORD, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).url == VERIFY
    assert client.get(DONE).url == reverse("transfers:index")
    assert not User.objects.exists()


# --- step 2 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_step_two_shows_the_record_masked_and_what_it_carries(client, reference_data, this_year):
    data = person()
    rec = record_for(data)
    verify(client, data)
    response = client.get(CONFIRM)
    html = text(response)
    assert response.status_code == 200
    assert data["id_number"] not in html and mask_id_number(data["id_number"]) in html
    assert data["mobile"] not in html and data["mobile"][-4:] in html
    for shown in (data["name"], "四川省", rec.ref, "西南财经大学", "会计学", "大学本科", "学士", "初级", "考试",
                  'data-testid="carried-credits"', str(this_year - 1), str(this_year - 2), "90"):
        assert shown in html, shown
    assert "base64" not in html and rec.payload["photo"][:40] not in html
    # going back to step 2 later shows the same record
    assert client.get(CONFIRM).status_code == 200


@pytest.mark.django_db
def test_step_two_requires_a_division_an_employer_and_the_confirmation(client, reference_data):
    data = person()
    record_for(data)
    verify(client, data)
    response = client.post(CONFIRM, {"employer": " "})
    errors = response.context["form"].errors
    assert errors["prefecture"] == ["请选择所属行政区划。"]
    assert errors["employer"] == ["请填写工作单位。"]
    assert errors["confirmed"] == ["请核对调入信息后勾选确认。"]
    assert confirm(client, county=None).context["form"].errors["county"] == ["请选择县（市、区）。"]
    elsewhere = Division.objects.filter(level=DivisionLevel.COUNTY).exclude(parent__code="520100").first()
    response = confirm(client, county=elsewhere.code)
    assert response.context["form"].errors["county"] == ["所选县（市、区）不属于所选市（州），请重新选择。"]
    response = confirm(client, prefecture="520000", county=None)
    assert "省本级仅限省直行政事业单位或省属国有企业人员选择" in response.context["form"].errors[
        "provincial_declaration"][0]
    assert client.get(PASSWORD).url == CONFIRM  # step 3 needs step 2
    assert confirm(client, prefecture="520000", county=None, declaration=True).url == PASSWORD
    assert confirm(client).url == PASSWORD


# --- step 3 and completion ---------------------------------------------------------------------


@pytest.mark.django_db
def test_step_three_password_policy(client, reference_data):
    data = person()
    record_for(data)
    verify(client, data)
    confirm(client)
    cases = [("Ab1!", "password1"), ("abcdefgh", "password1"), (f"Aa!{data['id_number'][-8:]}", "password1"),
             (NEW_PASSWORD, "password2")]
    for password, field in cases:
        response = set_password(client, password, again=None if field == "password1" else NEW_PASSWORD + "x")
        assert response.status_code == 200 and response.context["form"].errors[field], password
    assert not User.objects.exists()


@pytest.mark.django_db
def test_completion_creates_the_account_archive_and_credits(client, reference_data, this_year):
    data = person()
    rec = record_for(data)
    verify(client, data)
    confirm(client, employer="  贵阳 某某有限公司 ")
    response = set_password(client)
    assert response.status_code == 302 and response.url == DONE
    done = client.get(DONE)
    assert done.status_code == 200 and "调入完成" in text(done)
    assert client.get(DONE).url == reverse("transfers:index")  # shown once

    user = User.objects.get()
    assert (user.name, str(user.mobile), user.transferred_out_at) == (data["name"], "+86" + data["mobile"], None)
    archive = Archive.objects.select_related("division").get(user=user)
    assert archive.status == ArchiveStatus.COLLECTED and archive.collected_at
    assert archive.archive_number.startswith("52") and len(archive.archive_number) == 14
    assert archive.division.code == "520102" and archive.employer == "贵阳 某某有限公司"
    assert archive.ethnicity.name == "汉族" and archive.educations.get().school == "西南财经大学"
    assert archive.qualifications.get().certificate_number == "CJ2013000123"
    for field in ("photo", "id_card_front", "id_card_back"):
        stored = getattr(archive, field)
        assert stored.name and "carried" not in stored.name, field
        with Image.open(io.BytesIO(stored.read())) as img:
            assert img.format == "JPEG"
    records = CreditRecord.objects.filter(user=user)
    assert records.count() == 4 and set(records.values_list("source", flat=True)) == {CreditSource.TRANSFER}
    for year in (this_year - 2, this_year - 1):
        total = CreditYearTotal.objects.get(user=user, year=year)
        assert (total.public_credits, total.professional_credits, total.total) == (
            Decimal(30), Decimal(60), Decimal(90))
    rec.refresh_from_db()
    assert rec.status == PlatformStatus.RECEIVED
    row = TransferIn.objects.get(platform_ref=rec.ref)
    assert row.user == user and row.from_province == "51" and not row.reopened

    # log in at once with the ID number and the new password
    login = Client().post(reverse("accounts:login"), {"id_number": data["id_number"], "password": NEW_PASSWORD})
    assert login.status_code == 302 and login.url == reverse("accounts:home")


@pytest.mark.django_db
def test_step_three_submitted_twice_creates_nothing_more(client, reference_data):
    data = person()
    rec = record_for(data)
    user = through(client, data)
    again = set_password(client)  # the session's step is gone: back to step 1
    assert again.status_code == 302 and again.url == VERIFY
    pk = division("520102").pk
    assert services.transfer_in_complete(ref=rec.ref, division=Division.objects.get(pk=pk), employer="x",
                                         password="Other#Pass2026") == user
    assert User.objects.count() == 1 and Archive.objects.count() == 1 and CreditRecord.objects.count() == 4
    assert TransferIn.objects.count() == 1
    # after it is done, step 1 says so
    assert "该调转记录已被接收" in refusal(verify(Client(), data))


@pytest.mark.parametrize("round_", range(2))
@pytest.mark.django_db(transaction=True)
def test_step_three_twice_at_once_creates_one_of_each(reference_data, round_):
    data = person()
    rec = record_for(data)
    county = division("520102")

    def complete():
        return services.transfer_in_complete(ref=rec.ref, division=county, employer="贵阳某公司",
                                             password=NEW_PASSWORD)

    results = at_once(complete, complete)
    users = [r for r in results if isinstance(r, User)]
    assert users and len({u.pk for u in users}) == 1, results
    assert User.objects.count() == 1 and Archive.objects.count() == 1 and TransferIn.objects.count() == 1
    assert CreditRecord.objects.count() == 4
    assert CreditYearTotal.objects.filter(user=users[0]).count() == 2
    assert Archive.objects.get().status == ArchiveStatus.COLLECTED
    assert sum(t.total for t in CreditYearTotal.objects.all()) == Decimal(180)


@pytest.mark.django_db
def test_a_person_who_once_left_guizhou_is_reopened(client, accountant, this_year):
    transfer = submitted(accountant)
    receive(transfer)
    services.transfers_sync()
    accountant.refresh_from_db()
    assert accountant.transferred_out_at is not None
    first_archive = Archive.objects.get(user=accountant)
    # years later, back from 四川
    data = {"name": accountant.name, "id_type": "resident_id_card", "id_number": accountant.plain_id_number,
            "mobile": str(accountant.mobile.national_number)}
    rec = record_for(data)
    user = through(client, data)
    assert user.pk == accountant.pk and User.objects.count() == 1
    user.refresh_from_db()
    assert user.transferred_out_at is None and user.is_active
    assert user.check_password(NEW_PASSWORD) and not user.check_password(accountant.plain_password)
    archive = Archive.objects.get(user=user)
    assert archive.pk == first_archive.pk and archive.status == ArchiveStatus.COLLECTED
    assert archive.archive_number == first_archive.archive_number
    assert TransferIn.objects.get(platform_ref=rec.ref).reopened
    login = Client().post(reverse("accounts:login"), {"id_number": data["id_number"], "password": NEW_PASSWORD})
    assert login.status_code == 302
    # business is open again
    from .helpers import apply

    assert apply(user).status == "submitted"


@pytest.mark.django_db
def test_a_record_withdrawn_between_the_steps_sends_the_person_back(client, reference_data):
    data = person()
    rec = record_for(data)
    verify(client, data)
    confirm(client)
    PlatformRecord.objects.filter(pk=rec.pk).update(status=PlatformStatus.WITHDRAWN)
    for url in (PASSWORD, CONFIRM):
        response = client.get(url)
        assert response.status_code == 302 and response.url == VERIFY
    assert any("该调转已由原采集地撤回" in m for m in messages_of(response))
    with pytest.raises(services.TransferInRefused):
        services.transfer_in_complete(ref=rec.ref, division=division("520102"), employer="x",
                                      password=NEW_PASSWORD)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_an_incomplete_record_is_refused_before_anything_is_confirmed(client, reference_data):
    from transfers.demo import demo_payload

    data = person()
    rec = record_for(data, payload={**demo_payload(), "photo": ""})
    verify(client, data)
    confirm(client)
    response = set_password(client)
    assert response.status_code == 200
    assert "全国平台提供的档案信息不完整（证件照）" in response.context["form"].non_field_errors()[0]
    rec.refresh_from_db()
    assert rec.status == PlatformStatus.PENDING_RECEIPT  # receipt not confirmed
    assert not User.objects.exists() and not TransferIn.objects.exists()


@pytest.mark.django_db
def test_what_guizhou_sends_out_another_province_could_take_in(accountant):
    """archive_payload (transfer out) writes what the transfer-in side reads."""
    from transfers import payload

    data = payload.archive_payload(archive=Archive.objects.get(user=accountant))
    assert set(payload.image_contents(data)) == {"photo", "id_card_front", "id_card_back"}
    assert payload.personal_values(data)["political_status"].name == "群众"
    assert payload.education_values(data)[0]["school"] == "贵州财经大学"
    assert payload.employment_status_of(data) == "accounting" and data["archive_number"]
