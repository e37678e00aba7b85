"""继续教育: filed institutions (备案机构), enrolments (报名), launch tokens,
the institutions' API keys, credit records, yearly totals and credit batches.

Absolute rules are database constraints: one filing per institution and year,
one enrolment per person, year and institution, one live API key per institution,
one credit per (institution, record_id), one yearly total per person and year,
at most one credit record per credit claim.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MIN_YEAR = 2000
MAX_YEAR = 2100


class Institution(models.Model):
    """A continuing-education institution filed (备案) with the finance department."""

    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    name = models.CharField(_("机构名称"), max_length=100)
    platform_url = models.URLField(_("学习平台网址"), max_length=300)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("备案机构")
        verbose_name_plural = _("备案机构")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class InstitutionFiling(models.Model):
    """A year the institution is filed for: it is listed under 远程教育 for that year."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="filings")
    year = models.PositiveSmallIntegerField(_("备案年度"))

    class Meta:
        ordering = ["-year"]
        verbose_name = _("备案年度")
        verbose_name_plural = _("备案年度")
        indexes = [models.Index(fields=["year"], name="filing_year")]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year"], name="filing_unique_year"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="filing_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.institution.code} {self.year}"


class Enrolment(models.Model):
    """报名: a person studies a year's courses with one institution."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ce_enrolments")
    institution = models.ForeignKey(
        Institution, verbose_name=_("备案机构"), on_delete=models.PROTECT, related_name="enrolments"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("报名记录")
        verbose_name_plural = _("报名记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "year", "institution"], name="enrolment_once_per_year"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="enrolment_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.institution.code} #{self.user_id}"


class LaunchToken(models.Model):
    """A one-time, short-lived token handed to the institution in the 点击查看 URL.

    Only its SHA-256 is stored; the institution exchanges the token once for the
    learner's identity (the ID number never travels in a URL).
    """

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="launch_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("跳转令牌")
        verbose_name_plural = _("跳转令牌")
        indexes = [models.Index(fields=["expires_at"], name="launchtoken_expires")]

    def __str__(self) -> str:
        return f"token #{self.pk} for enrolment {self.enrolment_id}"


class InstitutionApiKey(models.Model):
    """The credentials an institution signs its API requests with.

    The secret is kept encrypted (education/api_auth.py); rotation revokes the
    previous key, so at most one key per institution is live.
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="api_keys")
    key_id = models.CharField(_("Key ID"), max_length=40, unique=True)
    secret_encrypted = models.TextField(_("密钥（加密）"), editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")
        constraints = [
            models.UniqueConstraint(
                fields=["institution"], condition=Q(revoked_at__isnull=True), name="apikey_one_live_per_institution"
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


# --- credits ---------------------------------------------------------------------------

CREDITS_MAX_DIGITS = 6
CREDITS_PLACES = 1


class CreditSource(models.TextChoices):
    INSTITUTION = "institution", _("备案机构")
    CLAIM = "claim", _("学分确认申请")
    STAFF = "staff", _("工作人员录入")
    TRANSFER = "transfer", _("跨省调入转入")


class CreditCategory(models.TextChoices):
    PUBLIC = "public", _("公需科目")
    PROFESSIONAL = "professional", _("专业科目")


class CreditRecord(models.Model):
    """One credited activity of a person in a year (a course, a claim, a staff entry).

    `record_id` is the source's own id: for an institution, (institution, record_id)
    is unique, which is what makes re-sent batches add nothing.
    """

    # No index of its own for user and institution: "credit_user_year" and the unique
    # (institution, record_id) lead with them (fewer indexes to write per credit).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_records",
                             db_index=False)
    source = models.CharField(_("来源"), max_length=20, choices=CreditSource.choices)
    institution = models.ForeignKey(
        Institution, verbose_name=_("备案机构"), on_delete=models.PROTECT, related_name="credit_records",
        null=True, blank=True, db_index=False,
    )
    record_id = models.CharField(_("记录编号"), max_length=64)
    year = models.PositiveSmallIntegerField(_("年度"))
    category = models.CharField(_("科目类别"), max_length=20, choices=CreditCategory.choices)
    credits = models.DecimalField(_("学分"), max_digits=CREDITS_MAX_DIGITS, decimal_places=CREDITS_PLACES)
    course = models.CharField(_("课程或活动"), max_length=200)
    completed_at = models.DateField(_("完成日期"))
    # Provenance only: not indexed (nothing looks credits up by batch: a batch's outcomes are on
    # the batch) and no database constraint (batches are never deleted; the check would cost a
    # look-up per credit at every ingestion commit).
    batch = models.ForeignKey("CreditBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False, db_constraint=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_at", "-pk"]
        verbose_name = _("学分记录")
        verbose_name_plural = _("学分记录")
        indexes = [models.Index(fields=["user", "year"], name="credit_user_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "record_id"], condition=Q(institution__isnull=False),
                name="credit_unique_institution_record",
            ),
            models.UniqueConstraint(
                fields=["source", "record_id"], condition=Q(institution__isnull=True),
                name="credit_unique_source_record",
            ),
            models.CheckConstraint(condition=Q(credits__gt=0), name="credit_positive"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="credit_year_range"),
            models.CheckConstraint(
                condition=Q(source="institution", institution__isnull=False) | ~Q(source="institution"),
                name="credit_institution_source_has_institution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.record_id} #{self.user_id}"


class CreditYearTotal(models.Model):
    """A person's credits of one year, kept in step with CreditRecord in the same
    transaction (pages read this row, never sum the records)."""

    # The unique (user, year) serves lookups by user: no separate index.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_totals",
                             db_index=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    public_credits = models.DecimalField(_("公需科目"), max_digits=8, decimal_places=CREDITS_PLACES, default=0)
    professional_credits = models.DecimalField(_("专业科目"), max_digits=8, decimal_places=CREDITS_PLACES, default=0)
    total = models.DecimalField(_("合计"), max_digits=8, decimal_places=CREDITS_PLACES, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("年度学分")
        verbose_name_plural = _("年度学分")
        constraints = [
            models.UniqueConstraint(fields=["user", "year"], name="credit_total_once_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year} #{self.user_id}: {self.total}"


class CreditBatchStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    PROCESSING = "processing", _("处理中")
    DONE = "done", _("已完成")


class CreditBatch(models.Model):
    """A batch of credit records posted by an institution: the outbox row of its processing.

    `records` is the batch as parsed, with every ID number replaced by its lookup
    hash and masked form right away (no plain ID number is ever stored).
    """

    institution = models.ForeignKey(Institution, verbose_name=_("备案机构"), on_delete=models.PROTECT,
                                    related_name="credit_batches")
    status = models.CharField(
        _("状态"), max_length=20, choices=CreditBatchStatus.choices, default=CreditBatchStatus.PENDING
    )
    records = models.JSONField(_("记录"))
    record_count = models.PositiveIntegerField(_("记录数"))
    # Records are processed in index order, a chunk per transaction that also moves
    # `processed` on: records [0, processed) have their outcome, the rest are pending.
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    accepted_count = models.PositiveIntegerField(_("已入账"), default=0)
    duplicate_count = models.PositiveIntegerField(_("重复"), default=0)
    rejected_count = models.PositiveIntegerField(_("拒绝"), default=0)
    origin = models.CharField(_("来源"), max_length=10, default="api",
                              choices=[("api", "API"), ("csv", _("CSV 导入"))])
    created_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("学分批次")
        verbose_name_plural = _("学分批次")
        indexes = [models.Index(fields=["status", "updated_at"], name="creditbatch_status")]

    def __str__(self) -> str:
        return f"批次 #{self.pk}"


class CreditBatchResult(models.TextChoices):
    ACCEPTED = "accepted", _("已入账")
    DUPLICATE = "duplicate", _("重复")
    REJECTED = "rejected", _("拒绝")


class CreditBatchItem(models.Model):
    """The outcome of one record of a batch that was not accepted (重复 or 拒绝 and why),
    written in the same transaction as the chunk it belongs to. A processed record
    without an item was accepted: its credit is the CreditRecord with this batch."""

    # The unique (batch, index) serves lookups by batch: no separate index.
    batch = models.ForeignKey(CreditBatch, on_delete=models.CASCADE, related_name="items", db_index=False)
    index = models.PositiveIntegerField(_("序号"))
    record_id = models.CharField(_("记录编号"), max_length=64)
    result = models.CharField(_("结果"), max_length=20, choices=CreditBatchResult.choices)
    reason = models.CharField(_("原因代码"), max_length=40, blank=True)
    message = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["batch", "index"]
        verbose_name = _("未入账记录")
        verbose_name_plural = _("未入账记录（重复或拒绝）")
        constraints = [models.UniqueConstraint(fields=["batch", "index"], name="creditbatchitem_once")]

    def __str__(self) -> str:
        return f"{self.batch_id}[{self.index}] {self.result}"


# --- 学分确认申请 (credit claims) --------------------------------------------------------


def _claim_activity_choices():
    # The conversion table lives in education/claims.py; a callable keeps it the
    # single source (and out of the migrations).
    from .claims import activity_choices

    return activity_choices()


def claim_evidence_upload_to(instance, filename: str) -> str:
    """Random names: nothing about the person or the original file name leaks."""
    return f"claims/{uuid.uuid4().hex}.jpg"


class CreditClaimStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class CreditClaim(models.Model):
    """学分确认申请: an activity the person declares with evidence, reviewed by staff.

    `credits` is what the conversion table gives at submission (empty for 其他形式)
    and, once 已通过, what was credited. An approved claim points at its credit record.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_claims", verbose_name=_("申请人")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    activity = models.CharField(_("活动类型"), max_length=30, choices=_claim_activity_choices)
    days = models.PositiveSmallIntegerField(_("天数"), null=True, blank=True)
    details = models.TextField(_("活动说明"), max_length=1000)
    evidence = models.FileField(_("证明材料"), upload_to=claim_evidence_upload_to)
    credits = models.DecimalField(
        _("学分"), max_digits=CREDITS_MAX_DIGITS, decimal_places=CREDITS_PLACES, null=True, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=CreditClaimStatus.choices, default=CreditClaimStatus.PENDING
    )
    reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
    credit_record = models.OneToOneField(
        CreditRecord, verbose_name=_("学分记录"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="claim",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("学分确认申请")
        verbose_name_plural = _("学分确认申请")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="claim_user_created"),
            models.Index(fields=["status", "created_at"], name="claim_status_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR, year__lte=MAX_YEAR), name="claim_year_range"),
            models.CheckConstraint(condition=Q(credits__isnull=True) | Q(credits__gt=0), name="claim_credits_positive"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(credits__isnull=False, credit_record__isnull=False),
                name="claim_approved_has_credit",
            ),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(reason=""), name="claim_rejected_has_reason"),
        ]

    def __str__(self) -> str:
        return f"申请 #{self.pk}（{self.year}）"
