"""跨省调转: the person's transfers out and in, and the local stand-in for the national platform.

The portal's own rows (TransferOut, TransferIn) keep the last status the platform
reported and when; pages read them and never wait for the platform.
PlatformRecord is the platform's side for the `local` backend only (development,
tests, demos): production talks to the real platform over HTTP.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .provinces import PROVINCES

PROVINCE_CHOICES = list(PROVINCES.items())


class TransferReason(models.TextChoices):
    WORK = "work", _("工作调动")
    STUDY = "study", _("就学")
    RESIDENCE = "residence", _("居住")


class TransferStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    PENDING_RECEIPT = "pending_receipt", _("待调入地接收")
    RECEIVED = "received", _("已调入")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_STATUSES = (TransferStatus.SUBMITTED, TransferStatus.PENDING_RECEIPT)


def evidence_upload_to(instance, filename: str) -> str:
    return f"transfers/{uuid.uuid4().hex}.jpg"


class TransferOut(models.Model):
    """调出省外申请: one application to leave Guizhou."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_province = models.CharField(_("调入省份"), max_length=2, choices=PROVINCE_CHOICES)
    reason = models.CharField(_("调转原因"), max_length=12, choices=TransferReason.choices)
    destination = models.CharField(_("调入单位、学校或地址"), max_length=200)
    evidence = models.FileField(_("证明材料"), upload_to=evidence_upload_to)
    status = models.CharField(
        _("状态"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.SUBMITTED
    )
    platform_ref = models.CharField(_("全国平台编号"), max_length=40, null=True, blank=True, unique=True)
    platform_status_at = models.DateTimeField(_("全国平台状态时间"), null=True, blank=True)
    sync_error = models.CharField(_("最近同步错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("调入地接收时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调出省外申请")
        verbose_name_plural = _("调出省外申请")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The last line of "one open transfer per person": two simultaneous 申请 cannot both pass.
            models.UniqueConstraint(
                fields=["user"], condition=Q(status__in=["submitted", "pending_receipt"]), name="transfer_one_open"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="transfer_status")]

    def __str__(self) -> str:
        return self.platform_ref or f"调出申请 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def client_ref(self) -> str:
        """Our idempotency key on the platform: a retried submission finds the first one."""
        return f"{settings.NATIONAL_PLATFORM_PROVINCE}-out-{self.pk}"


class TransferIn(models.Model):
    """跨省调入, completed: one row per platform record, so a second submit creates nothing."""

    platform_ref = models.CharField(_("全国平台编号"), max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("调入人员"), on_delete=models.PROTECT, null=True,
        related_name="transfers_in",
    )
    from_province = models.CharField(_("调出省份"), max_length=2, choices=PROVINCE_CHOICES)
    reopened = models.BooleanField(_("重新启用原账号"), default=False)
    created_at = models.DateTimeField(_("调入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("跨省调入记录")
        verbose_name_plural = _("跨省调入记录")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.platform_ref


class PlatformStatus(models.TextChoices):
    WAITING = "waiting", _("等待调转")
    PENDING_RECEIPT = "pending_receipt", _("待调入地接收")
    RECEIVED = "received", _("调入地已接收")
    WITHDRAWN = "withdrawn", _("已撤回")


class PlatformRecord(models.Model):
    """The national platform's record of one transfer (`local` backend only)."""

    ref = models.CharField(_("平台编号"), max_length=40, unique=True)
    client_ref = models.CharField(_("调出地申请编号"), max_length=60, null=True, blank=True, unique=True)
    from_province = models.CharField(_("调出省份"), max_length=2, choices=PROVINCE_CHOICES)
    to_province = models.CharField(_("调入省份"), max_length=2, choices=PROVINCE_CHOICES)
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=40)
    id_hash = models.CharField(_("证件号码索引"), max_length=64, db_index=True)
    id_number_encrypted = models.TextField(_("证件号码（加密）"))
    id_number_masked = models.CharField(_("证件号码"), max_length=32)
    mobile = models.CharField(_("手机号码"), max_length=20)
    reason = models.CharField(_("调转原因"), max_length=12, choices=TransferReason.choices, blank=True)
    destination = models.CharField(_("调入单位、学校或地址"), max_length=200, blank=True)
    payload = models.JSONField(_("档案数据"), default=dict)
    status = models.CharField(_("平台状态"), max_length=16, choices=PlatformStatus.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("全国平台记录（本地）")
        verbose_name_plural = _("全国平台记录（本地）")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.ref
