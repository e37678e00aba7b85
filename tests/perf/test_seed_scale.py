"""`manage.py seed_scale` on a small size: valid, consistent and re-runnable (the 300k run is a benchmark)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.identity import validate_id_number
from accounts.models import User
from collection.models import Archive, ArchiveStatus, Division, DivisionLevel
from collection.reference import reference_data_load
from education import credits
from education.models import CreditRecord, CreditYearTotal, Enrolment
from portal import scale


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(accountants: int, records: int) -> str:
    out = io.StringIO()
    call_command("seed_scale", accountants=accountants, credit_records=records, stdout=out)
    return out.getvalue()


def seeded_counts() -> tuple[int, int, int, int]:
    return (Archive.objects.filter(email__endswith="@" + scale.SEED_DOMAIN).count(),
            CreditRecord.objects.filter(record_id__startswith=scale.RECORD_PREFIX, source="institution").count(),
            CreditYearTotal.objects.count(), Enrolment.objects.count())


@pytest.mark.django_db(transaction=True)
def test_seed_is_consistent_and_rerunnable():
    reference_data_load()
    seed(200, 2000)
    people, records, totals, enrolments = seeded_counts()
    assert (people, records) == (200, 2000)
    assert totals > 0 and enrolments > 0
    assert credits.credit_totals_check() == []
    collected = Archive.objects.filter(status=ArchiveStatus.COLLECTED, email__endswith="@" + scale.SEED_DOMAIN)
    assert collected.count() == 198  # one in a hundred is still a draft (99 and 199)
    # Spread over the counties, with some 省本级.
    divisions = set(collected.values_list("division__level", flat=True))
    assert divisions == {DivisionLevel.COUNTY, DivisionLevel.PROVINCE}
    assert collected.values("division").distinct().count() > 60
    assert Division.objects.filter(level=DivisionLevel.COUNTY).count() == 88

    # A seeded person has a valid ID number and logs in with the documented password.
    user = User.objects.get(archive__email=scale.seed_email(12))
    number = user.id_number
    assert validate_id_number("resident_id_card", number).number == number
    response = Client().post(reverse("accounts:login"), {"id_number": number, "password": scale.SEED_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("accounts:home")

    # A second run adds nothing; a larger one tops up, and the totals stay exact.
    output = seed(200, 2000)
    assert "0 created" in output
    assert seeded_counts() == (people, records, totals, enrolments)
    seed(220, 2500)
    assert seeded_counts()[:2] == (220, 2500)
    assert credits.credit_totals_check() == []


@pytest.mark.django_db
def test_refuses_large_runs_on_sqlite(monkeypatch):
    # The limit is SQLite's: on the PostgreSQL CI run the connection is made to say "sqlite".
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed(scale.SQLITE_MAX_ACCOUNTANTS + 1, 10)
