"""Issue 9 point 6 (forms): 用户注册, 忘记密码 and the wizard's 个人信息 step fed random
strings (hypothesis) in every field: never a 5xx, and nothing stored from a rejected form.

Each field gets either any text (control characters, NUL, astral planes included) or one
of a few near-valid values, so some examples get past the first checks and reach the
deeper ones (the ID number's check digit, the SMS code, the password rules).
"""

from __future__ import annotations

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import SmsCode, SmsMessage, User
from collection import services as collection_services
from collection.models import Archive
from tests.accounts.test_views import GOOD_PASSWORD, choose_eligibility
from tests.factories import AccountFactory, make_id_number

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def field(*near_valid: str):
    return st.one_of(st.text(max_size=60), st.sampled_from(near_valid)) if near_valid else st.text(max_size=60)


ID_NUMBER = make_id_number(seq=4242)
REGISTRATION = st.fixed_dictionaries({
    "name": field("张三", " ", "a" * 51),
    "id_type": field("resident_id_card", "passport"),
    "id_number": field(ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[:-1]),
    "password1": field(GOOD_PASSWORD, "short"),
    "password2": field(GOOD_PASSWORD),
    "mobile": field("13912345678", "+8613912345678", "1391234567"),
    "sms_code": field("123456", "12345", "１２３４５６"),
})
RESET = st.fixed_dictionaries({
    "name": field("张三"),
    "id_number": field(ID_NUMBER),
    "mobile": field("13912345678"),
    "sms_code": field("123456"),
})


def counts(*models: type[Model]) -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in models}


STORED = (User, Archive, SmsCode, SmsMessage)


@pytest.fixture
def reference_data(db):
    from collection.reference import reference_data_load

    reference_data_load()


@pytest.fixture
def registering(reference_data):
    client = Client()
    assert choose_eligibility(client).status_code == 302
    return client


@FUZZ
@given(data=REGISTRATION)
def test_registration_with_random_fields(registering, data):
    before = counts(*STORED)
    response = registering.post(reverse("accounts:register"), data)
    assert response.status_code == 200, response.status_code  # re-shown with the errors, never a 5xx
    assert counts(*STORED) == before


@pytest.fixture
def resettable(db):
    """Someone the near-valid values name, so some examples get as far as the code check."""
    return AccountFactory(id_number=ID_NUMBER, name="张三", mobile="+8613912345678")


@FUZZ
@given(data=RESET)
def test_password_reset_with_random_fields(resettable, data):
    before = counts(*STORED)
    password = User.objects.get(pk=resettable.pk).password
    response = Client().post(reverse("accounts:password_reset"), data)
    assert response.status_code == 200, response.status_code
    assert counts(*STORED) == before
    assert User.objects.get(pk=resettable.pk).password == password


PERSONAL_FIELDS = ("ethnicity_id", "political_status_id", "email", "personal_done", "photo", "id_card_front",
                   "id_card_back", "version")


@pytest.fixture
def in_the_wizard(reference_data):
    user = AccountFactory()
    archive = collection_services.archive_start(user=user)
    client = Client()
    client.force_login(user)
    return client, archive


@FUZZ
@given(data=st.fixed_dictionaries({
    "ethnicity": field("1", "0", "-1", "99999999999999999999"),
    "political_status": field("1", "x"),
    "email": field("a@example.com", "a@", "a" * 300 + "@example.com"),
    "gender": field("male", "female"),
    "birth_date": field("1990-03-07", "1990-02-30"),
    "nationality": field("CN", "中国"),
    "nav": field("next", "prev"),
}))
def test_the_personal_step_with_random_fields(in_the_wizard, data):
    client, archive = in_the_wizard
    before = Archive.objects.values(*PERSONAL_FIELDS).get(pk=archive.pk), User.objects.values().get(pk=archive.user_id)
    response = client.post(reverse("collection:personal"), data)
    assert response.status_code in (200, 302), response.status_code
    after = Archive.objects.values(*PERSONAL_FIELDS).get(pk=archive.pk), User.objects.values().get(pk=archive.user_id)
    # Without the three images the step is never complete: the saved fields stay as they were.
    # (What was typed is kept as the step's draft, by design, so a person can resume it.)
    assert after == before


def test_a_nul_character_in_the_wizard_is_dropped_from_the_draft(in_the_wizard):
    """Found by the fuzzing above on PostgreSQL, whose JSON columns cannot hold NUL."""
    client, archive = in_the_wizard
    response = client.post(reverse("collection:personal"), {"email": "a\x00b@example.com", "x\x00": "1"})
    assert response.status_code == 200
    archive.refresh_from_db()
    assert archive.step_drafts["personal"]["email"] == ["ab@example.com"]
    assert "x" in archive.step_drafts["personal"]
