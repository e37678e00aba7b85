from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.staff import ScopedAdminMixin
from portal.paginators import EstimatedCountPaginator

from .models import ChangeRecord


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The change log, read-only for every staff user, limited to their scope."""

    list_display = ("created_at", "user", "item", "field_count", "ip_address")
    list_filter = ("item", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__name",)
    search_help_text = _("姓名，或完整证件号码（精确匹配）")
    readonly_fields = ("user", "item", "changes", "created_at", "ip_address")
    ordering = ("-pk",)  # newest first through the primary key: no sort of the whole log
    paginator = EstimatedCountPaginator  # grows with every change: no exact COUNT(*)
    show_full_result_count = False

    @admin.display(description="变更字段数")
    def field_count(self, obj):
        return len(obj.changes or [])

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
