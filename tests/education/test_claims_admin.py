"""学分确认申请 review in the admin and the approval service: one credit record and
the yearly total in the same transaction as the status, reasons for 未通过, bulk
actions, no double approval, the evidence only to staff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import StaffProfile, StaffUnitKind
from education import claims, credits
from education.models import (
    CreditCategory,
    CreditClaim,
    CreditClaimStatus,
    CreditRecord,
    CreditSource,
    CreditYearTotal,
)
from tests.education.helpers import collect
from tests.education.test_claims import make_claim
from tests.factories import AccountFactory
from tests.staff.helpers import otp_login

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:education_creditclaim_changelist"


@pytest.fixture
def other_learner(reference_data):
    user = AccountFactory(name="王另一")
    collect(user)
    return user


@pytest.fixture
def staff_client(client, admin_user):
    return otp_login(client, admin_user)  # the admin needs password + TOTP (tests/staff/helpers.py)


def total(user, year):
    row = CreditYearTotal.objects.filter(user=user, year=year).first()
    return None if row is None else (row.public_credits, row.professional_credits, row.total)


def review(client, claim, **data):
    return client.post(reverse("admin:education_creditclaim_review", args=[claim.pk]), data)


def action(client, name, claims_, **extra):
    return client.post(reverse(CHANGELIST), {"action": name, "_selected_action": [c.pk for c in claims_], **extra})


# --- the services ---------------------------------------------------------------------------


def test_approve_creates_one_credit_record_and_updates_the_year_total(learner, admin_user, this_year):
    claim = make_claim(learner, this_year, activity="conference", days=2)
    claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user)
    claim.refresh_from_db()
    record = CreditRecord.objects.get()
    assert (record.user, record.source, record.record_id, record.year, record.category, record.credits) == (
        learner, CreditSource.CLAIM, f"claim-{claim.pk}", this_year, CreditCategory.PROFESSIONAL, Decimal(20))
    assert claim.status == CreditClaimStatus.APPROVED and claim.credit_record == record
    assert claim.reviewed_by == admin_user and claim.credits == Decimal(20)
    assert total(learner, this_year) == (Decimal(0), Decimal(20), Decimal(20))
    assert credits.credit_totals_check() == []


def test_approval_is_one_transaction_with_the_credit(learner, admin_user, this_year):
    """If the credit cannot be added, the claim stays 待审核 and the total is untouched."""
    claim = make_claim(learner, this_year)
    credits.credit_record_add(user=learner, source=CreditSource.CLAIM, record_id=f"claim-{claim.pk}", year=this_year,
                              category=CreditCategory.PROFESSIONAL, credits=Decimal(5), course="占位",
                              completed_at=claim.created_at.date())
    with pytest.raises(credits.CreditDuplicate):
        claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user)
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING and claim.credit_record is None
    assert total(learner, this_year) == (Decimal(0), Decimal(5), Decimal(5))


@pytest.mark.parametrize("first", ["approve", "reject", "withdraw"])
def test_a_decided_claim_cannot_be_approved(learner, admin_user, this_year, first):
    claim = make_claim(learner, this_year)
    if first == "approve":
        claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user)
    elif first == "reject":
        claims.credit_claim_reject(claim_id=claim.pk, reviewer=admin_user, reason="不符合")
    else:
        claims.credit_claim_withdraw(user=learner, claim_id=claim.pk)
    with pytest.raises(claims.ClaimError) as info:
        claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user)
    assert info.value.code == "not_pending"
    with pytest.raises(claims.ClaimError):
        claims.credit_claim_reject(claim_id=claim.pk, reviewer=admin_user, reason="再次")
    assert CreditRecord.objects.count() == (1 if first == "approve" else 0)
    assert total(learner, this_year) in ((None,) if first != "approve" else ((Decimal(0), Decimal(90), Decimal(90)),))


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_needs_a_reason_and_credits_nothing(learner, admin_user, this_year, reason):
    claim = make_claim(learner, this_year)
    with pytest.raises(claims.ClaimError) as info:
        claims.credit_claim_reject(claim_id=claim.pk, reviewer=admin_user, reason=reason)
    assert info.value.code == "reason_required"
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING
    claims.credit_claim_reject(claim_id=claim.pk, reviewer=admin_user, reason=" 材料不清晰 ")
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == (CreditClaimStatus.REJECTED, "材料不清晰")
    assert not CreditRecord.objects.exists() and total(learner, this_year) is None


def test_other_form_uses_the_reviewers_credits(learner, admin_user, this_year):
    claim = make_claim(learner, this_year, activity="other")
    with pytest.raises(claims.ClaimError) as info:
        claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user)
    assert info.value.code == "credits_required"
    for bad in ("0", "-3", "abc", "1000"):
        with pytest.raises(claims.ClaimError):
            claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user, credits=bad)
    claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user, credits=Decimal("24.5"))
    assert CreditRecord.objects.get().credits == Decimal("24.5")
    assert total(learner, this_year)[2] == Decimal("24.5")


def test_fixed_types_refuse_a_reviewer_override(learner, admin_user, this_year):
    claim = make_claim(learner, this_year, activity="paper_other")
    with pytest.raises(claims.ClaimError) as info:
        claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user, credits=Decimal(90))
    assert info.value.code == "credits_fixed"
    assert not CreditRecord.objects.exists()


# --- the admin: one claim --------------------------------------------------------------------


def test_change_page_shows_the_evidence_through_the_admin_view(staff_client, learner, this_year):
    claim = make_claim(learner, this_year)
    html = staff_client.get(reverse("admin:education_creditclaim_change", args=[claim.pk])).content.decode()
    evidence_url = reverse("admin:education_creditclaim_evidence", args=[claim.pk])
    assert f'<img src="{evidence_url}"' in html
    assert 'name="_approve"' in html and 'name="_reject"' in html and 'name="_save"' not in html
    response = staff_client.get(evidence_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]


def test_admin_evidence_needs_staff_with_permission(client, learner, this_year):
    claim = make_claim(learner, this_year)
    url = reverse("admin:education_creditclaim_evidence", args=[claim.pk])
    assert client.get(url).status_code == 302  # anonymous → admin login
    client.force_login(learner)  # the owner is not staff: the admin is not for them
    assert client.get(url).status_code == 302
    staff = AccountFactory()
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    StaffProfile.objects.create(user=staff, unit_kind=StaffUnitKind.PROVINCE)  # sees everyone
    otp_login(client, staff)
    assert client.get(url).status_code == 403  # staff without 学分确认申请 permission
    staff.user_permissions.add(Permission.objects.get(codename="view_creditclaim"))
    staff = type(staff).objects.get(pk=staff.pk)
    otp_login(client, staff)
    assert client.get(url).status_code == 200
    # a view-only reviewer cannot decide
    response = review(client, claim, _approve="1")
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING


def test_approve_button(staff_client, learner, this_year):
    claim = make_claim(learner, this_year, activity="book_other")
    response = review(staff_client, claim, _approve="1")
    assert response.status_code == 302 and response["Location"] == reverse(CHANGELIST)
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.APPROVED
    assert total(learner, this_year) == (Decimal(0), Decimal(60), Decimal(60))
    # the second press is refused and credits nothing more
    response = review(staff_client, claim, _approve="1")
    assert response.status_code == 302 and CreditRecord.objects.count() == 1
    assert total(learner, this_year)[2] == Decimal(60)


def test_approve_button_for_other_form_needs_credits(staff_client, learner, this_year):
    claim = make_claim(learner, this_year, activity="other")
    html = staff_client.get(reverse("admin:education_creditclaim_change", args=[claim.pk])).content.decode()
    assert 'name="credits"' in html
    review(staff_client, claim, _approve="1", credits="")
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING
    review(staff_client, claim, _approve="1", credits="12")
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.APPROVED and claim.credits == Decimal(12)


def test_reject_button_needs_a_reason(staff_client, learner, this_year):
    claim = make_claim(learner, this_year)
    response = review(staff_client, claim, _reject="1", reason="")
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING
    review(staff_client, claim, _reject="1", reason="成绩截图无法辨认")
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == (CreditClaimStatus.REJECTED, "成绩截图无法辨认")
    assert not CreditRecord.objects.exists()


def test_review_is_post_only(staff_client, learner, this_year):
    claim = make_claim(learner, this_year)
    assert staff_client.get(reverse("admin:education_creditclaim_review", args=[claim.pk])).status_code == 405


# --- the admin: the list and bulk actions ------------------------------------------------------


def test_list_defaults_to_pending(staff_client, learner, admin_user, this_year, django_assert_max_num_queries):
    pending = make_claim(learner, this_year, details="甲")
    done = make_claim(learner, this_year, details="乙")
    claims.credit_claim_reject(claim_id=done.pk, reviewer=admin_user, reason="不符合")
    with django_assert_max_num_queries(15):
        response = staff_client.get(reverse(CHANGELIST))
    ids = [c.pk for c in response.context["cl"].result_list]
    assert ids == [pending.pk]
    response = staff_client.get(reverse(CHANGELIST), {"status": "all"})
    assert [c.pk for c in response.context["cl"].result_list] == [pending.pk, done.pk]  # 待审核 first
    response = staff_client.get(reverse(CHANGELIST), {"status": "rejected"})
    assert [c.pk for c in response.context["cl"].result_list] == [done.pk]


def test_bulk_approve(staff_client, learner, other_learner, admin_user, this_year):
    a = make_claim(learner, this_year, activity="paper_sole")
    b = make_claim(other_learner, this_year, activity="conference", days=1)
    other = make_claim(learner, this_year, activity="other")
    done = make_claim(learner, this_year, activity="book_sole")
    claims.credit_claim_approve(claim_id=done.pk, reviewer=admin_user)
    response = action(staff_client, "approve_selected", [a, b, other, done])
    assert response.status_code == 302
    statuses = dict(CreditClaim.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "approved", b.pk: "approved", other.pk: "pending", done.pk: "approved"}
    assert CreditRecord.objects.count() == 3  # a, b and the earlier one; none twice
    assert total(learner, this_year)[2] == Decimal(120) and total(other_learner, this_year)[2] == Decimal(10)


def test_bulk_reject_asks_for_a_reason(staff_client, learner, this_year):
    a, b = make_claim(learner, this_year), make_claim(learner, this_year)
    response = action(staff_client, "reject_selected", [a, b])
    assert response.status_code == 200 and 'name="reason"' in response.content.decode()
    assert set(CreditClaim.objects.values_list("status", flat=True)) == {"pending"}
    response = action(staff_client, "reject_selected", [a, b], apply="1", reason="  ")
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert set(CreditClaim.objects.values_list("status", flat=True)) == {"pending"}
    response = action(staff_client, "reject_selected", [a, b], apply="1", reason="非会计类活动")
    assert response.status_code == 302
    assert set(CreditClaim.objects.values_list("status", "reason")) == {("rejected", "非会计类活动")}
    assert not CreditRecord.objects.exists()


def test_no_add_no_delete_no_edit(staff_client, learner, this_year):
    claim = make_claim(learner, this_year)
    assert staff_client.get(reverse("admin:education_creditclaim_add")).status_code == 403
    response = staff_client.post(reverse("admin:education_creditclaim_change", args=[claim.pk]), {"year": 2001})
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.year == this_year
