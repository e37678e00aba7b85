"""Thin Celery tasks for 跨省调转: load by id, call a service, retry with backoff."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(bind=True, max_retries=8, acks_late=True)
def transfer_out_submit(self, transfer_id: int) -> bool:
    """Send an application to the national platform; retried while the platform is down
    (and swept after that: the application stays 已提交 until it is through)."""
    try:
        done = services.transfer_out_submit(transfer_id=transfer_id)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=min(10 * 2**self.request.retries, 600)) from exc
    if not done and self.request.retries < self.max_retries and not self.request.is_eager:
        raise self.retry(countdown=min(10 * 2**self.request.retries, 600))
    return done


@shared_task
def transfer_submit_sweep() -> int:
    """Queue applications still 已提交 without a platform reference."""
    return services.transfer_submit_sweep()


@shared_task(acks_late=True)
def transfer_sync(transfer_id: int) -> bool:
    return services.transfer_sync(transfer_id=transfer_id)


@shared_task
def transfers_sync() -> int:
    """Periodic: read the status of every open transfer from the platform."""
    return services.transfers_sync()
