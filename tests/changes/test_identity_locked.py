"""性别, 国籍, 出生日期, 证件类型, 证件号码 never change after collection: shown
read-only, and a crafted POST naming them changes nothing — on every change item and
on every wizard step after 提交."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.identity import decrypt_id_number, id_lookup_hash
from accounts.models import User
from tests.accounts.test_views import latest_code, new_mobile
from tests.changes.helpers import (
    ITEMS,
    SMS_URL,
    collect,
    edit_url,
    form_values,
    item_url,
    only_record,
    save,
    strip_tags,
    text,
)
from tests.collection.steps import (
    STEPS,
    education_data,
    page_errors,
    parse,
    personal_data,
    professional_data,
    url,
    work_data,
)
from tests.factories import ACCOUNT_PASSWORD

pytestmark = pytest.mark.django_db

# Everything an attacker might name in a POST to rewrite the identity.
CRAFTED = {
    "gender": "male",
    "birth_date": "1970-01-01",
    "nationality": "美国",
    "id_type": "foreigner_permanent_residence_card",
    "id_number": "520102197001010011",
    "id_number_encrypted": "gAAAAAcrafted",
    "id_number_masked": "520102********0011",
    "id_hash": "0" * 64,
    "username": "id:crafted",
    "user": "1",
    "user_id": "1",
    "status": "draft",
    "archive_number": "52000000000000",
}

# A real change for each item, so the save goes all the way through.
CHANGES = {
    "personal": {"email": "locked@example.com"},
    "education": {"ft-major": "财务管理"},
    "professional": {"is_tax_agent": "true"},
    "work": {"employer": "锁定测试单位"},
}


def identity(user_id: int) -> tuple:
    user = User.objects.get(pk=user_id)
    return (user.gender, user.birth_date, user.nationality, user.id_type, decrypt_id_number(user.id_number_encrypted),
            user.id_hash, user.username, user.id_number_masked, user.name)


@pytest.fixture(params=["resident", "passport"])
def holder(request, client, reference_data):
    """A collected archive of a 居民身份证 holder, or of a 护照 holder whose gender,
    birth date and nationality were entered in the wizard."""
    if request.param == "resident":
        user = request.getfixturevalue("accountant")
        client.force_login(user)
        archive = collect(client, user)
        user.refresh_from_db()
        assert (user.gender, user.nationality) == ("male", "中国")
    else:
        user = request.getfixturevalue("passport_holder")
        client.force_login(user)
        archive = collect(client, user, gender="female", birth_date="1988-02-29", nationality="新加坡")
        user.refresh_from_db()
        assert (user.gender, user.birth_date, user.nationality) == ("female", dt.date(1988, 2, 29), "新加坡")
    return archive


def crafted_for(user) -> dict:
    """CRAFTED with the opposite gender and an ID type other than the holder's."""
    other_gender = "female" if user.gender == "male" else "male"
    other_type = "passport" if user.id_type != "passport" else "resident_id_card"
    return {**CRAFTED, "gender": other_gender, "id_type": other_type}


@pytest.mark.parametrize("item", ITEMS)
def test_a_crafted_post_on_every_item_changes_no_identity_fact(client, holder, item):
    user = holder.user
    before = identity(user.pk)
    crafted = crafted_for(user)
    if item == "contact":
        mobile = new_mobile()
        assert client.post(SMS_URL, {"purpose": "change_phone", "mobile": mobile}).status_code == 200
        response = client.post(edit_url(item), {**crafted, "version": holder.version, "mobile": mobile,
                                                "sms_code": latest_code(mobile), "password": ACCOUNT_PASSWORD})
    else:
        response = save(client, item, {**crafted, **CHANGES[item]})
    assert response.status_code == 302 and response.url == item_url(item), page_errors(response)
    assert identity(user.pk) == before
    record = only_record(user)  # the real change went through ...
    labels = {c["label"] for c in record.changes}
    assert not labels & {"性别", "出生日期", "国籍", "证件类型", "证件号码"}  # ... and nothing else
    user = User.objects.get(pk=user.pk)
    assert user.id_hash == id_lookup_hash(decrypt_id_number(user.id_number_encrypted))


def test_a_crafted_name_change_does_not_carry_identity_along(client, holder):
    before = identity(holder.user_id)
    response = save(client, "personal", {**crafted_for(holder.user), "name": "新 名字"})
    assert response.status_code == 302
    after = identity(holder.user_id)
    assert after[:-1] == before[:-1] and after[-1] == "新 名字"


def test_identity_is_shown_read_only(client, holder):
    user = User.objects.get(pk=holder.user_id)
    for page in (client.get(edit_url("personal")), client.get(item_url("personal"))):
        fields = set(form_values(page)) | set(parse(page).selects)
        assert not fields & {"gender", "birth_date", "nationality", "id_type", "id_number"}
    for page in (edit_url("personal"), item_url("personal")):
        html = strip_tags(text(client.get(page)))
        for label, value in (("证件类型", user.get_id_type_display()), ("证件号码", user.id_number_masked),
                             ("性别", user.get_gender_display()), ("出生日期", user.birth_date.isoformat()),
                             ("国籍", user.nationality)):
            assert f"{label} {value}" in html, (page, label)
        assert decrypt_id_number(user.id_number_encrypted) not in html
    assert "性别、国籍、出生日期、证件类型和证件号码不能变更" in text(client.get(edit_url("personal")))


def test_wizard_steps_after_submit_change_nothing(client, holder):
    user = holder.user
    before = identity(user.pk)
    version = holder.version
    crafted = crafted_for(user)
    posts = {
        "notice": {"promise": "on"},
        "personal": personal_data(email="wizard@example.com"),
        "education": education_data(**{"ft-school": "改过的大学"}),
        "professional": professional_data(),
        "work": work_data(employment_status="unemployed"),
        "review": {"nav": "next"},
    }
    assert list(posts) == STEPS
    for step, data in posts.items():
        response = client.post(url(step), {**data, **crafted})
        assert response.status_code == 302 and response.url == url("status"), step
    assert identity(user.pk) == before
    holder.refresh_from_db()
    assert (holder.version, holder.email, holder.employment_status) == (
        version, "zhang.san@example.com", "accounting")
