"""学分确认申请 for the person: the conversion table, 我要申请 (credits shown before
submitting, the evidence upload and its attacks), 我的申请历史, 撤回, the evidence
image, someone else's claim, gating."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from PIL import Image

from education import claims
from education.models import CreditClaim, CreditClaimStatus, CreditRecord
from portal.images import MAX_UPLOAD_BYTES, clean_image
from tests.education.helpers import collect
from tests.factories import AccountFactory
from tests.images import (
    document_upload,
    gps_of,
    jpeg_with_gps,
    padded_png,
    png_claiming_size,
    png_headed_html,
    svg_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


def make_claim(user, year: int, activity: str = "exam_subject", days: int | None = None,
               details: str = "2026年中级会计实务合格") -> CreditClaim:
    return claims.credit_claim_create(user=user, year=year, activity=activity, days=days, details=details,
                                      evidence=clean_image(document_upload()))


@pytest.fixture
def other_learner(reference_data):
    user = AccountFactory(name="王另一")
    collect(user)
    return user


def stored_claim_files(settings) -> list:
    folder = settings.MEDIA_ROOT / "claims"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- the conversion table ------------------------------------------------------------------


@pytest.mark.parametrize(("activity", "credits"), [
    ("exam_subject", 90), ("talent_admission", 90), ("degree_course", 90),
    ("research_sole", 90), ("research_lead", 90), ("research_member", 60),
    ("paper_sole", 30), ("paper_first", 30), ("paper_other", 10),
    ("book_sole", 90), ("book_first", 90), ("book_other", 60),
])
def test_each_type_gives_its_credits(activity, credits):
    assert claims.activity_credits(activity=activity) == Decimal(credits)


@pytest.mark.parametrize(("days", "credits"), [(1, 10), (3, 30), (claims.MAX_CONFERENCE_DAYS, 300)])
def test_conference_gives_ten_per_day(days, credits):
    assert claims.activity_credits(activity="conference", days=days) == Decimal(credits)


@pytest.mark.parametrize("days", [None, 0, -1, claims.MAX_CONFERENCE_DAYS + 1])
def test_conference_needs_a_sensible_number_of_days(days):
    with pytest.raises(claims.ClaimError):
        claims.activity_credits(activity="conference", days=days)


def test_days_only_for_a_conference_and_unknown_types_refused():
    with pytest.raises(claims.ClaimError):
        claims.activity_credits(activity="paper_sole", days=2)
    with pytest.raises(claims.ClaimError):
        claims.activity_credits(activity="made_up")


def test_other_form_is_left_to_the_reviewer(learner, this_year):
    assert claims.activity_credits(activity="other") is None
    claim = make_claim(learner, this_year, activity="other", details="注册会计师继续教育 40 学时")
    assert claim.credits is None and claim.status == CreditClaimStatus.PENDING


def test_the_form_and_the_model_read_the_same_table():
    assert [c for c, _ in CreditClaim._meta.get_field("activity").choices] == list(claims.ACTIVITIES)


# --- 我要申请 -----------------------------------------------------------------------------


def test_the_credits_are_shown_next_to_each_choice_before_submitting(learner_client):
    response = learner_client.get(reverse("education:claim_create"))
    assert response.status_code == 200
    html = response.content.decode()
    for activity, text in [("exam_subject", "90 学分"), ("conference", "每天 10 学分"), ("research_member", "60 学分"),
                           ("paper_other", "10 学分"), ("book_other", "60 学分"), ("other", "学分由审核人员认定")]:
        assert f'data-testid="rule-{activity}">{text}<' in html
    assert 'enctype="multipart/form-data"' in html and "<script" not in html.split("<main")[-1]


def _post(client, this_year, *, activity="conference", days="2", evidence=None, details="全省会计准则研讨会"):
    data = {"year": this_year, "activity": activity, "days": days, "details": details,
            "evidence": evidence if evidence is not None else document_upload("JPEG")}
    return client.post(reverse("education:claim_create"), data)


def test_submit_stores_a_pending_claim_with_a_reencoded_private_image(learner_client, learner, this_year, settings):
    response = _post(learner_client, this_year, evidence=upload(jpeg_with_gps(), "会议证明.jpg"))
    assert response.status_code == 302 and response["Location"] == reverse("education:claim_list")
    claim = CreditClaim.objects.get(user=learner)
    assert (claim.status, claim.activity, claim.days, claim.credits) == ("pending", "conference", 2, Decimal(20))
    assert claim.evidence.name.startswith("claims/") and "会议证明" not in claim.evidence.name
    data = claim.evidence.read()
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG"
    assert gps_of(data) == {} and b"TestCam" not in data
    assert not CreditRecord.objects.exists()  # nothing credited before review


def test_days_are_dropped_for_other_types(learner_client, learner, this_year):
    _post(learner_client, this_year, activity="paper_first", days="4")
    claim = CreditClaim.objects.get(user=learner)
    assert claim.days is None and claim.credits == Decimal(30)


def test_conference_without_days_is_refused(learner_client, learner, this_year, settings):
    response = _post(learner_client, this_year, days="")
    assert response.status_code == 200 and "请填写会议天数" in response.content.decode()
    assert not CreditClaim.objects.exists()


@pytest.mark.parametrize(("data", "name", "content_type", "message"), [
    (png_headed_html(), "evil.png", "image/png", "只能上传 JPG 或 PNG"),
    (svg_bytes(), "evil.svg", "image/svg+xml", "只能上传 JPG 或 PNG"),
    (png_claiming_size(60_000, 60_000), "flood.png", "image/png", "图片像素过大"),
    (padded_png(MAX_UPLOAD_BYTES + 1), "big.png", "image/png", "不能超过 5 MB"),
    (b"", "empty.jpg", "image/jpeg", ""),
    (b"GIF89a" + b"\x00" * 64, "anim.gif", "image/gif", ""),
])
def test_upload_attacks_are_refused(learner_client, this_year, settings, data, name, content_type, message):
    response = _post(learner_client, this_year, evidence=upload(data, name, content_type))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="invalid-feedback' in response.content.decode() or "is-invalid" in response.content.decode()
    assert not CreditClaim.objects.exists() and stored_claim_files(settings) == []


def test_a_year_outside_the_list_is_refused(learner, this_year):
    with pytest.raises(claims.ClaimError):
        make_claim(learner, 1999)
    assert not CreditClaim.objects.exists()


# --- 我的申请历史 ------------------------------------------------------------------------


def test_history_lists_only_own_claims_with_status_credits_and_reason(
        learner_client, learner, other_learner, admin_user, this_year, django_assert_max_num_queries):
    pending = make_claim(learner, this_year, activity="paper_other", details="论文甲")
    rejected = make_claim(learner, this_year, activity="book_other", details="著作乙")
    claims.credit_claim_reject(claim_id=rejected.pk, reviewer=admin_user, reason="证明材料不清晰")
    approved = make_claim(learner, this_year, activity="conference", days=3, details="会议丙")
    claims.credit_claim_approve(claim_id=approved.pk, reviewer=admin_user)
    theirs = make_claim(other_learner, this_year, details="别人的申请")
    with django_assert_max_num_queries(12):
        response = learner_client.get(reverse("education:claim_list"))
    html = response.content.decode()
    assert "别人的申请" not in html and f'data-testid="claim-{theirs.pk}"' not in html
    for claim, status in ((pending, "待审核"), (rejected, "未通过"), (approved, "已通过")):
        assert f'data-testid="claim-{claim.pk}"' in html
        assert status in html
    assert "未通过原因：证明材料不清晰" in html
    for credits in ("10.0", "60.0", "30.0"):
        assert f'data-testid="credits">{credits}<' in html
    # 撤回 only on the pending one
    assert html.count('>撤回</button>') == 1
    assert reverse("education:claim_withdraw", args=[pending.pk]) in html


def test_history_query_count_does_not_grow(learner_client, learner, this_year, django_assert_max_num_queries):
    for _ in range(8):
        make_claim(learner, this_year)
    with django_assert_max_num_queries(12):
        assert learner_client.get(reverse("education:claim_list")).status_code == 200


def test_empty_history(learner_client):
    assert 'data-testid="no-claims"' in learner_client.get(reverse("education:claim_list")).content.decode()


# --- 撤回 ---------------------------------------------------------------------------------


def test_withdraw_while_pending(learner_client, learner, this_year):
    claim = make_claim(learner, this_year)
    response = learner_client.post(reverse("education:claim_withdraw", args=[claim.pk]))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.WITHDRAWN and claim.decided_at is not None
    # a second 撤回 changes nothing and says why
    response = learner_client.post(reverse("education:claim_withdraw", args=[claim.pk]), follow=True)
    assert "只有待审核的申请可以撤回" in response.content.decode()


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_no_withdraw_after_review(learner_client, learner, admin_user, this_year, decide):
    claim = make_claim(learner, this_year)
    if decide == "approve":
        claims.credit_claim_approve(claim_id=claim.pk, reviewer=admin_user)
    else:
        claims.credit_claim_reject(claim_id=claim.pk, reviewer=admin_user, reason="不符合")
    learner_client.post(reverse("education:claim_withdraw", args=[claim.pk]))
    claim.refresh_from_db()
    assert claim.status == ("approved" if decide == "approve" else "rejected")


def test_withdraw_is_post_only(learner_client, learner, this_year):
    claim = make_claim(learner, this_year)
    assert learner_client.get(reverse("education:claim_withdraw", args=[claim.pk])).status_code == 405
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING


# --- someone else's claim ------------------------------------------------------------------


CLAIM_URLS = [("education:claim_withdraw", "post"), ("education:claim_evidence", "get")]


@pytest.mark.parametrize(("name", "method"), CLAIM_URLS)
def test_another_persons_claim_is_404(learner_client, other_learner, this_year, name, method):
    claim = make_claim(other_learner, this_year)
    response = getattr(learner_client, method)(reverse(name, args=[claim.pk]))
    assert response.status_code == 404
    claim.refresh_from_db()
    assert claim.status == CreditClaimStatus.PENDING


@pytest.mark.parametrize(("name", "method"), CLAIM_URLS)
def test_a_missing_claim_is_404(learner_client, name, method):
    assert getattr(learner_client, method)(reverse(name, args=[999999])).status_code == 404


def test_the_service_refuses_another_persons_withdraw(learner, other_learner, this_year):
    claim = make_claim(other_learner, this_year)
    with pytest.raises(CreditClaim.DoesNotExist):
        claims.credit_claim_withdraw(user=learner, claim_id=claim.pk)


# --- the evidence image --------------------------------------------------------------------


def test_owner_sees_the_evidence_privately(learner_client, learner, this_year):
    claim = make_claim(learner, this_year)
    response = learner_client.get(reverse("education:claim_evidence", args=[claim.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_anonymous_cannot_see_the_evidence(client, learner, this_year):
    claim = make_claim(learner, this_year)
    response = client.get(reverse("education:claim_evidence", args=[claim.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


# --- gating --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "args", "method"), [
    ("education:claim_create", [], "get"), ("education:claim_create", [], "post"),
    ("education:claim_list", [], "get"), ("education:claim_withdraw", [1], "post"),
    ("education:claim_evidence", [1], "get"),
])
def test_not_collected_sees_the_message(client, reference_data, name, args, method):
    assert getattr(client, method)(reverse(name, args=args)).status_code == 302  # anonymous → login
    client.force_login(AccountFactory())
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 403 and "请先完成信息采集" in response.content.decode()


def test_the_service_refuses_someone_not_collected(reference_data, this_year):
    with pytest.raises(claims.ClaimError) as info:
        make_claim(AccountFactory(), this_year)
    assert info.value.code == "not_collected"
