"""SMS outbox delivery through the real task path: inline without Redis, a real
Celery worker consuming from Redis in CI."""

from __future__ import annotations

import contextlib

import pytest
from django.urls import reverse

from accounts import sms
from accounts.models import SmsCode, SmsMessage, SmsPurpose, SmsStatus, User
from portal.celery import app
from tests.conftest import wait_for
from tests.factories import make_id_number

pytestmark = pytest.mark.services


@contextlib.contextmanager
def broker_down():
    """Point the producer at a closed port, as if Redis were down."""
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False
    _reset_pools()
    try:
        yield
    finally:
        app.conf.update(saved)
        _reset_pools()


def _reset_pools():
    app._pool = None
    with contextlib.suppress(AttributeError):
        app.amqp._producer_pool = None
    app.__dict__.pop("producer_pool", None)


def _register_through_the_form(client, *, id_number: str, mobile: str) -> SmsMessage:
    client.post(reverse("accounts:register_eligibility"), {"works_in_guizhou": "yes", "holds_qualification": "no"})
    form = {
        "name": "李四",
        "id_type": "resident_id_card",
        "id_number": id_number,
        "password1": "Kj#Test2026pass",
        "password2": "Kj#Test2026pass",
        "mobile": mobile,
    }
    client.post(reverse("accounts:register"), {**form, "action": "send_code"})
    message = SmsMessage.objects.filter(mobile="+86" + mobile).latest("created_at")
    code = message.body.split("验证码")[1][:6]
    response = client.post(reverse("accounts:register"), {**form, "sms_code": code})
    assert response.status_code == 302, response.content.decode()[:2000]
    return message


def test_code_sms_is_sent_exactly_once_after_the_broker_comes_back(client, tasks_run):
    with broker_down():
        _register_through_the_form(client, id_number=make_id_number(), mobile="13912340001")
        # Registration went through although nothing could be queued.
        assert User.objects.filter(mobile="+8613912340001").count() == 1
        message = SmsMessage.objects.get(mobile="+8613912340001")
        assert message.status == SmsStatus.PENDING
        assert message.attempts == 0
        assert sms.sms_outbox_sweep(older_than_seconds=0) == 0  # still down: nothing queued

    # The broker is back: the periodic sweep queues what was left.
    assert sms.sms_outbox_sweep(older_than_seconds=0) == 1
    wait_for(lambda: SmsMessage.objects.get(pk=message.pk).status == SmsStatus.SENT, message="the SMS to be sent")
    # A second sweep and a duplicate task change nothing: one send in all.
    assert sms.sms_outbox_sweep(older_than_seconds=0) == 0
    from accounts.tasks import sms_send

    sms_send.apply_async(args=(message.pk,))
    probe = sms.sms_message_queue(mobile="+8613912340001", body="probe")
    wait_for(lambda: SmsMessage.objects.get(pk=probe.pk).status == SmsStatus.SENT, message="a later SMS")
    message.refresh_from_db()
    assert message.attempts == 1
    assert SmsCode.objects.filter(mobile="+8613912340001", purpose=SmsPurpose.REGISTER).count() == 1


def test_queued_on_commit_and_sent_by_the_worker(tasks_run):
    message = sms.sms_message_queue(mobile="+8613912340002", body="hello")
    wait_for(lambda: SmsMessage.objects.get(pk=message.pk).status == SmsStatus.SENT, message="the SMS to be sent")
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.sent_at is not None
