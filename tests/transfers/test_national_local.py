"""The national-platform adapter, local backend: idempotent submission, the state
transitions, and a withdrawal racing the destination's receipt (exactly one wins)."""

from __future__ import annotations

import pytest

from tests.factories import make_id_number, make_mobile
from transfers import services
from transfers.models import PlatformRecord, PlatformStatus, TransferStatus
from transfers.national import LocalPlatform, PlatformRefused, platform

from .helpers import HOME, SICHUAN, at_once, incoming, receive, submitted


def _submit(client, client_ref: str = "52-out-1", **extra):
    values = dict(client_ref=client_ref, from_province=HOME, to_province=SICHUAN, name="张调出",
                  id_type="resident_id_card", id_number=make_id_number(), mobile=make_mobile(), reason="work",
                  destination="成都某单位", payload={"archive_number": "x"})
    return client.transfer_submit(**{**values, **extra})


def test_the_local_backend_is_the_default(settings):
    assert isinstance(platform(), LocalPlatform)
    settings.NATIONAL_PLATFORM_BACKEND = "carrier-pigeon"
    with pytest.raises(ValueError):
        platform()


@pytest.mark.django_db
def test_submit_is_idempotent_on_the_client_ref():
    client = LocalPlatform()
    first = _submit(client)
    again = _submit(client, destination="一个重试")
    assert first.ref == again.ref and first.status == PlatformStatus.PENDING_RECEIPT
    assert PlatformRecord.objects.count() == 1
    other = _submit(client, client_ref="52-out-2")
    assert other.ref != first.ref and PlatformRecord.objects.count() == 2
    assert client.transfer_find(client_ref="52-out-1").ref == first.ref
    assert client.transfer_find(client_ref="52-out-404") is None
    record = PlatformRecord.objects.get(ref=first.ref)
    assert record.id_number_masked.count("*") >= 8 and len(record.id_hash) == 64
    assert not record.ref.startswith(HOME + "0") and record.ref.startswith("QG")


@pytest.mark.django_db
def test_withdraw_then_receive_is_refused():
    client = LocalPlatform()
    ref = _submit(client).ref
    assert client.transfer_status(ref=ref).status == PlatformStatus.PENDING_RECEIPT
    assert client.transfer_withdraw(ref=ref).status == PlatformStatus.WITHDRAWN
    assert client.transfer_withdraw(ref=ref).status == PlatformStatus.WITHDRAWN  # a retry is harmless
    with pytest.raises(PlatformRefused) as refused:
        client.outgoing_receive(ref=ref, from_province=HOME)
    assert refused.value.code == PlatformStatus.WITHDRAWN
    assert client.transfer_status(ref=ref).status == PlatformStatus.WITHDRAWN


@pytest.mark.django_db
def test_receive_then_withdraw_is_refused():
    client = LocalPlatform()
    ref = _submit(client).ref
    assert client.outgoing_receive(ref=ref, from_province=HOME).status == PlatformStatus.RECEIVED
    assert client.outgoing_receive(ref=ref, from_province=HOME).status == PlatformStatus.RECEIVED  # idempotent
    with pytest.raises(PlatformRefused) as refused:
        client.transfer_withdraw(ref=ref)
    assert refused.value.code == PlatformStatus.RECEIVED and "已接收" in refused.value.message
    assert client.transfer_status(ref=ref).status == PlatformStatus.RECEIVED


@pytest.mark.django_db
def test_unknown_references_and_the_wrong_province():
    client = LocalPlatform()
    for call in (lambda: client.transfer_status(ref="QG404"), lambda: client.transfer_withdraw(ref="QG404"),
                 lambda: client.incoming_receive(ref="QG404", to_province=HOME)):
        with pytest.raises(PlatformRefused) as refused:
            call()
        assert refused.value.code == "not_found"
    ref = _submit(client).ref  # bound for 四川, not for us
    with pytest.raises(PlatformRefused) as refused:
        client.incoming_receive(ref=ref, to_province=HOME)
    assert refused.value.code == "wrong_province"
    with pytest.raises(PlatformRefused):
        client.outgoing_receive(ref=ref, from_province="33")  # not out of 浙江
    assert client.transfer_status(ref=ref).status == PlatformStatus.PENDING_RECEIPT


@pytest.mark.django_db
def test_incoming_find_and_receive():
    number, mobile = make_id_number(), make_mobile()
    old = incoming(name="李调入", id_number=number, mobile=mobile, status=PlatformStatus.WITHDRAWN)
    rec = incoming(name="李调入", id_number=number, mobile=mobile)
    client = LocalPlatform()
    found = client.incoming_find(to_province=HOME, name="李调入", id_type="resident_id_card", id_number=number)
    assert found.ref == rec.ref != old.ref  # the open record first
    assert (found.id_number, found.mobile, found.from_province) == (number, mobile, SICHUAN)
    assert found.payload["educations"][0]["school"]
    assert client.incoming_find(to_province=HOME, name="李调人", id_type="resident_id_card", id_number=number) is None
    assert client.incoming_find(to_province="33", name="李调入", id_type="resident_id_card", id_number=number) is None
    assert client.incoming_get(ref=rec.ref).name == "李调入" and client.incoming_get(ref="QG404") is None
    assert client.incoming_receive(ref=rec.ref, to_province=HOME).status == PlatformStatus.RECEIVED
    assert client.incoming_receive(ref=rec.ref, to_province=HOME).status == PlatformStatus.RECEIVED
    with pytest.raises(PlatformRefused) as refused:
        client.incoming_receive(ref=old.ref, to_province=HOME)
    assert refused.value.code == PlatformStatus.WITHDRAWN


# --- the race: the person withdraws while the destination receives ----------------------


@pytest.mark.django_db
def test_sequential_withdraw_first_wins_and_the_portal_shows_withdrawn(accountant):
    transfer = submitted(accountant)
    services.transfer_out_withdraw(user=accountant, transfer_id=transfer.pk)
    with pytest.raises(PlatformRefused):
        receive(transfer)
    services.transfers_sync()
    transfer.refresh_from_db()
    accountant.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN and transfer.withdrawn_at and not transfer.received_at
    assert accountant.transferred_out_at is None


@pytest.mark.django_db
def test_sequential_receive_first_wins_and_the_withdrawal_says_so(accountant):
    transfer = submitted(accountant)
    receive(transfer)
    with pytest.raises(services.TransferError) as refused:
        services.transfer_out_withdraw(user=accountant, transfer_id=transfer.pk)
    assert refused.value.code == "received" and "不能再撤回" in refused.value.message
    transfer.refresh_from_db()
    accountant.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and transfer.received_at and not transfer.withdrawn_at
    assert accountant.transferred_out_at is not None
    assert PlatformRecord.objects.get(ref=transfer.platform_ref).status == PlatformStatus.RECEIVED


@pytest.mark.parametrize("round_", range(3))
@pytest.mark.django_db(transaction=True)
def test_adapter_withdraw_racing_receive_exactly_one_wins(round_):
    client = LocalPlatform()
    ref = _submit(client, client_ref=f"52-out-race-{round_}").ref
    results = at_once(lambda: LocalPlatform().transfer_withdraw(ref=ref),
                      lambda: LocalPlatform().outgoing_receive(ref=ref, from_province=HOME))
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], PlatformRefused), results
    final = PlatformRecord.objects.get(ref=ref).status
    assert final == won[0].status and lost[0].code == final


@pytest.mark.parametrize("round_", range(3))
@pytest.mark.django_db(transaction=True)
def test_the_persons_withdrawal_racing_the_receipt_exactly_one_wins(reference_data, round_):
    from tests.education.helpers import collect
    from tests.factories import AccountFactory

    user = AccountFactory(name=f"竞争{round_}")
    collect(user)
    transfer = submitted(user)

    def withdraw():
        return services.transfer_out_withdraw(user=user, transfer_id=transfer.pk)

    def destination():
        return LocalPlatform().outgoing_receive(ref=transfer.platform_ref, from_province=HOME)

    results = at_once(withdraw, destination)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    services.transfers_sync()
    transfer.refresh_from_db()
    user.refresh_from_db()
    platform_status = PlatformRecord.objects.get(ref=transfer.platform_ref).status
    if isinstance(results[0], Exception):  # the receipt won
        assert isinstance(results[0], services.TransferError) and results[0].code == "received"
        assert platform_status == PlatformStatus.RECEIVED
        assert transfer.status == TransferStatus.RECEIVED and user.transferred_out_at is not None
    else:  # the withdrawal won
        assert isinstance(results[1], PlatformRefused) and results[1].code == PlatformStatus.WITHDRAWN
        assert platform_status == PlatformStatus.WITHDRAWN
        assert transfer.status == TransferStatus.WITHDRAWN and user.transferred_out_at is None
