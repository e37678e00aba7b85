"""Reads for 继续教育."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from .models import CreditBatch, CreditRecord, CreditYearTotal, Enrolment, Institution


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


def credit_batch_of(*, institution, batch_id: int) -> CreditBatch | None:
    """The institution's own batch, or None (another institution's)."""
    return CreditBatch.objects.filter(pk=batch_id, institution=institution).first()


@dataclass(frozen=True)
class YearCredits:
    """A person's credits of a year against the requirement."""

    year: int
    public: Decimal
    professional: Decimal
    total: Decimal
    has_records: bool

    @property
    def required_total(self) -> int:
        return settings.CE_ANNUAL_MIN_CREDITS

    @property
    def required_public(self) -> int:
        return settings.CE_PUBLIC_MIN_CREDITS

    @property
    def required_professional(self) -> int:
        return settings.CE_PROFESSIONAL_MIN_CREDITS

    @property
    def met(self) -> bool:
        """达标: every one of the three minimums is reached (equal counts)."""
        return (self.total >= self.required_total and self.public >= self.required_public
                and self.professional >= self.required_professional)


def year_credits(*, user, year: int) -> YearCredits:
    """The year's totals from the summary row (one query; the records are never summed here)."""
    row = CreditYearTotal.objects.filter(user=user, year=year).first()
    zero = Decimal("0.0")
    if row is None:
        return YearCredits(year=year, public=zero, professional=zero, total=zero, has_records=False)
    return YearCredits(year=year, public=row.public_credits, professional=row.professional_credits,
                       total=row.total, has_records=True)


def credit_records_of(*, user, year: int) -> QuerySet[CreditRecord]:
    """查看明细: the person's records of the year with their institution, one query."""
    return (CreditRecord.objects.filter(user=user, year=year).select_related("institution")
            .order_by("completed_at", "pk"))
