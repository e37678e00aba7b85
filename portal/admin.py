"""访问记录 (the audit log) for 审计员: browse and filter, never add, change or delete."""

from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from portal.paginators import EstimatedCountPaginator

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_username", "action", "person", "object_kind", "object_id", "row_count",
                    "ip_address")
    list_filter = ("action", "created_at", "object_type")
    search_fields = ("actor_username", "person", "object_id", "ip_address")
    search_help_text = _("操作人用户名、人员（姓名）、对象编号或来源地址")
    date_hierarchy = "created_at"
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
