"""年度 in the credit admin lists comes from the portal's year range, not from a
SELECT DISTINCT over millions of credits, and it filters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from education.selectors import current_year
from tests.staff.conftest import add_credits
from tests.staff.helpers import make_staff, otp_login

pytestmark = pytest.mark.django_db

LISTS = ("admin:education_creditrecord_changelist", "admin:education_credityeartotal_changelist",
         "admin:education_enrolment_changelist", "admin:education_creditclaim_changelist")


def test_the_year_filter_reads_no_table_and_filters(client, people):
    this_year = current_year()
    add_credits(people.nanming, this_year, public=30, professional=60)
    add_credits(people.nanming, this_year - 1, public=10, professional=0)
    otp_login(client, make_staff("year-filter-sys", superuser=True))
    for name in LISTS:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(name))
        assert page.status_code == 200, name
        assert f"?year={this_year}" in page.content.decode(), name  # the filter offers the portal's years
        assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()], name
    records = client.get(reverse("admin:education_creditrecord_changelist"), {"year": this_year - 1})
    assert {r.year for r in records.context["cl"].result_list} == {this_year - 1}
    totals = client.get(reverse("admin:education_credityeartotal_changelist"), {"year": this_year})
    assert [(t.year, t.total) for t in totals.context["cl"].result_list] == [(this_year, 90)]


def test_no_admin_list_reads_a_whole_table_for_its_filters(client, people):
    """Default filters of plain fields (and date_hierarchy) list their values with SELECT
    DISTINCT over the whole table: on the SMS, audit, enrolment and credit tables that grows
    with every person. Every list's filters come from choices, reference tables or the
    portal's own ranges instead."""
    from django.contrib import admin

    add_credits(people.nanming, current_year(), public=30, professional=60)
    otp_login(client, make_staff("distinct-sys", superuser=True))
    checked = 0
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse(name))
        assert page.status_code == 200, name
        assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()], name
        checked += 1
    assert checked >= 20
