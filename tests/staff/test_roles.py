"""Roles (groups) with least privilege: each role reaches its admin pages and no others."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from accounts.roles import AUDITOR, QUERIER, REVIEWER, ROLE_NAMES, SYSADMIN, roles_setup
from education.models import CreditClaimStatus
from tests.staff.conftest import make_claim
from tests.staff.helpers import make_staff, otp_login

pytestmark = pytest.mark.django_db

PAGES = {
    "archives": "admin:collection_archive_changelist",
    "claims": "admin:education_creditclaim_changelist",
    "credit_totals": "admin:education_credityeartotal_changelist",
    "change_records": "admin:changes_changerecord_changelist",
    "users": "admin:accounts_user_changelist",
    "institutions": "admin:education_institution_changelist",
    "divisions": "admin:collection_division_changelist",
    "totp_devices": "admin:otp_totp_totpdevice_changelist",
    "audit": "admin:portal_auditentry_changelist",
    "sms": "admin:accounts_smsmessage_changelist",
    "groups": "admin:auth_group_changelist",
}

ALLOWED = {
    REVIEWER: {"archives", "claims", "credit_totals", "change_records"},
    QUERIER: {"archives", "claims", "credit_totals", "change_records"},
    SYSADMIN: {"users", "institutions", "divisions", "totp_devices", "sms", "groups"},
    AUDITOR: {"audit"},
}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_each_role_reaches_exactly_its_pages(client, role_users, role):
    client = otp_login(client, role_users[role])
    assert client.get(reverse("admin:index")).status_code == 200
    for page, url in PAGES.items():
        status = client.get(reverse(url)).status_code
        assert status == (200 if page in ALLOWED[role] else 403), (role, page, status)


def test_only_the_reviewer_decides_claims(client, role_users, people, this_year):
    claim = make_claim(people.nanming, this_year)
    review = reverse("admin:education_creditclaim_review", args=[claim.pk])
    otp_login(client, role_users[QUERIER])
    assert client.post(review, {"_approve": "1"}).status_code == 403
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING
    otp_login(client, role_users[REVIEWER])
    assert client.post(review, {"_approve": "1"}).status_code == 302
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.APPROVED


def test_reveal_needs_its_own_permission(client, role_users, people):
    url = reverse("admin:collection_archive_reveal", args=[people.nanming.archive.pk])
    otp_login(client, role_users[QUERIER])
    assert client.post(url).status_code == 403
    page = client.get(reverse("admin:collection_archive_change", args=[people.nanming.archive.pk])).content.decode()
    assert 'data-testid="reveal-id"' not in page and people.nanming.plain_id_number not in page
    otp_login(client, role_users[REVIEWER])
    page = client.get(reverse("admin:collection_archive_change", args=[people.nanming.archive.pk])).content.decode()
    assert 'data-testid="reveal-id"' in page and people.nanming.plain_id_number not in page
    assert client.get(url).status_code == 405  # POST only
    assert people.nanming.plain_id_number in client.post(url).content.decode()


def test_exports_need_their_permissions(client, people):
    viewer = make_staff("viewer-noexport", unit="province")
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_archive"))
    otp_login(client, viewer)
    assert client.get(reverse("admin:collection_archive_changelist")).status_code == 200
    assert client.get(reverse("admin:collection_archive_export", args=["csv"])).status_code == 403
    assert client.get(reverse("admin:collection_archive_export_compliance", args=[2025, "csv"])).status_code == 403
    page = client.get(reverse("admin:collection_archive_changelist")).content.decode()
    assert "export-archives-csv" not in page


def test_nobody_but_a_superuser_grants_superuser_or_single_permissions(client, role_users):
    otp_login(client, role_users[SYSADMIN])
    target = role_users[AUDITOR]
    page = client.get(reverse("admin:accounts_user_change", args=[target.pk])).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    assert 'name="groups"' in page and 'name="staff_profile-0-unit_kind"' in page


def test_setup_roles_is_idempotent(reference_data):
    before = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    call_command("setup_roles", verbosity=0)
    call_command("setup_roles", verbosity=0)
    after = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert before == after and set(ROLE_NAMES) <= set(after)
    assert after[AUDITOR] == {"view_auditentry"}
    assert "reveal_id_number" in after[REVIEWER] and "reveal_id_number" not in after[QUERIER]
    assert not any(p.startswith(("add_", "change_", "delete_")) for p in after[QUERIER])


def test_setup_roles_restores_a_tampered_group(reference_data):
    group = Group.objects.get(name=AUDITOR)
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="view_archive"))
    roles_setup()
    assert set(group.permissions.values_list("codename", flat=True)) == {"view_auditentry"}


def test_every_admin_link_on_an_archive_leads_somewhere_the_reviewer_may_go(client, people, staff):
    """The read-only archive page shows 民族, 政治面貌, 行政区划 and the rows' reference values
    as text: a county reviewer may not open those reference tables, so a link would be a 403."""
    import re

    otp_login(client, staff["nanming"])
    page = client.get(reverse("admin:collection_archive_change", args=[people.nanming.archive.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "汉族" in html  # the archive's 民族, shown as text
    links = set(re.findall(r'href="(/admin/[^"#?]*)', html))
    assert links, "the page has admin links (breadcrumbs at least)"
    for link in sorted(links):
        if link.endswith("/logout/"):
            continue
        assert client.get(link).status_code in (200, 302), link
