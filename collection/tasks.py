"""Thin Celery tasks for collection."""

from celery import shared_task

from . import services


@shared_task
def orphan_uploads_delete() -> int:
    """Delete stored images that no archive refers to any more."""
    return services.orphan_uploads_delete()
