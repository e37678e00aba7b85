"""备案机构 in the admin: filings, API keys (签发/轮换, 吊销), enrolments read-only."""

from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Enrolment, Institution, InstitutionApiKey, InstitutionFiling


class FilingInline(admin.TabularInline):
    model = InstitutionFiling
    extra = 1


class ApiKeyInline(admin.TabularInline):
    """Key ids and their state; the secret is never shown here (only once, on issue)."""

    model = InstitutionApiKey
    extra = 0
    fields = ("key_id", "created_at", "revoked_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "platform_url", "contact_name", "contact_phone", "filed_years", "is_active")
    list_filter = ("is_active", "filings__year")
    search_fields = ("code", "name")
    inlines = [FilingInline, ApiKeyInline]
    actions = ["issue_api_key", "revoke_api_key"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("filings")

    @admin.display(description=_("备案年度"))
    def filed_years(self, obj):
        return "、".join(str(f.year) for f in sorted(obj.filings.all(), key=lambda f: f.year))

    @admin.action(description=_("签发/轮换 API 密钥"), permissions=["change"])
    def issue_api_key(self, request, queryset):
        """The secret is shown on this one page and stored only encrypted: it is not put
        in a message (messages live in a cookie or the session)."""
        issued = []
        for institution in queryset:
            key, secret = services.institution_api_key_issue(institution=institution)
            issued.append({"institution": institution, "key_id": key.key_id, "secret": secret})
        response = TemplateResponse(request, "education/admin/api_key_issued.html", {
            **self.admin_site.each_context(request), "title": _("新的 API 密钥"), "issued": issued,
            "opts": self.model._meta,
        })
        add_never_cache_headers(response)
        return response

    @admin.action(description=_("吊销 API 密钥"), permissions=["change"])
    def revoke_api_key(self, request, queryset):
        revoked = sum(services.institution_api_key_revoke(institution=i) for i in queryset)
        self.message_user(request, _("已吊销 %(n)s 个 API 密钥。") % {"n": revoked}, messages.SUCCESS)


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ("created_at", "year", "institution", "user")
    list_filter = ("year", "institution")
    list_select_related = ("institution", "user")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
