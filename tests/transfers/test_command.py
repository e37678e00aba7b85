"""`manage.py national_platform`: play the other provinces on the local platform."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.identity import id_lookup_hash
from tests.factories import make_id_number
from transfers import payload
from transfers.models import PlatformRecord, PlatformStatus, TransferStatus

from .helpers import HOME, SICHUAN, submitted

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("national_platform", *args, stdout=out)
    return out.getvalue()


def test_incoming_creates_a_record_bound_for_guizhou_with_a_usable_archive(reference_data):
    number = make_id_number(area="510104")
    out = run("incoming", "--name", " 李调入 ", "--id-number", number.lower(), "--mobile", "13900000123",
              "--from-province", "四川省")
    record = PlatformRecord.objects.get()
    assert record.ref in out and "待调入地接收" in out and number not in out
    assert (record.from_province, record.to_province, record.status) == (SICHUAN, HOME, PlatformStatus.PENDING_RECEIPT)
    assert record.name == "李调入" and record.mobile == "+8613900000123" and record.id_type == "resident_id_card"
    assert record.id_hash == id_lookup_hash(number) and number not in record.id_number_encrypted
    # the carried archive is one the transfer in accepts
    data = record.payload
    assert set(payload.image_contents(data)) == {"photo", "id_card_front", "id_card_back"}
    assert payload.personal_values(data)["ethnicity"].name == "汉族"
    full_time, part_time = payload.education_values(data)
    assert full_time["level"].name == "大学本科" and part_time is None
    _certification, qualifications = payload.professional_values(data)
    assert len(qualifications) == 1 and qualifications[0]["level"] == "junior"
    credits = payload.credit_values(data)
    assert len(credits) == 4 and {c["category"] for c in credits} == {"public", "professional"}


@pytest.mark.parametrize(("option", "value"), [("--from-province", "51"), ("--from-province", "四川"),
                                               ("--id-type", "居民身份证")])
def test_codes_and_names_are_both_understood(option, value):
    args = {"--name": "王五", "--id-number": make_id_number(), "--mobile": "13900000124", "--from-province": "51",
            option: value}
    run("incoming", *[x for pair in args.items() for x in pair])
    assert PlatformRecord.objects.get().from_province == SICHUAN


def test_credit_years_are_carried():
    run("incoming", "--name", "王五", "--id-number", make_id_number(), "--mobile", "13900000125",
        "--from-province", "51", "--credit-years", "0")
    assert PlatformRecord.objects.get().payload["credits"] == []


@pytest.mark.parametrize(("change", "message"), [
    ({"--id-number": "520102199003070000"}, "invalid ID number"),
    ({"--mobile": "12345"}, "mobile"),
    ({"--mobile": "+12025550123"}, "mobile"),
    ({"--from-province": "火星"}, "unknown province"),
    ({"--from-province": "贵州省"}, "another province"),
    ({"--id-type": "library_card"}, "unknown ID type"),
    ({"--credit-years": "11"}, "--credit-years"),
])
def test_invalid_input_is_a_command_error(change, message):
    args = {"--name": "王五", "--id-number": make_id_number(), "--mobile": "13900000126", "--from-province": "51",
            **change}
    with pytest.raises(CommandError, match=message):
        run("incoming", *[x for pair in args.items() for x in pair])
    assert not PlatformRecord.objects.exists()


def test_receive_moves_the_portal_transfer_and_the_person(accountant):
    transfer = submitted(accountant)
    out = run("receive", transfer.platform_ref)
    assert "received by 四川省" in out and "已调入" in out
    transfer.refresh_from_db()
    accountant.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and transfer.received_at
    assert accountant.transferred_out_at is not None
    assert PlatformRecord.objects.get(ref=transfer.platform_ref).status == PlatformStatus.RECEIVED
    with pytest.raises(CommandError, match="cannot be received"):
        # received already is fine on the platform; a withdrawn one is not
        PlatformRecord.objects.filter(ref=transfer.platform_ref).update(status=PlatformStatus.WITHDRAWN)
        run("receive", transfer.platform_ref)


def test_receive_refuses_unknown_and_incoming_records():
    with pytest.raises(CommandError, match="no record"):
        run("receive", "QG404")
    run("incoming", "--name", "王五", "--id-number", make_id_number(), "--mobile", "13900000127",
        "--from-province", "51")
    with pytest.raises(CommandError, match="not a transfer out"):
        run("receive", PlatformRecord.objects.get().ref)


def test_list(accountant):
    assert "(no records)" in run("list")
    transfer = submitted(accountant)
    number = make_id_number()
    run("incoming", "--name", "王五", "--id-number", number, "--mobile", "13900000128", "--from-province", "51")
    out = run("list")
    assert transfer.platform_ref in out and "2 record(s)" in out and "贵州省 → 四川省" in out
    assert number not in out and accountant.plain_id_number not in out
    assert "1 record(s)" in run("list", "--status", "pending_receipt", "--limit", "1")


def test_refused_on_the_http_backend(settings):
    settings.NATIONAL_PLATFORM_BACKEND = "http"
    with pytest.raises(CommandError, match="local backend only"):
        run("list")
