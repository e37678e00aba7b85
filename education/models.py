"""继续教育: filed institutions (备案机构), enrolments (报名), launch tokens and
the institutions' API keys.

Absolute rules are database constraints: one filing per institution and year,
one enrolment per person, year and institution, one live API key per institution.
"""

from __future__ import annotations

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
