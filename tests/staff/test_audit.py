"""The audit log: what is recorded, that 审计员 can browse and filter it, and that nobody
can change or delete a row (admin and model), except the retention purge after 185+ days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import AUDITOR
from portal.models import AuditAction, AuditEntry, AuditImmutable
from tests.staff.conftest import make_claim
from tests.staff.helpers import make_staff, otp_login

pytestmark = pytest.mark.django_db


def last(action):
    return AuditEntry.objects.filter(action=action).order_by("-pk").first()


def test_detail_upload_reveal_and_decisions_are_recorded(client, people, staff, this_year):
    reviewer = staff["nanming"]
    otp_login(client, reviewer)
    archive = people.nanming.archive
    client.get(reverse("admin:collection_archive_change", args=[archive.pk]), REMOTE_ADDR="10.9.8.7")
    row = last(AuditAction.ARCHIVE_VIEW)
    assert (row.actor, row.actor_username, row.object_type, row.object_id) == (
        reviewer, reviewer.username, "collection.Archive", str(archive.pk))
    assert row.person_id == people.nanming.pk and people.nanming.id_number_masked in row.person
    assert people.nanming.plain_id_number not in row.person and row.ip_address == "10.9.8.7"

    client.get(reverse("admin:collection_archive_upload", args=[archive.pk, "id_card_front"]))
    assert last(AuditAction.UPLOAD_VIEW).params == {"field": "id_card_front"}
    client.post(reverse("admin:collection_archive_reveal", args=[archive.pk]))
    assert last(AuditAction.ID_REVEAL).person_id == people.nanming.pk

    approve, reject = make_claim(people.nanming, this_year), make_claim(people.nanming, this_year)
    client.get(reverse("admin:education_creditclaim_evidence", args=[approve.pk]))
    assert last(AuditAction.UPLOAD_VIEW).object_type == "education.CreditClaim"
    client.post(reverse("admin:education_creditclaim_review", args=[approve.pk]), {"_approve": "1"})
    client.post(reverse("admin:education_creditclaim_review", args=[reject.pk]), {"_reject": "1", "reason": "模糊"})
    assert last(AuditAction.CLAIM_APPROVE).object_id == str(approve.pk)
    rejected = last(AuditAction.CLAIM_REJECT)
    assert rejected.object_id == str(reject.pk) and rejected.params["reason"] == "模糊"


def test_nothing_is_recorded_for_pages_refused(client, people, staff):
    otp_login(client, staff["nanming"])
    client.get(reverse("admin:collection_archive_change", args=[people.zhongshan.archive.pk]))
    client.get(reverse("admin:collection_archive_upload", args=[people.zhongshan.archive.pk, "photo"]))
    assert not AuditEntry.objects.exists()


def test_bulk_decisions_write_one_row_each(client, people, staff, this_year):
    a, b = make_claim(people.nanming, this_year), make_claim(people.nanming, this_year, activity="paper_sole")
    otp_login(client, staff["nanming"])
    client.post(reverse("admin:education_creditclaim_changelist"),
                {"action": "approve_selected", "_selected_action": [a.pk, b.pk]})
    rows = AuditEntry.objects.filter(action=AuditAction.CLAIM_APPROVE)
    assert sorted(rows.values_list("object_id", flat=True)) == sorted([str(a.pk), str(b.pk)])
    assert all(r.params["bulk"] is True for r in rows)


@pytest.fixture
def auditor_client(client, reference_data):
    return otp_login(client, make_staff("auditor", unit="province", role=AUDITOR))


def test_auditor_browses_and_filters(auditor_client, people, staff):
    otp_login_client = auditor_client
    from django.test import Client

    reviewer = otp_login(Client(), staff["province"])
    reviewer.get(reverse("admin:collection_archive_change", args=[people.nanming.archive.pk]))
    reviewer.post(reverse("admin:collection_archive_reveal", args=[people.yunyan.archive.pk]))
    changelist = reverse("admin:portal_auditentry_changelist")
    response = otp_login_client.get(changelist)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2
    response = otp_login_client.get(changelist, {"action__exact": AuditAction.ID_REVEAL})
    assert [r.person_id for r in response.context["cl"].result_list] == [people.yunyan.pk]
    response = otp_login_client.get(changelist, {"q": people.nanming.name})
    assert [r.person_id for r in response.context["cl"].result_list] == [people.nanming.pk]


def test_audit_rows_cannot_be_added_changed_or_deleted_through_admin(auditor_client, client, people, staff):
    entry = AuditEntry.objects.create(actor=staff["province"], actor_username="rev-province",
                                      action=AuditAction.ARCHIVE_VIEW, person="某人", ip_address="10.0.0.1")
    for c in (auditor_client, otp_login(client.__class__(), make_staff("superuser", superuser=True))):
        change = reverse("admin:portal_auditentry_change", args=[entry.pk])
        page = c.get(change)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert c.post(change, {"action": "id_reveal", "person": "x"}).status_code == 403
        assert c.get(reverse("admin:portal_auditentry_add")).status_code == 403
        assert c.post(reverse("admin:portal_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
        c.post(reverse("admin:portal_auditentry_changelist"),
               {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert (entry.action, entry.person) == (AuditAction.ARCHIVE_VIEW, "某人")


def test_the_model_refuses_changes_and_deletes(staff):
    entry = AuditEntry.objects.create(actor_username="x", action=AuditAction.EXPORT_ARCHIVES, row_count=3)
    entry.row_count = 0
    with pytest.raises(AuditImmutable):
        entry.save()
    with pytest.raises(AuditImmutable):
        entry.delete()
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(row_count=0)
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).row_count == 3


@pytest.mark.parametrize(("configured", "kept_days"), [(400, 400), (30, 185), (185, 185)])
def test_retention_keeps_at_least_185_days(db, settings, configured, kept_days):
    settings.AUDIT_RETENTION_DAYS = configured
    now = timezone.now()
    ages = [10, 184, kept_days - 1, kept_days + 1, 1000]
    for days in ages:
        AuditEntry.objects.create(actor_username="x", action=AuditAction.ARCHIVE_VIEW,
                                  created_at=now - dt.timedelta(days=days))
    assert AuditEntry.objects.retention_purge(now=now) == 2
    left = sorted((now - e.created_at).days for e in AuditEntry.objects.all())
    assert left == sorted(a for a in ages if a < kept_days)
