"""Reads for 继续教育."""

from __future__ import annotations

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from .models import Enrolment, Institution


def current_year() -> int:
    return timezone.localdate().year


def selectable_years() -> list[int]:
    """The 年度 select: this year back to settings.CE_FIRST_YEAR, newest first."""
    this_year = current_year()
    first = min(settings.CE_FIRST_YEAR, this_year)
    return list(range(this_year, first - 1, -1))


def institutions_for_year(*, year: int, user) -> QuerySet[Institution]:
    """Active institutions filed for the year, each with `my_enrolment_id` (the
    person's 报名 for that year, or None): one query whatever the number."""
    mine = Enrolment.objects.filter(user=user, year=year, institution=OuterRef("pk")).values("pk")[:1]
    return (
        Institution.objects.filter(is_active=True, filings__year=year)
        .annotate(my_enrolment_id=Subquery(mine))
        .order_by("name", "code")
    )


def enrolment_of(*, user, enrolment_id: int) -> Enrolment | None:
    """The person's own enrolment with its institution, or None (someone else's)."""
    return Enrolment.objects.select_related("institution").filter(pk=enrolment_id, user=user).first()
