"""Thin Celery tasks for 继续教育: load by id, call a service."""

from celery import shared_task
from django.db import OperationalError

from . import credits


@shared_task(bind=True, max_retries=5, acks_late=True)
def credit_batch_process(self, batch_id: int) -> bool:
    """Process a credit batch (idempotent: records already done are skipped)."""
    try:
        return credits.credit_batch_process(batch_id=batch_id)
    except OperationalError as exc:  # a lock timeout or a dropped connection: try again later
        raise self.retry(exc=exc, countdown=min(10 * 2**self.request.retries, 600)) from exc


@shared_task
def credit_batch_sweep() -> int:
    """Queue credit batches left 待处理/处理中 (broker was down, worker was killed)."""
    return credits.credit_batch_sweep()
