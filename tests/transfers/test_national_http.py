"""The national-platform adapter, http backend, against a fake platform served on
127.0.0.1: signed requests, idempotency, 5xx retried, hangs timed out, nonsense and
refusals told apart; and the portal's services running on it."""

from __future__ import annotations

import time

import pytest

from accounts.models import User
from collection.models import Archive, ArchiveStatus, Division
from tests.factories import make_id_number, make_mobile
from transfers import services
from transfers.models import PlatformRecord, TransferIn, TransferStatus
from transfers.national import HttpPlatform, PlatformRefused, PlatformUnavailable, platform, sign

from .helpers import HOME, SICHUAN, FakePlatform, apply, submitted


@pytest.fixture
def fake():
    with FakePlatform() as server:
        yield server


def client_for(fake, *, secret=None, timeout=2.0, retries=2, backoff=0.0) -> HttpPlatform:
    return HttpPlatform(base_url=fake.url + "/", key_id=fake.key_id, secret=secret or fake.secret,
                        timeout=timeout, retries=retries, backoff=backoff)


def _submit(client, client_ref="52-out-7", id_number=None):
    return client.transfer_submit(
        client_ref=client_ref, from_province=HOME, to_province=SICHUAN, name="张调出", id_type="resident_id_card",
        id_number=id_number or make_id_number(), mobile=make_mobile(), reason="work", destination="成都某单位",
        payload={"credits": []},
    )


def test_the_signature_is_hmac_over_timestamp_method_path_and_body():
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1700000000.POST./api/v1/transfers.{}", hashlib.sha256).hexdigest()
    assert sign(secret="s3cret", timestamp="1700000000", method="post", path="/api/v1/transfers",
                body=b"{}") == expected


def test_requests_are_signed_and_submission_is_idempotent(fake):
    client = client_for(fake)
    number = make_id_number()
    first = _submit(client, id_number=number)
    again = _submit(client, id_number=number)
    assert first.ref == again.ref and first.status == "pending_receipt" and first.updated_at.tzinfo
    assert len(fake.records) == 1
    assert all(r["signature_valid"] for r in fake.requests)
    headers = fake.requests[0]["headers"]
    assert headers["X-Platform-Key"] == fake.key_id and headers["X-Timestamp"].isdigit()
    assert len(headers["X-Signature"]) == 64
    assert fake.requests[0]["path"] == "/api/v1/transfers" and fake.requests[0]["body"]["id_number"] == number
    assert client.transfer_find(client_ref="52-out-7").ref == first.ref
    assert client.transfer_find(client_ref="52-out-404") is None  # 404 → None
    # The ID number never travels in a URL.
    assert not any(number in r["path"] for r in fake.requests)


def test_a_wrong_secret_is_not_accepted(fake):
    with pytest.raises(PlatformUnavailable) as down:
        _submit(client_for(fake, secret="not-the-secret"))
    assert "401" in down.value.detail and not fake.records
    assert not fake.requests[0]["signature_valid"]


def test_status_withdraw_and_receive(fake):
    client = client_for(fake)
    ref = _submit(client).ref
    assert client.transfer_status(ref=ref).status == "pending_receipt"
    assert client.transfer_withdraw(ref=ref).status == "withdrawn"
    with pytest.raises(PlatformRefused) as refused:
        client.incoming_receive(ref=ref, to_province=SICHUAN)
    assert refused.value.code == "withdrawn"

    number = make_id_number()
    inc = fake.add_incoming(name="李调入", id_number=number, mobile="+8613900000001")
    found = client.incoming_find(to_province=HOME, name="李调入", id_type="resident_id_card", id_number=number)
    assert found.ref == inc and found.id_number == number and found.payload["educations"]
    assert client.incoming_find(to_province=HOME, name="别人", id_type="resident_id_card", id_number=number) is None
    assert client.incoming_get(ref=inc).mobile == "+8613900000001"
    assert client.incoming_get(ref="QG404") is None
    assert client.incoming_receive(ref=inc, to_province=HOME).status == "received"
    assert client.incoming_receive(ref=inc, to_province=HOME).status == "received"
    with pytest.raises(PlatformRefused) as refused:
        client.transfer_withdraw(ref=inc)
    assert refused.value.code == "received"
    assert not any(number in r["path"] for r in fake.requests)


def test_5xx_is_retried_then_unavailable(fake):
    client = client_for(fake, retries=2)
    fake.answer("error")
    with pytest.raises(PlatformUnavailable) as down:
        client.transfer_status(ref="QG1")
    assert down.value.detail == "HTTP 500" and len(fake.requests) == 3
    assert "全国平台暂时无法连接" in down.value.message
    fake.answer("ok")
    fake.script("error", "error")
    assert _submit(client).status == "pending_receipt"  # through on the third try
    assert len(fake.requests) == 6 and len(fake.records) == 1


def test_a_hang_times_out(fake):
    client = client_for(fake, timeout=0.3, retries=1)
    fake.answer("hang")
    started = time.monotonic()
    with pytest.raises(PlatformUnavailable) as down:
        client.transfer_status(ref="QG1")
    assert time.monotonic() - started < 2.5
    assert "Timeout" in down.value.detail and len(fake.requests) == 2


def test_nonsense_is_unavailable_not_a_crash(fake):
    client = client_for(fake, retries=1)
    fake.answer("not_json")
    with pytest.raises(PlatformUnavailable) as down:
        client.transfer_status(ref="QG1")
    assert down.value.detail == "invalid JSON" and len(fake.requests) == 2
    fake.answer("ok")
    ref = _submit(client).ref
    fake.records[ref]["status"] = "lost_in_the_post"
    with pytest.raises(PlatformUnavailable) as down:
        client.transfer_status(ref=ref)
    assert "bad status document" in down.value.detail


def test_404_and_409(fake):
    client = client_for(fake)
    fake.answer("not_found")
    assert client.incoming_find(to_province=HOME, name="x", id_type="resident_id_card",
                                id_number=make_id_number()) is None
    assert client.transfer_find(client_ref="52-out-1") is None
    assert client.incoming_get(ref="QG1") is None
    with pytest.raises(PlatformRefused) as refused:
        client.transfer_status(ref="QG1")
    assert refused.value.code == "not_found"
    fake.answer("conflict")
    fake.conflict_status = "received"
    with pytest.raises(PlatformRefused) as refused:
        client.transfer_withdraw(ref="QG1")
    assert refused.value.code == "received" and "调入地已接收" in refused.value.message
    fake.conflict_status = "withdrawn"
    with pytest.raises(PlatformRefused) as refused:
        client.incoming_receive(ref="QG1", to_province=HOME)
    assert refused.value.code == "withdrawn"


def test_a_closed_port_is_unavailable():
    with FakePlatform() as server:
        url = server.url
    client = HttpPlatform(base_url=url, key_id="k", secret="s", timeout=0.5, retries=1, backoff=0)
    with pytest.raises(PlatformUnavailable) as down:
        client.transfer_status(ref="QG1")
    assert "ConnectionError" in down.value.detail


def test_the_http_backend_needs_a_url(settings):
    settings.NATIONAL_PLATFORM_BACKEND = "http"
    settings.NATIONAL_PLATFORM_URL = ""
    with pytest.raises(ValueError):
        platform()


# --- the portal's services on the http backend ----------------------------------------


@pytest.fixture
def on_http(fake, settings):
    settings.NATIONAL_PLATFORM_BACKEND = "http"
    settings.NATIONAL_PLATFORM_URL = fake.url
    settings.NATIONAL_PLATFORM_KEY_ID = fake.key_id
    settings.NATIONAL_PLATFORM_SECRET = fake.secret
    settings.NATIONAL_PLATFORM_TIMEOUT_SECONDS = 1.0
    settings.NATIONAL_PLATFORM_RETRIES = 0
    assert isinstance(platform(), HttpPlatform)
    return fake


@pytest.mark.django_db
def test_submit_sync_and_receipt_over_http(on_http, accountant):
    transfer = submitted(accountant)
    assert transfer.platform_ref in on_http.records and not PlatformRecord.objects.exists()
    sent = on_http.records[transfer.platform_ref]
    assert sent["client_ref"] == transfer.client_ref and sent["name"] == accountant.name
    assert sent["id_number"] == accountant.plain_id_number and sent["payload"]["photo"]
    # a retried submission finds the first one
    assert services.transfer_out_submit(transfer_id=transfer.pk) is True
    assert len(on_http.records) == 1

    on_http.answer("error")
    assert services.transfers_sync() == 0
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING_RECEIPT and transfer.sync_error == "HTTP 500"

    on_http.answer("ok")
    on_http.set_status(transfer.platform_ref, "received")
    assert services.transfers_sync() == 1
    transfer.refresh_from_db()
    accountant.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and transfer.sync_error == ""
    assert accountant.transferred_out_at is not None


@pytest.mark.django_db
def test_withdraw_over_http(on_http, accountant):
    transfer = submitted(accountant)
    services.transfer_out_withdraw(user=accountant, transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN
    assert on_http.records[transfer.platform_ref]["status"] == "withdrawn"


@pytest.mark.django_db
def test_withdraw_over_http_lost_to_the_receipt(on_http, accountant):
    transfer = submitted(accountant)
    on_http.set_status(transfer.platform_ref, "received")
    with pytest.raises(services.TransferError):
        services.transfer_out_withdraw(user=accountant, transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED


@pytest.mark.django_db
def test_submit_while_the_http_platform_is_down_then_up(on_http, accountant):
    transfer = apply(accountant)
    on_http.answer("error")
    assert services.transfer_out_submit(transfer_id=transfer.pk) is False
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED and transfer.platform_ref is None
    assert transfer.sync_error == "HTTP 500"
    on_http.answer("ok")
    assert services.transfer_out_submit(transfer_id=transfer.pk) is True
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING_RECEIPT and len(on_http.records) == 1


@pytest.mark.django_db
def test_transfer_in_over_http(on_http, reference_data):
    number = make_id_number(area="510104")
    ref = on_http.add_incoming(name="李调入", id_number=number, mobile="+8613900000077")
    user = services.transfer_in_complete(ref=ref, division=Division.objects.get(code="520102"),
                                         employer="贵阳某公司", password="Gz#Diaoru2026")
    assert on_http.records[ref]["status"] == "received"
    assert Archive.objects.get(user=user).status == ArchiveStatus.COLLECTED
    assert TransferIn.objects.get(platform_ref=ref).user == user
    assert User.objects.count() == 1
