"""The periodic sync and the submission outbox: a platform outage never loses an
application or blocks a page; the status shown is the last known one, with its time."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.accounts.test_sms_delivery import broker_down
from tests.conftest import wait_for
from transfers import services, tasks
from transfers.models import PlatformRecord, PlatformStatus, TransferOut, TransferStatus
from transfers.national import LocalPlatform

from .helpers import HOME, FakePlatform, apply, receive, submitted, text

OUT_LIST = reverse("transfers:out_list")


@pytest.fixture
def closed_port() -> str:
    with FakePlatform() as server:
        url = server.url
    return url  # nothing listens there any more


@pytest.fixture
def platform_down(settings, closed_port):
    """Switch the national platform off (the http backend at a closed port) and on again."""

    def switch(down: bool) -> None:
        if down:
            settings.NATIONAL_PLATFORM_BACKEND = "http"
            settings.NATIONAL_PLATFORM_URL = closed_port
            settings.NATIONAL_PLATFORM_KEY_ID = "gz-portal"
            settings.NATIONAL_PLATFORM_SECRET = "platform-secret"
            settings.NATIONAL_PLATFORM_TIMEOUT_SECONDS = 0.3
            settings.NATIONAL_PLATFORM_RETRIES = 0
        else:
            settings.NATIONAL_PLATFORM_BACKEND = "local"

    return switch


def test_the_sync_and_the_sweep_are_periodic():
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"transfers.tasks.transfers_sync", "transfers.tasks.transfer_submit_sweep"} <= schedule


@pytest.mark.django_db
def test_sync_reads_the_status_from_the_platform(accountant, other_accountant):
    first, second = submitted(accountant), submitted(other_accountant, to_province="44")
    assert tasks.transfers_sync() == 2  # nothing new: both still 待调入地接收
    receive(first)
    LocalPlatform().transfer_withdraw(ref=second.platform_ref)  # e.g. withdrawn by a clerk at the platform
    assert tasks.transfers_sync() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    accountant.refresh_from_db()
    other_accountant.refresh_from_db()
    assert first.status == TransferStatus.RECEIVED and accountant.transferred_out_at is not None
    assert second.status == TransferStatus.WITHDRAWN and other_accountant.transferred_out_at is None
    assert tasks.transfers_sync() == 0  # nothing open any more
    # a final status is never left again, whatever the platform says later
    PlatformRecord.objects.filter(ref=first.platform_ref).update(status=PlatformStatus.PENDING_RECEIPT)
    services.transfer_sync(transfer_id=first.pk)
    first.refresh_from_db()
    assert first.status == TransferStatus.RECEIVED


@pytest.mark.django_db
def test_an_outage_keeps_the_last_status_and_its_time(accountant, accountant_client, platform_down):
    transfer = submitted(accountant)
    last_time = transfer.platform_status_at
    assert last_time is not None

    platform_down(True)
    assert tasks.transfers_sync() == 0
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING_RECEIPT and transfer.platform_status_at == last_time
    assert "ConnectionError" in transfer.sync_error
    response = accountant_client.get(OUT_LIST)
    assert response.status_code == 200
    html = text(response)
    assert "暂未能连接全国平台，以上为最近一次获取的状态" in html and "待调入地接收" in html
    assert 'data-testid="status-time"' in html and transfer.platform_ref in html
    for page in ("accounts:home", "collection:status", "education:credits"):
        assert accountant_client.get(reverse(page)).status_code == 200, page

    # 撤回 needs the platform: it says so and changes nothing
    response = accountant_client.post(reverse("transfers:out_withdraw", args=[transfer.pk]), follow=True)
    assert response.status_code == 200 and "全国平台暂时无法连接" in text(response)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING_RECEIPT

    platform_down(False)
    receive(transfer)
    assert tasks.transfers_sync() == 1
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and transfer.sync_error == ""
    assert transfer.platform_status_at > last_time
    assert "暂未能连接全国平台" not in text(accountant_client.get(OUT_LIST))


def test_a_submission_while_the_platform_is_down_is_swept_through_once(accountant, accountant_client, tasks_run,
                                                                      platform_down):
    with broker_down():  # nothing queued: the application is a row
        transfer = apply(accountant)
    platform_down(True)
    assert services.transfer_out_submit(transfer_id=transfer.pk) is False
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED and transfer.platform_ref is None and transfer.sync_error
    html = text(accountant_client.get(OUT_LIST))
    assert "暂未能连接全国平台" in html and "申请已保存，将自动报送" in html and "已提交" in html
    assert services.transfer_submit_sweep() == 0  # too recent for the sweep
    platform_down(False)

    # The platform did get an earlier try, but its answer was lost on the way back.
    LocalPlatform().transfer_submit(
        client_ref=transfer.client_ref, from_province=HOME, to_province=transfer.to_province, name=accountant.name,
        id_type=accountant.id_type, id_number=accountant.plain_id_number, mobile=str(accountant.mobile),
        reason=transfer.reason, destination=transfer.destination, payload={},
    )
    assert tasks.transfer_submit_sweep.apply(kwargs={}).get() == 0  # the task keeps the default age
    assert services.transfer_submit_sweep(older_than_seconds=0) == 1
    wait_for(lambda: TransferOut.objects.get(pk=transfer.pk).platform_ref, message="the swept submission")
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING_RECEIPT and transfer.sync_error == ""
    assert PlatformRecord.objects.filter(client_ref=transfer.client_ref).count() == 1
    assert PlatformRecord.objects.get().ref == transfer.platform_ref
    assert services.transfer_submit_sweep(older_than_seconds=0) == 0
    # a late duplicate of the task changes nothing
    assert services.transfer_out_submit(transfer_id=transfer.pk) is True
    assert PlatformRecord.objects.count() == 1


def test_applied_with_everything_up_the_worker_submits_it(accountant_client, accountant, tasks_run):
    from tests.images import document_upload

    response = accountant_client.post(reverse("transfers:out_create"), {
        "to_province": "51", "reason": "work", "destination": "成都某单位", "evidence": document_upload("JPEG"),
    })
    assert response.status_code == 302 and response.url == OUT_LIST
    transfer = TransferOut.objects.get(user=accountant)
    wait_for(lambda: TransferOut.objects.get(pk=transfer.pk).status == TransferStatus.PENDING_RECEIPT,
             message="the worker to submit the application")
    transfer.refresh_from_db()
    assert transfer.platform_ref and PlatformRecord.objects.get(ref=transfer.platform_ref).client_ref == \
        transfer.client_ref
    html = text(accountant_client.get(OUT_LIST))
    assert "待调入地接收" in html and transfer.platform_ref in html
