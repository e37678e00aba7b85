"""访问记录 (the audit log) for 审计员: browse and filter, never add, change or delete."""

from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.paginators import EstimatedCountPaginator

from .models import AuditEntry

PORTAL_APPS = ("accounts", "collection", "changes", "education", "transfers", "portal")


class ObjectTypeFilter(admin.SimpleListFilter):
    """对象类型 from the portal's own models: the default filter of a plain text field lists
    its values with SELECT DISTINCT over the whole (ever-growing) log."""

    title = _("对象类型")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        models = [m for m in apps.get_models() if m._meta.app_label in PORTAL_APPS]
        return sorted(((m._meta.label, m._meta.verbose_name) for m in models), key=lambda kv: kv[0])

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_username", "action", "person", "object_kind", "object_id", "row_count",
                    "ip_address")
    list_filter = ("action", "created_at", ObjectTypeFilter)
    search_fields = ("actor_username", "person", "object_id", "ip_address")
    search_help_text = _("操作人用户名、人员（姓名）、对象编号或来源地址")
    list_per_page = 100
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    actions = None
    fields = ("created_at", "actor", "actor_username", "action", "object_type", "object_id", "person_id", "person",
              "params", "row_count", "ip_address")
    readonly_fields = fields

    @admin.display(description=_("对象类型"), ordering="object_type")
    def object_kind(self, obj):
        if not obj.object_type:
            return "-"
        try:
            return apps.get_model(obj.object_type)._meta.verbose_name
        except (LookupError, ValueError):
            return obj.object_type

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-axes' own lists, without the filters that read every row (a date_hierarchy and
# path_info list their values with SELECT DISTINCT): failed logins grow with the population.
def _axes_lists() -> None:
    from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model, base in ((AccessAttempt, AccessAttemptAdmin), (AccessLog, AccessLogAdmin),
                        (AccessFailureLog, AccessFailureLogAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        lean = type(base.__name__, (base,), {
            "__module__": __name__, "date_hierarchy": None,
            "list_filter": tuple(f for f in base.list_filter if f != "path_info"),
        })
        admin.site.register(model, lean)


_axes_lists()
