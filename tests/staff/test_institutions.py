"""Institutions in the admin for 系统管理员: filings, API keys, batches with per-record results."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import SYSADMIN
from education import credits, services
from education.models import CreditBatch
from tests.education.helpers import credit_record, make_institution
from tests.staff.helpers import make_staff, otp_login

pytestmark = pytest.mark.django_db


def test_batches_with_per_record_results(client, people, this_year):
    institution = make_institution("GZB01", years=(this_year,))
    person = people.nanming
    person.plain_id_number = person.id_number
    services.enrolment_create(user=person, institution=institution, year=this_year)
    records = [
        credit_record(person, record_id="OK1", year=this_year),
        credit_record(person, record_id="OK1", year=this_year),
        credit_record(person, record_id="BAD", year=this_year, id_number="520102199001011234"),
    ]
    batch = credits.credit_batch_receive(institution=institution, records=records)
    credits.credit_batch_process(batch_id=batch.pk)
    otp_login(client, make_staff("sys", unit="province", role=SYSADMIN))

    page = client.get(reverse("admin:education_institution_changelist")).content.decode()
    assert f"?institution__id__exact={institution.pk}" in page and str(this_year) in page
    response = client.get(reverse("admin:education_creditbatch_changelist"), {"institution__id__exact": institution.pk})
    row = response.context["cl"].result_list[0]
    assert (row.accepted_count, row.duplicate_count, row.rejected_count) == (1, 1, 1)
    detail = client.get(reverse("admin:education_creditbatch_change", args=[batch.pk])).content.decode()
    assert "OK1" in detail and "BAD" in detail and person.id_number not in detail
    assert CreditBatch.objects.get(pk=batch.pk).items.count() == 2  # the accepted record is its credit
