"""Reads for 跨省调转 pages."""

from django.db.models import QuerySet

from .models import TransferOut


def transfers_of(*, user) -> QuerySet[TransferOut]:
    """调出省外申请 list: the person's applications, newest first."""
    return TransferOut.objects.filter(user=user).order_by("-created_at", "-pk")


def transfer_of(*, user, transfer_id: int) -> TransferOut | None:
    """The person's own application, or None (someone else's: the view answers 404)."""
    return TransferOut.objects.filter(pk=transfer_id, user=user).first()
