"""portal.paginators: estimated counts only for an unfiltered list of a large PostgreSQL table."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import SmsMessage
from portal import paginators
from portal.paginators import EstimatedCountPaginator


@pytest.mark.django_db
def test_exact_count_when_filtered_or_small(monkeypatch):
    for n in range(3):
        SmsMessage.objects.create(mobile=f"+8613900000{n:03d}", body="x")
    monkeypatch.setattr(paginators, "estimated_row_count", lambda model, using="default": 1_000_000)
    assert EstimatedCountPaginator(SmsMessage.objects.filter(body="x"), 10).count == 3
    assert EstimatedCountPaginator(list(SmsMessage.objects.all()), 10).count == 3


@pytest.mark.django_db
def test_estimate_for_a_large_unfiltered_table(monkeypatch):
    monkeypatch.setattr(paginators, "estimated_row_count", lambda model, using="default": 300_000)
    paginator = EstimatedCountPaginator(SmsMessage.objects.all(), 100)
    assert paginator.count == 300_000 and paginator.num_pages == 3000


@pytest.mark.django_db
def test_reltuples_on_postgresql_only():
    estimate = paginators.estimated_row_count(SmsMessage)
    if connection.vendor == "postgresql":
        assert estimate is None or estimate >= 0  # -1 (never analysed) is reported as None
    else:
        assert estimate is None
