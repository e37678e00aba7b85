"""信息变更: the change log. Every saved change of a collected archive is one row."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeItem(models.TextChoices):
    PERSONAL = "personal", _("个人信息")
    CONTACT = "contact", _("联系方式")
    EDUCATION = "education", _("学历信息")
    PROFESSIONAL = "professional", _("专业技术信息")
    WORK = "work", _("工作信息")


class ChangeRecord(models.Model):
    """One saved change: the item, each changed field's old and new value (ID-like
    values masked, files by name), when and from where. Append-only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="change_records")
    item = models.CharField(_("变更项"), max_length=16, choices=ChangeItem.choices)
    changes = models.JSONField(_("变更内容"), default=list)
    created_at = models.DateTimeField(_("变更时间"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="changerecord_user_time")]

    def __str__(self) -> str:
        return f"{self.get_item_display()} {self.created_at:%Y-%m-%d %H:%M}"
