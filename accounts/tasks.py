"""Thin Celery tasks for accounts: load by id, call a service, retry with backoff."""

from celery import shared_task
from django.conf import settings

from . import services, sms


@shared_task(bind=True, max_retries=settings.SMS_SEND_MAX_RETRIES, acks_late=True)
def sms_send(self, message_id: int) -> bool:
    """Send one SMS from the outbox (idempotent: a sent row is skipped)."""
    try:
        return sms.sms_message_send(message_id=message_id)
    except sms.SmsGatewayError as exc:
        raise self.retry(exc=exc, countdown=min(10 * 2**self.request.retries, 900)) from exc


@shared_task
def sms_outbox_sweep() -> int:
    """Queue SMS rows left pending (broker was down, worker was killed)."""
    return sms.sms_outbox_sweep()


@shared_task
def user_sessions_prune() -> int:
    """Forget session records whose session has expired."""
    return services.user_sessions_prune()
