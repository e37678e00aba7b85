"""No full ID number in a 跨省调转 URL or in a log record, through both flows."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.test_views import latest_code
from tests.images import document_upload
from transfers import services
from transfers.models import TransferOut

from .helpers import receive, text
from .test_transfer_in import CONFIRM, DONE, NEW_PASSWORD, PASSWORD, SMS_URL, VERIFY, division, person, record_for

pytestmark = pytest.mark.django_db


class Recorder:
    """A test client that remembers every URL it asked for and was sent to."""

    def __init__(self, client):
        self.client = client
        self.urls: list[str] = []

    def _seen(self, url, response):
        self.urls.append(url)
        if response.status_code in (301, 302):
            self.urls.append(response["Location"])
        return response

    def get(self, url, *args, **kwargs):
        return self._seen(url, self.client.get(url, *args, **kwargs))

    def post(self, url, *args, **kwargs):
        return self._seen(url, self.client.post(url, *args, **kwargs))


@pytest.fixture
def all_logs(caplog):
    for name in ("", "transfers", "accounts", "collection", "education", "celery", "portal", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _logged(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)


def test_transfer_out_flow(client, accountant, all_logs):
    client.force_login(accountant)
    browser = Recorder(client)
    browser.get(reverse("transfers:index"))
    browser.get(reverse("transfers:out_list"))
    browser.get(reverse("transfers:out_create"))
    response = browser.post(reverse("transfers:out_create"), {
        "to_province": "51", "reason": "study", "destination": "四川大学", "evidence": document_upload("JPEG")})
    assert response.status_code == 302
    transfer = TransferOut.objects.get(user=accountant)
    services.transfer_out_submit(transfer_id=transfer.pk)
    browser.get(reverse("transfers:out_list"))
    browser.get(reverse("transfers:out_evidence", args=[transfer.pk]))
    browser.post(reverse("transfers:out_withdraw", args=[transfer.pk]))
    browser.post(reverse("transfers:out_create"), {
        "to_province": "44", "reason": "work", "destination": "广州", "evidence": document_upload("JPEG")})
    second = TransferOut.objects.filter(user=accountant).latest("pk")
    services.transfer_out_submit(transfer_id=second.pk)
    second.refresh_from_db()
    receive(second)
    services.transfers_sync()
    browser.get(reverse("transfers:out_list"))
    number = accountant.plain_id_number
    assert len(browser.urls) >= 9
    assert not [u for u in browser.urls if number in u or number[-8:] in u]
    assert all_logs.records and number not in _logged(all_logs)
    assert number not in text(browser.get(reverse("transfers:out_list")))


def test_transfer_in_flow(reference_data, all_logs):
    data = person()
    record_for(data)
    browser = Recorder(Client())
    browser.get(reverse("transfers:index"))
    browser.get(VERIFY)
    assert browser.post(SMS_URL, {"purpose": "transfer_in", **data}).status_code == 200
    browser.post(VERIFY, {**data, "sms_code": "000000" if latest_code(data["mobile"]) != "000000" else "111111"})
    browser.post(VERIFY, {**data, "action": "send_code"})
    assert browser.post(VERIFY, {**data, "sms_code": latest_code(data["mobile"])}).status_code == 302
    browser.get(CONFIRM)
    browser.post(CONFIRM, {"prefecture": division("520100").pk, "county": division("520102").pk,
                           "employer": "贵阳某公司", "confirmed": "on"})
    browser.get(PASSWORD)
    browser.post(PASSWORD, {"password1": "short", "password2": "short"})
    assert browser.post(PASSWORD, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).url == DONE
    browser.get(DONE)
    browser.post(reverse("accounts:login"), {"id_number": data["id_number"], "password": NEW_PASSWORD})
    # a refused try too (the record is received now)
    browser.post(VERIFY, {**data, "action": "send_code"})
    browser.post(VERIFY, {**data, "sms_code": latest_code(data["mobile"])})
    number = data["id_number"]
    assert not [u for u in browser.urls if number in u or number[-8:] in u]
    logged = _logged(all_logs)
    assert "transfer in" in logged and number not in logged
