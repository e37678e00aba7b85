"""学分确认申请: the conversion table (第十三条) and the claims' state changes.

`ACTIVITIES` is the one place the conversion lives: the form's choices, the
credits shown before submitting, the model's choices and approval all read it.

A claim is 待审核 when submitted; the person may 撤回 it while it is 待审核;
staff approve it (已通过: the credit record is added through
`credit_record_add` in the same transaction) or reject it with a reason (未通过).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from collection.models import Archive, ArchiveStatus
from portal.errors import PortalError
from transfers.business import business_check

from .credits import MAX_RECORD_CREDITS, credit_record_add
from .models import CreditCategory, CreditClaim, CreditClaimStatus, CreditSource
from .selectors import selectable_years

logger = logging.getLogger(__name__)

MAX_CONFERENCE_DAYS = 30
MAX_REASON_LENGTH = 200


@dataclass(frozen=True)
class Activity:
    """One row of the conversion table. `credits` None: set by the reviewer."""

    code: str
    label: str
    credits: Decimal | None
    per_day: bool = False
    category: str = CreditCategory.PROFESSIONAL

    @property
    def rule_text(self) -> str:
        if self.credits is None:
            return _("学分由审核人员认定")
        if self.per_day:
            return _("每天 %(n)s 学分") % {"n": self.credits}
        return _("%(n)s 学分") % {"n": self.credits}


_TABLE = (
    Activity("exam_subject", gettext_lazy("通过会计专业技术资格等会计相关考试一个科目"), Decimal(90)),
    Activity("talent_admission", gettext_lazy("被录取参加会计高端人才培养项目"), Decimal(90)),
    Activity("conference", gettext_lazy("参加会计类专业会议"), Decimal(10), per_day=True),
    Activity("degree_course", gettext_lazy("会计类学历（学位）教育，当年通过一门课程考试或考核"), Decimal(90)),
    Activity("research_sole", gettext_lazy("会计类研究课题结项：独立承担"), Decimal(90)),
    Activity("research_lead", gettext_lazy("会计类研究课题结项：主持人"), Decimal(90)),
    Activity("research_member", gettext_lazy("会计类研究课题结项：其他参与人"), Decimal(60)),
    Activity("paper_sole", gettext_lazy("在有国内统一刊号（CN）的经济管理类报刊发表会计类论文：独立撰写"), Decimal(30)),
    Activity("paper_first", gettext_lazy("发表会计类论文：第一作者"), Decimal(30)),
    Activity("paper_other", gettext_lazy("发表会计类论文：其他作者"), Decimal(10)),
    Activity("book_sole", gettext_lazy("公开出版会计类书籍：独立撰写"), Decimal(90)),
    Activity("book_first", gettext_lazy("公开出版会计类书籍：第一作者"), Decimal(90)),
    Activity("book_other", gettext_lazy("公开出版会计类书籍：其他作者"), Decimal(60)),
    Activity("other", gettext_lazy("其他形式"), None),
)
ACTIVITIES: dict[str, Activity] = {a.code: a for a in _TABLE}


def activity_choices() -> list[tuple[str, str]]:
    return [(a.code, a.label) for a in _TABLE]


class ClaimError(PortalError):
    """A credit-claim rule refused the operation."""


def activity_credits(*, activity: str, days: int | None = None) -> Decimal | None:
    """The credits the conversion table gives; None for 其他形式 (the reviewer sets them)."""
    row = ACTIVITIES.get(activity)
    if row is None:
        raise ClaimError(_("请选择列表中的活动类型。"), code="activity")
    if row.per_day:
        if days is None or not 1 <= days <= MAX_CONFERENCE_DAYS:
            raise ClaimError(_("请填写会议天数（1–%(max)s 天）。") % {"max": MAX_CONFERENCE_DAYS}, code="days")
        return row.credits * days
    if days is not None:
        raise ClaimError(_("只有参加会议需要填写天数。"), code="days")
    return row.credits


def _collected(user: User) -> bool:
    return Archive.objects.filter(user=user, status=ArchiveStatus.COLLECTED).exists()


def credit_claim_create(
    *, user: User, year: int, activity: str, days: int | None, details: str, evidence: ContentFile
) -> CreditClaim:
    """我要申请: a 待审核 claim with its (already cleaned) evidence image stored privately; the same
    claim posted again while the first is 待审核 returns that one."""
    if not _collected(user):
        raise ClaimError(_("请先完成信息采集。"), code="not_collected")
    if year not in selectable_years():
        raise ClaimError(_("请选择列表中的年度。"), code="year")
    credits = activity_credits(activity=activity, days=days)
    details = details.strip()
    if not details:
        raise ClaimError(_("请填写活动说明。"), code="details")
    claim = CreditClaim(user=user, year=year, activity=activity, days=days, details=details, credits=credits)
    claim.evidence.save("evidence.jpg", evidence, save=False)
    stored = claim.evidence.name
    try:
        with transaction.atomic():
            # Under the person's lock: no claim while a transfer out is open (or after 已调出).
            business_check(user=user, action="claim")
            # The same claim posted twice (a double click, a resend) is the one claim: still under
            # the lock, so two identical posts at once cannot both pass.
            same = CreditClaim.objects.filter(user=user, year=year, activity=activity, days=days, details=details,
                                              status=CreditClaimStatus.PENDING).first()
            if same is None:
                claim.save()
    except BaseException:
        default_storage.delete(stored)
        raise
    if same is not None:
        default_storage.delete(stored)
        return same
    logger.info("credit claim %s submitted by user %s", claim.pk, user.pk)
    return claim


@transaction.atomic
def credit_claim_withdraw(*, user: User, claim_id: int) -> CreditClaim:
    """撤回: the owner takes back a claim while it is 待审核."""
    claim = CreditClaim.objects.select_for_update().filter(pk=claim_id, user=user).first()
    if claim is None:
        raise CreditClaim.DoesNotExist
    if claim.status != CreditClaimStatus.PENDING:
        raise ClaimError(_("只有待审核的申请可以撤回。"), code="not_pending")
    claim.status = CreditClaimStatus.WITHDRAWN
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_at"])
    return claim


def _locked_pending(claim_id: int) -> CreditClaim:
    claim = CreditClaim.objects.select_for_update().select_related("user").get(pk=claim_id)
    if claim.status != CreditClaimStatus.PENDING:
        raise ClaimError(
            _("申请 #%(pk)s 当前状态为%(status)s，不能再审核。")
            % {"pk": claim.pk, "status": claim.get_status_display()},
            code="not_pending",
        )
    return claim


def _reviewer_credits(value) -> Decimal:
    try:
        credits = Decimal(value).quantize(Decimal("0.1"))
    except (InvalidOperation, TypeError, ValueError):
        credits = Decimal(0)
    if not Decimal(0) < credits <= MAX_RECORD_CREDITS:
        raise ClaimError(_("请填写认定学分（0.1–%(max)s）。") % {"max": MAX_RECORD_CREDITS}, code="credits")
    return credits


def _completed_on(year: int) -> dt.date:
    """The credit's date: today within the claimed year, else the year's last day."""
    today = timezone.localdate()
    return today if today.year == year else dt.date(year, 12, 31)


@transaction.atomic
def credit_claim_approve(*, claim_id: int, reviewer: User, credits: Decimal | None = None) -> CreditClaim:
    """已通过: the credit record (and the yearly total) in the same transaction as the status.

    The table decides the credits; only 其他形式 takes the reviewer's `credits`.
    """
    claim = _locked_pending(claim_id)
    row = ACTIVITIES[claim.activity]
    if row.credits is None:
        if credits is None:
            raise ClaimError(_("其他形式的申请须填写认定学分。"), code="credits_required")
        amount = _reviewer_credits(credits)
    else:
        if credits is not None and _reviewer_credits(credits) != claim.credits:
            raise ClaimError(_("该类型的学分按折算标准确定，不能修改。"), code="credits_fixed")
        amount = activity_credits(activity=claim.activity, days=claim.days)
    record = credit_record_add(
        user=claim.user, source=CreditSource.CLAIM, record_id=f"claim-{claim.pk}", year=claim.year,
        category=row.category, credits=amount, course=str(row.label)[:200], completed_at=_completed_on(claim.year),
    )
    claim.status = CreditClaimStatus.APPROVED
    claim.credits = record.credits
    claim.credit_record = record
    claim.reviewed_by = reviewer
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "credits", "credit_record", "reviewed_by", "decided_at"])
    logger.info("credit claim %s approved by %s: %s credits", claim.pk, reviewer.pk, amount)
    return claim


@transaction.atomic
def credit_claim_reject(*, claim_id: int, reviewer: User, reason: str) -> CreditClaim:
    """未通过, with the reason the person will read."""
    reason = (reason or "").strip()
    if not reason:
        raise ClaimError(_("请填写未通过原因。"), code="reason_required")
    if len(reason) > MAX_REASON_LENGTH:
        raise ClaimError(_("未通过原因不能超过 %(n)s 个字。") % {"n": MAX_REASON_LENGTH}, code="reason_too_long")
    claim = _locked_pending(claim_id)
    claim.status = CreditClaimStatus.REJECTED
    claim.reason = reason
    claim.reviewed_by = reviewer
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "reason", "reviewed_by", "decided_at"])
    logger.info("credit claim %s rejected by %s", claim.pk, reviewer.pk)
    return claim


# --- reads -------------------------------------------------------------------------


def claims_of(*, user: User):
    """我的申请历史: the person's claims, newest first."""
    return CreditClaim.objects.filter(user=user).order_by("-created_at", "-pk")


def claim_of(*, user: User, claim_id: int) -> CreditClaim | None:
    """The person's own claim, or None (someone else's)."""
    return CreditClaim.objects.filter(pk=claim_id, user=user).first()


def claim_pending_exists(*, user: User) -> bool:
    """A claim under review (one of the things transfers.business.pending_business lists)."""
    return CreditClaim.objects.filter(user=user, status=CreditClaimStatus.PENDING).exists()
