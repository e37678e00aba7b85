"""信息档案 in the staff back office: read-only, limited to the staff user's scope.

Search by 姓名, 手机号码, 档案编号 or a full 证件号码 (exact, through the keyed hash);
filters 所属行政区划, 在岗状态, 采集状态, 专业技术资格级别, 年度学分达标. The detail
shows every part and upload read-only with the ID number masked; 查看完整证件号码
needs its own permission. Every detail view, upload view, reveal and export is
written to the audit log (portal.audit).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import exports
from accounts.identity import mask_mobile
from accounts.staff import ScopedAdminMixin, allowed_divisions
from education.models import CreditYearTotal
from portal.admin_display import as_text
from portal.audit import audit_record, params_of
from portal.http import private_image_response
from portal.models import AuditAction
from portal.paginators import EstimatedCountPaginator

from .models import (
    Archive,
    Award,
    Degree,
    Division,
    DivisionLevel,
    Education,
    EducationLevel,
    Ethnicity,
    HighEndTalent,
    HistoricalDivision,
    PoliticalStatus,
    ProfessionalQualification,
    QualificationLevel,
)
from .services import UPLOAD_FIELDS

# --- filters ---------------------------------------------------------------------------------


class DivisionFilter(admin.SimpleListFilter):
    """所属行政区划, offering only the divisions of the staff user's scope; a prefecture
    includes its counties."""

    title = _("所属行政区划")
    parameter_name = "division"

    def lookups(self, request, model_admin):
        return [(str(d.pk), str(d)) for d in allowed_divisions(request.user).select_related("parent")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        division = Division.objects.filter(pk=value).first() if value.isdigit() else None
        if division is None:
            return queryset.none()
        if division.level == DivisionLevel.PREFECTURE:
            return queryset.filter(Q(division=division) | Q(division__parent=division))
        return queryset.filter(division=division)


class QualificationLevelFilter(admin.SimpleListFilter):
    title = _("专业技术资格级别")
    parameter_name = "qualification_level"

    def lookups(self, request, model_admin):
        return QualificationLevel.choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value not in QualificationLevel.values:
            return queryset.none()
        return queryset.filter(Exists(ProfessionalQualification.objects.filter(archive=OuterRef("pk"), level=value)))


def compliance_years() -> list[int]:
    this_year = timezone.localdate().year
    return list(range(this_year, settings.CE_FIRST_YEAR - 1, -1))


def met_q(year: int) -> Q:
    """Archives whose person met the year's credit requirement (from the yearly totals)."""
    return Q(Exists(CreditYearTotal.objects.filter(
        user=OuterRef("user"), year=year, public_credits__gte=settings.CE_PUBLIC_MIN_CREDITS,
        professional_credits__gte=settings.CE_PROFESSIONAL_MIN_CREDITS, total__gte=settings.CE_ANNUAL_MIN_CREDITS,
    )))


class ComplianceFilter(admin.SimpleListFilter):
    """年度学分达标: `2025-met` / `2025-unmet`."""

    title = _("年度学分达标")
    parameter_name = "compliance"

    def lookups(self, request, model_admin):
        choices = []
        for year in compliance_years():
            choices += [(f"{year}-met", _("%(y)s年 达标") % {"y": year}),
                        (f"{year}-unmet", _("%(y)s年 未达标") % {"y": year})]
        return choices

    @staticmethod
    def parse(value: str | None) -> tuple[int, bool] | None:
        year, _sep, state = (value or "").partition("-")
        if not year.isdigit() or state not in ("met", "unmet"):
            return None
        return int(year), state == "met"

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        parsed = self.parse(self.value())
        if parsed is None:
            return queryset.none()
        year, met = parsed
        return queryset.filter(met_q(year) if met else ~met_q(year))


# --- the archive's parts, read-only -----------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EducationInline(ReadOnlyInline):
    model = Education
    fields = as_text(Education, ("mode", "level", "degree", "school", "major", "start_date", "graduation_date"))
    readonly_fields = fields


class QualificationInline(ReadOnlyInline):
    model = ProfessionalQualification
    fields = as_text(ProfessionalQualification,
                     ("qualification_type", "level", "method", "obtained_on", "certificate_number"))
    readonly_fields = fields


class TalentInline(ReadOnlyInline):
    model = HighEndTalent
    fields = as_text(HighEndTalent, ("talent_type", "selected_year", "batch", "status", "graduation_year"))
    readonly_fields = fields


class AwardInline(ReadOnlyInline):
    model = Award
    fields = as_text(Award, ("content", "level", "awarded_on", "issuer", "remark", "other_credit_info"))
    readonly_fields = fields


# --- the archive ---------------------------------------------------------------------------------


@admin.register(Archive)
class ArchiveAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_field = "division"
    id_hash_field = "user__id_hash"
    list_display = ("archive_number", "person_name", "id_number", "mobile", "division", "employment_status",
                    "status", "collected_at")
    list_display_links = ("archive_number", "person_name")
    list_filter = (DivisionFilter, "employment_status", "status", QualificationLevelFilter, ComplianceFilter)
    list_select_related = ("user", "division__parent")
    search_fields = ("user__name", "user__mobile", "=archive_number")
    search_help_text = _("姓名、手机号码、档案编号，或完整证件号码（精确匹配）")
    ordering = ("-collected_at", "-pk")
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/collection/archive/change_list.html"
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    change_form_template = "admin/collection/archive/change_form.html"
    inlines = [EducationInline, QualificationInline, TalentInline, AwardInline]
    actions = None
    fieldsets = (
        (_("基本信息"), {"fields": ("archive_number", "status", "collected_at", "person_name", "id_type",
                                 "id_number", "gender", "birth_date", "nationality", "mobile")}),
        (_("个人信息"), {"fields": (*as_text(Archive, ("ethnicity", "political_status")), "email", "uploads")}),
        (_("专业技术认证"), {"fields": ("is_cpa", "is_tax_agent", "is_asset_appraiser", "abacus_level")}),
        (_("工作信息"), {"fields": ("employment_status", *as_text(Archive, ("division",)), "employer", "school",
                                 "provincial_declaration")}),
    )
    # Everything is read-only (foreign keys as text: see portal.admin_display).
    readonly_fields = tuple(name for _title, options in fieldsets for name in options["fields"])

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns and fields ----------------------------------------------------------------

    @admin.display(description=_("姓名"), ordering="user__name")
    def person_name(self, obj):
        return obj.user.name

    @admin.display(description=_("证件号码"))
    def id_number(self, obj):
        return obj.user.id_number_masked

    @admin.display(description=_("证件类型"))
    def id_type(self, obj):
        return obj.user.get_id_type_display()

    @admin.display(description=_("性别"))
    def gender(self, obj):
        return obj.user.get_gender_display()

    @admin.display(description=_("出生日期"))
    def birth_date(self, obj):
        return obj.user.birth_date

    @admin.display(description=_("国籍"))
    def nationality(self, obj):
        return obj.user.nationality

    @admin.display(description=_("手机号码"))
    def mobile(self, obj):
        return mask_mobile(str(obj.user.mobile)) if obj.user.mobile else "-"

    @admin.display(description=_("上传材料"))
    def uploads(self, obj):
        shown = [(field, Archive._meta.get_field(field).verbose_name) for field in UPLOAD_FIELDS
                 if getattr(obj, field)]
        if not shown:
            return "-"
        return format_html_join(
            "", '<figure class="archive-upload"><a href="{0}" target="_blank" rel="noopener">'
                '<img src="{0}" alt="{1}" width="240"></a><figcaption>{1}</figcaption></figure>',
            ((reverse("admin:collection_archive_upload", args=[obj.pk, field]), label) for field, label in shown),
        )

    # --- pages -----------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:archive_id>/upload/<str:field>/", wrap(self.upload_view), name="collection_archive_upload"),
            path("<int:archive_id>/reveal-id/", wrap(self.reveal_view), name="collection_archive_reveal"),
            path("export/<str:fmt>/", wrap(self.export_view), name="collection_archive_export"),
            path("export-compliance/<int:year>/<str:fmt>/", wrap(self.compliance_export_view),
                 name="collection_archive_export_compliance"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        archive = self.scoped_or_404(request, object_id)
        extra = {"can_reveal": request.user.has_perm("accounts.reveal_id_number"), **(extra_context or {})}
        response = super().change_view(request, object_id, form_url, extra)
        if request.method == "GET" and response.status_code == 200:
            audit_record(request=request, action=AuditAction.ARCHIVE_VIEW, obj=archive, person=archive.user)
        return response

    def changelist_view(self, request, extra_context=None):
        extra = {
            "can_export_archives": request.user.has_perm("accounts.export_archives"),
            "can_export_compliance": request.user.has_perm("accounts.export_credit_compliance"),
            "export_query": request.GET.urlencode(),
            "compliance_year": self._compliance_year(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    @staticmethod
    def _compliance_year(request) -> int:
        """The year of the 年度学分达标 filter if one is chosen, else last year."""
        parsed = ComplianceFilter.parse(request.GET.get(ComplianceFilter.parameter_name))
        return parsed[0] if parsed else timezone.localdate().year - 1

    def upload_view(self, request, archive_id: int, field: str):
        """An archive image, for staff who may see the archive; each view is recorded."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if field not in UPLOAD_FIELDS:
            raise Http404
        archive = self.scoped_or_404(request, archive_id)
        response = private_image_response(getattr(archive, field))
        audit_record(request=request, action=AuditAction.UPLOAD_VIEW, obj=archive, person=archive.user,
                     params={"field": field})
        return response

    @method_decorator(require_POST)
    @method_decorator(never_cache)
    def reveal_view(self, request, archive_id: int):
        """查看完整证件号码: its own permission, POST only, recorded, never cached."""
        if not (self.has_view_permission(request) and request.user.has_perm("accounts.reveal_id_number")):
            raise PermissionDenied
        archive = self.scoped_or_404(request, archive_id)
        audit_record(request=request, action=AuditAction.ID_REVEAL, obj=archive, person=archive.user)
        return TemplateResponse(request, "admin/collection/archive/reveal_id.html", {
            **self.admin_site.each_context(request), "title": _("完整证件号码"), "archive": archive,
            "full_id_number": archive.user.id_number, "opts": self.model._meta,
            "back_url": reverse("admin:collection_archive_change", args=[archive.pk]),
        })

    def _filtered_queryset(self, request):
        """The changelist's queryset as the list shows it: scope, filters and search."""
        changelist = self.get_changelist_instance(request)
        return changelist.get_queryset(request)

    def _export_response(self, request, *, fmt, header, rows, title, filename, action, params):
        if fmt not in exports.FORMATS:
            raise Http404
        handle, count = exports.export_file(fmt=fmt, header=header, rows=rows, title=title)
        audit_record(request=request, action=action, params=params, row_count=count)
        response = FileResponse(handle, content_type=exports.CONTENT_TYPES[fmt], as_attachment=True,
                                filename=f"{filename}.{fmt}")
        response["Cache-Control"] = "no-store, private"
        return response

    @method_decorator(never_cache)
    def export_view(self, request, fmt: str):
        """导出 the archive list as shown (scope, filters, search), CSV or XLSX."""
        if not (self.has_view_permission(request) and request.user.has_perm("accounts.export_archives")):
            raise PermissionDenied
        if fmt not in exports.FORMATS:
            raise Http404
        queryset = self._filtered_queryset(request)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return self._export_response(
            request, fmt=fmt, header=exports.ARCHIVE_HEADER, rows=exports.archive_rows(queryset),
            title=str(_("信息档案")), filename=f"archives-{stamp}", action=AuditAction.EXPORT_ARCHIVES,
            params={"format": fmt, **params_of(request)},
        )

    @method_decorator(never_cache)
    def compliance_export_view(self, request, year: int, fmt: str):
        """导出 the year's credit compliance of the archives as listed (collected ones only)."""
        if not (self.has_view_permission(request) and request.user.has_perm("accounts.export_credit_compliance")):
            raise PermissionDenied
        if fmt not in exports.FORMATS or year not in compliance_years():
            raise Http404
        queryset = self._filtered_queryset(request)
        return self._export_response(
            request, fmt=fmt, header=exports.COMPLIANCE_HEADER, rows=exports.compliance_rows(queryset, year=year),
            title=str(_("继续教育学分")), filename=f"credit-compliance-{year}",
            action=AuditAction.EXPORT_COMPLIANCE, params={"format": fmt, "year": year, **params_of(request)},
        )


# --- reference data (系统管理员) -------------------------------------------------------------------


@admin.register(Ethnicity)
class EthnicityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "in_standard", "sort_order")
    search_fields = ("code", "name")


@admin.register(PoliticalStatus)
class PoliticalStatusAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "full_name")


@admin.register(EducationLevel)
class EducationLevelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order")


@admin.register(Degree)
class DegreeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order")


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "kind")
    list_filter = ("level",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)


@admin.register(HistoricalDivision)
class HistoricalDivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "valid_from_year", "valid_to_year", "successor_codes")
    search_fields = ("code", "name")
