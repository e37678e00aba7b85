"""The staff audit log (访问记录): append-only.

Rows are written by portal.audit.audit_record only. The model refuses to change or
delete a row; the one way rows go is `AuditEntry.objects.retention_purge()` for rows
older than the retention period (never less than AUDIT_MIN_RETENTION_DAYS).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

AUDIT_MIN_RETENTION_DAYS = 185


class AuditImmutable(Exception):
    """An audit row was about to be changed or deleted."""


class AuditAction(models.TextChoices):
    ARCHIVE_VIEW = "archive_view", _("查看档案详情")
    UPLOAD_VIEW = "upload_view", _("查看上传材料")
    ID_REVEAL = "id_reveal", _("查看完整证件号码")
    EXPORT_ARCHIVES = "export_archives", _("导出信息档案")
    EXPORT_COMPLIANCE = "export_compliance", _("导出继续教育达标情况")
    CLAIM_APPROVE = "claim_approve", _("学分确认申请通过")
    CLAIM_REJECT = "claim_reject", _("学分确认申请不通过")
    TRANSFER_REVIEW = "transfer_review", _("调转审核")


def retention_days() -> int:
    return max(int(settings.AUDIT_RETENTION_DAYS), AUDIT_MIN_RETENTION_DAYS)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditImmutable("audit rows cannot be changed")

    def delete(self):
        raise AuditImmutable("audit rows cannot be deleted (use retention_purge)")

    def retention_purge(self, *, now: dt.datetime | None = None) -> int:
        """Delete rows older than the retention period (at least 185 days); rows deleted."""
        cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
        old = self.filter(created_at__lt=cutoff)
        count, _by_model = models.QuerySet.delete(old)
        return count


class AuditEntry(models.Model):
    """Who did what to whose data, when, from where."""

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False,
    )
    actor_username = models.CharField(_("操作人用户名"), max_length=150, editable=False)
    action = models.CharField(_("操作"), max_length=32, choices=AuditAction.choices, editable=False)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True, editable=False)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, editable=False)
    person_id = models.BigIntegerField(_("人员编号"), null=True, blank=True, editable=False)
    person = models.CharField(_("人员"), max_length=100, blank=True, editable=False)
    params = models.JSONField(_("条件与参数"), default=dict, blank=True, editable=False)
    row_count = models.PositiveIntegerField(_("行数"), null=True, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = _("访问记录")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["action", "-created_at"], name="audit_action_time"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_time"),
            models.Index(fields=["person_id"], name="audit_person"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        # The guard that makes the log append-only even for code that bypasses the admin.
        if not self._state.adding:
            raise AuditImmutable("audit rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutable("audit rows cannot be deleted")
