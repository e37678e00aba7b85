"""备案机构 in the admin: filings, API keys (签发/轮换, 吊销), their credit batches with
per-record results; enrolments, credit records and yearly totals read-only;
学分确认申请 review (通过 / 不通过 one at a time or in bulk, the evidence inline).

Every admin holding a person's data is limited to the staff user's scope
(accounts.staff.ScopedAdminMixin); review decisions and evidence views are audited."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, When
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.staff import ScopedAdminMixin
from portal.audit import audit_record
from portal.errors import PortalError
from portal.models import AuditAction
from portal.paginators import EstimatedCountPaginator

from . import claims, selectors, services
from .forms import ClaimBulkRejectForm, ClaimReviewForm
from .models import (
    CreditBatch,
    CreditBatchItem,
    CreditClaim,
    CreditClaimStatus,
    CreditRecord,
    CreditYearTotal,
    Enrolment,
    Institution,
    InstitutionApiKey,
    InstitutionFiling,
)
from .views import evidence_response


@admin.display(description=_("编号"), ordering="pk")
def number(obj):
    return obj.pk


class YearFilter(admin.SimpleListFilter):
    """年度 from the portal's own year range: Django's default filter for a plain number
    field lists its values with SELECT DISTINCT over the whole table (0.5 s over 5M credits)."""

    title = _("年度")
    parameter_name = "year"
    lookup = "year"

    def lookups(self, request, model_admin):
        return [(str(year), str(year)) for year in selectors.selectable_years()]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.lookup: int(value)}) if value and value.isdigit() else queryset


class FilingYearFilter(YearFilter):
    """备案年度 (one filing per institution and year: no duplicate rows)."""

    title = _("备案年度")
    parameter_name = "filing_year"
    lookup = "filings__year"


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
    list_display = ("code", "name", "platform_url", "contact_name", "contact_phone", "filed_years", "batches",
                    "is_active")
    list_filter = ("is_active", FilingYearFilter)
    search_fields = ("code", "name")
    inlines = [FilingInline, ApiKeyInline]
    actions = ["issue_api_key", "revoke_api_key"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("filings")

    @admin.display(description=_("备案年度"))
    def filed_years(self, obj):
        return "、".join(str(f.year) for f in sorted(obj.filings.all(), key=lambda f: f.year))

    @admin.display(description=_("学分批次"))
    def batches(self, obj):
        url = reverse("admin:education_creditbatch_changelist")
        return format_html('<a href="{}?institution__id__exact={}">{}</a>', url, obj.pk, _("查看批次"))

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
class EnrolmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "year", "institution", "user")
    list_filter = (YearFilter, "institution", "created_at")
    list_select_related = ("institution", "user")
    search_fields = ("user__name",)
    ordering = ("-pk",)  # newest first through the primary key: no sort of millions of rows
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditRecord)
class CreditRecordAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("completed_at", "year", "user", "source", "institution", "category", "credits", "course")
    list_filter = (YearFilter, "source", "category", "institution")
    list_select_related = ("user", "institution")
    search_fields = ("user__name", "record_id", "course")
    search_help_text = _("姓名、记录编号、课程，或完整证件号码（精确匹配）")
    exclude = ("batch",)
    ordering = ("-pk",)  # newest first through the primary key: no sort of millions of rows
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    show_full_result_count = False


@admin.register(CreditYearTotal)
class CreditYearTotalAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("year", "user", "public_credits", "professional_credits", "total", "met")
    list_filter = (YearFilter,)
    list_select_related = ("user",)
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    show_full_result_count = False
    search_fields = ("user__name",)
    search_help_text = _("姓名，或完整证件号码（精确匹配）")

    @admin.display(description=_("是否达标"), boolean=True)
    def met(self, obj):
        return (obj.public_credits >= settings.CE_PUBLIC_MIN_CREDITS
                and obj.professional_credits >= settings.CE_PROFESSIONAL_MIN_CREDITS
                and obj.total >= settings.CE_ANNUAL_MIN_CREDITS)


class CreditBatchItemInline(admin.TabularInline):
    """The records of a batch not accepted (record id, 重复 / 拒绝 and why); no person data."""

    model = CreditBatchItem
    extra = 0
    can_delete = False
    fields = ("index", "record_id", "result", "reason_label", "message")
    readonly_fields = fields

    @admin.display(description=_("原因"))
    def reason_label(self, obj):
        from .credits import REASONS

        return REASONS.get(obj.reason, obj.reason) if obj.reason else ""

    def has_view_permission(self, request, obj=None):
        # The results are part of the batch: whoever may see the batch sees them.
        return request.user.has_perm("education.view_creditbatch")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CreditBatch)
class CreditBatchAdmin(ReadOnlyAdmin):
    """An institution's credit batches and what became of each record. The batch's own
    records (names, masked ID numbers) are not shown: the results are what staff need."""

    list_display = (number, "created_at", "institution", "origin", "record_count", "status", "accepted_count",
                    "duplicate_count", "rejected_count", "finished_at")
    list_filter = ("status", "institution", "origin", "created_at")
    list_select_related = ("institution",)
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    show_full_result_count = False
    fields = ("institution", "origin", "status", "record_count", "processed", "accepted_count", "duplicate_count",
              "rejected_count", "created_at", "finished_at")
    readonly_fields = fields
    inlines = [CreditBatchItemInline]

    def get_queryset(self, request):
        # The counts are kept on the batch row; the records themselves (up to 2 MB each) are never shown.
        return super().get_queryset(request).defer("records")


# --- 学分确认申请: review -------------------------------------------------------------------


class PendingFirstStatusFilter(admin.SimpleListFilter):
    """状态, 待审核 by default (the reviewers' queue); 全部 shows every claim."""

    title = _("状态")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("all", _("全部")), *CreditClaimStatus.choices]

    def choices(self, changelist):
        value = self.value() or CreditClaimStatus.PENDING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or CreditClaimStatus.PENDING
        if value == "all":
            return queryset
        if value not in CreditClaimStatus.values:
            return queryset.none()
        return queryset.filter(status=value)


@admin.register(CreditClaim)
class CreditClaimAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Review one claim on its page (通过 / 不通过) or many with the list actions.

    Every decision goes through education.claims; the page itself edits nothing.
    """

    list_display = (number, "created_at", "user", "year", "activity", "days", "credits", "status")
    list_filter = (PendingFirstStatusFilter, YearFilter, "activity")
    list_select_related = ("user",)
    list_per_page = 50
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    show_full_result_count = False
    search_fields = ("user__name",)
    search_help_text = _("姓名，或完整证件号码（精确匹配）")
    actions = ["approve_selected", "reject_selected"]
    # The admin index counts this queue per status (portal.admin_site).
    review_status_field = "status"
    review_status_param = PendingFirstStatusFilter.parameter_name
    change_form_template = "education/admin/creditclaim_change_form.html"
    fields = ("user", "year", "activity", "days", "rule_credits", "credits", "details", "evidence_image",
              "status", "reason", "reviewed_by", "created_at", "decided_at", "credit_record")
    readonly_fields = fields

    def get_ordering(self, request):
        return [Case(When(status=CreditClaimStatus.PENDING, then=0), default=1).asc(), "created_at", "pk"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The page of a claim is read-only: decisions are the review buttons and actions.
        return obj is None and super().has_change_permission(request)

    def _can_review(self, request) -> bool:
        return super().has_change_permission(request)

    @admin.display(description=_("折算标准"))
    def rule_credits(self, obj):
        return claims.ACTIVITIES[obj.activity].rule_text if obj.activity in claims.ACTIVITIES else "-"

    @admin.display(description=_("证明材料"))
    def evidence_image(self, obj):
        if not obj.evidence:
            return "-"
        url = reverse("admin:education_creditclaim_evidence", args=[obj.pk])
        return format_html(
            '<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="证明材料" width="480"></a>', url)

    # --- the claim's own page: evidence view and review buttons ---------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:claim_id>/evidence/", wrap(self.evidence_view), name="education_creditclaim_evidence"),
            path("<int:claim_id>/review/", wrap(self.review_view), name="education_creditclaim_review"),
            *super().get_urls(),
        ]

    def evidence_view(self, request, claim_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        claim = self.scoped_or_404(request, claim_id)
        response = evidence_response(claim)
        audit_record(request=request, action=AuditAction.UPLOAD_VIEW, obj=claim, person=claim.user,
                     params={"field": "evidence"})
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_review": self._can_review(request), "review_form": ClaimReviewForm(),
                 "needs_credits": False, "show_save": False, "show_save_and_continue": False,
                 "show_save_and_add_another": False, "show_delete": False, **(extra_context or {})}
        claim = self.scoped_or_404(request, object_id)
        extra["needs_credits"] = claims.ACTIVITIES[claim.activity].credits is None
        return super().change_view(request, object_id, form_url, extra)

    @method_decorator(require_POST)
    def review_view(self, request, claim_id: int):
        """通过 (with 认定学分 for 其他形式) or 不通过 (with a reason), one claim."""
        if not self._can_review(request):
            raise PermissionDenied
        person = self.scoped_or_404(request, claim_id).user
        form = ClaimReviewForm(request.POST)
        change_url = reverse("admin:education_creditclaim_change", args=[claim_id])
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, error, messages.ERROR)
            return HttpResponseRedirect(change_url)
        try:
            if "_approve" in request.POST:
                claim = claims.credit_claim_approve(claim_id=claim_id, reviewer=request.user,
                                                    credits=form.cleaned_data["credits"])
                _audit_decision(request, claim, approved=True)
                done = _("申请 #%(pk)s 已通过，计入 %(n)s 学分。") % {"pk": claim.pk, "n": claim.credits}
                self.message_user(request, done, messages.SUCCESS)
            elif "_reject" in request.POST:
                claim = claims.credit_claim_reject(claim_id=claim_id, reviewer=request.user,
                                                   reason=form.cleaned_data["reason"])
                _audit_decision(request, claim, approved=False, person=person)
                self.message_user(request, _("申请 #%(pk)s 未通过。") % {"pk": claim_id}, messages.SUCCESS)
            else:
                return HttpResponseRedirect(change_url)
        except PortalError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(change_url)
        return HttpResponseRedirect(reverse("admin:education_creditclaim_changelist"))

    # --- bulk -----------------------------------------------------------------------------

    @admin.action(description=_("通过所选申请"), permissions=["change"])
    def approve_selected(self, request, queryset):
        """Claims of 其他形式 need the reviewer's credits: they are left for their own page."""
        approved, refused = 0, []
        for claim_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                claim = claims.credit_claim_approve(claim_id=claim_id, reviewer=request.user)
                _audit_decision(request, claim, approved=True, bulk=True)
                approved += 1
            except PortalError as error:
                refused.append(f"#{claim_id}：{error.message}")
        if approved:
            self.message_user(request, _("已通过 %(n)s 条申请。") % {"n": approved}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description=_("不通过所选申请（填写原因）"), permissions=["change"])
    def reject_selected(self, request, queryset):
        """An intermediate page asks for the reason; nothing changes until it is given."""
        form = ClaimBulkRejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            rejected, refused = 0, []
            for claim_id in queryset.order_by("pk").values_list("pk", flat=True):
                try:
                    claim = claims.credit_claim_reject(claim_id=claim_id, reviewer=request.user,
                                                       reason=form.cleaned_data["reason"])
                    _audit_decision(request, claim, approved=False, bulk=True)
                    rejected += 1
                except PortalError as error:
                    refused.append(f"#{claim_id}：{error.message}")
            if rejected:
                self.message_user(request, _("已将 %(n)s 条申请设为未通过。") % {"n": rejected}, messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.WARNING)
            return None
        return TemplateResponse(request, "education/admin/creditclaim_reject.html", {
            **self.admin_site.each_context(request), "title": _("不通过所选申请"), "form": form,
            "claims": queryset.select_related("user").order_by("pk"), "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })


def _audit_decision(request, claim, *, approved: bool, bulk: bool = False, person=None) -> None:
    """One audit row per review decision (通过 / 不通过), single or bulk."""
    claim_obj = claim if isinstance(claim, CreditClaim) else CreditClaim.objects.select_related("user").get(pk=claim)
    params = {"bulk": bulk, "year": claim_obj.year, "activity": claim_obj.activity}
    if approved:
        params["credits"] = str(claim_obj.credits)
    else:
        params["reason"] = claim_obj.reason
    audit_record(request=request, action=AuditAction.CLAIM_APPROVE if approved else AuditAction.CLAIM_REJECT,
                 obj=claim_obj, person=person or claim_obj.user, params=params)
