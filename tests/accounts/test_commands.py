"""Operator commands of accounts: `sms_outbox` and `rotate_id_keys`."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db.models import F

from accounts import sms
from accounts.identity import decrypt_id_number, id_lookup_hash
from accounts.models import SmsMessage, User
from tests.factories import AccountFactory, make_mobile


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


# --- sms_outbox ------------------------------------------------------------------------


@pytest.fixture
def outbox(db):
    """Three messages to two mobiles, oldest first, a minute apart."""
    first, second = make_mobile(), make_mobile()
    messages = [
        sms.sms_message_queue(mobile=first, body="第一条"),
        sms.sms_message_queue(mobile=second, body="第二条"),
        sms.sms_message_queue(mobile=first, body="第三条"),
    ]
    for age, message in zip((3, 2, 1), messages, strict=True):
        SmsMessage.objects.filter(pk=message.pk).update(created_at=F("created_at") - dt.timedelta(minutes=age))
    return first, second


def test_lists_every_message_newest_first(outbox):
    first, second = outbox

    lines = run("sms_outbox").splitlines()

    assert len(lines) == 3
    assert [line.rsplit("】", 1)[1] for line in lines] == ["第三条", "第二条", "第一条"]
    assert first in lines[0]
    assert second in lines[1]
    assert all("[待发送]" in line for line in lines)


@pytest.mark.parametrize("form", ["national", "e164"])
def test_phone_filters_to_one_mobile(outbox, form):
    first, _ = outbox
    phone = first.removeprefix("+86") if form == "national" else first

    lines = run("sms_outbox", phone=phone).splitlines()

    assert len(lines) == 2
    assert all(first in line for line in lines)
    assert "第二条" not in "\n".join(lines)


def test_phone_filter_on_the_command_line(outbox):
    _, second = outbox

    output = run("sms_outbox", "--phone", second.removeprefix("+86"))

    assert output.count("\n") == 1
    assert "第二条" in output


def test_last_shows_only_the_newest(outbox):
    lines = run("sms_outbox", "--last").splitlines()

    assert len(lines) == 1
    assert lines[0].endswith("第三条")


def test_last_with_phone(outbox):
    first, _ = outbox

    lines = run("sms_outbox", "--last", "--phone", first).splitlines()

    assert len(lines) == 1
    assert lines[0].endswith("第三条")


def test_limit(outbox):
    assert len(run("sms_outbox", "--limit", "2").splitlines()) == 2


@pytest.mark.parametrize(
    "phone",
    [
        "12345",
        "1391234567",
        "139123456789",
        "abc",
    ],
)
def test_invalid_phone_is_a_command_error(db, phone):
    with pytest.raises(CommandError, match="not a valid mobile number"):
        run("sms_outbox", "--phone", phone)


def test_empty_outbox_says_so(db):
    assert run("sms_outbox").strip() == "(outbox is empty)"


def test_unknown_mobile_shows_nothing(outbox):
    assert run("sms_outbox", phone="13700000000").strip() == "(outbox is empty)"


# --- rotate_id_keys ------------------------------------------------------------------------


def test_rotation_reencrypts_every_id_number_under_the_new_key(db, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ID_ENCRYPTION_KEYS = [old_key]
    accounts = AccountFactory.create_batch(3)
    staff = User.objects.create_user("operator", "Kj#Staff2026pass", name="运维", is_staff=True)
    before = dict(User.objects.values_list("pk", "id_number_encrypted"))

    settings.ID_ENCRYPTION_KEYS = [new_key, old_key]
    output = run("rotate_id_keys", "--batch-size", "2")

    assert "re-encrypted 3 ID numbers" in output
    settings.ID_ENCRYPTION_KEYS = [new_key]
    for account in accounts:
        account.refresh_from_db()
        assert account.id_number_encrypted != before[account.pk]
        assert account.id_number == account.plain_id_number
        assert account.id_hash == id_lookup_hash(account.plain_id_number)  # lookups are untouched
        with pytest.raises(ValueError):
            decrypt_id_number(before[account.pk])  # the old ciphertext needed the old key
    staff.refresh_from_db()
    assert staff.id_number_encrypted == ""


def test_rotation_is_safe_to_run_again(db, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ID_ENCRYPTION_KEYS = [old_key]
    account = AccountFactory()
    settings.ID_ENCRYPTION_KEYS = [new_key, old_key]

    run("rotate_id_keys")
    output = run("rotate_id_keys")

    assert "re-encrypted 1 ID numbers" in output
    settings.ID_ENCRYPTION_KEYS = [new_key]
    account.refresh_from_db()
    assert account.id_number == account.plain_id_number


def test_rotation_with_nothing_to_do(db):
    assert "re-encrypted 0 ID numbers" in run("rotate_id_keys")
