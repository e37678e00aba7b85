"""跨省调转 in the admin: staff see every application's state (read-only: the person and
the national platform change it, never the back office)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.staff import ScopedAdminMixin, sees_everyone

from .models import PlatformRecord, TransferIn, TransferOut


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TransferOut)
class TransferOutAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    # Limited to the staff user's management unit (accounts/staff.py); counted per status on the index.
    review_status_field = "status"
    list_display = ("pk", "created_at", "user", "to_province", "reason", "status", "platform_ref",
                    "platform_status_at", "account_state")
    list_filter = ("status", "to_province", "reason", "created_at")
    list_select_related = ("user",)
    search_fields = ("platform_ref", "user__name")
    exclude = ("evidence",)

    @admin.display(description=_("账号状态"))
    def account_state(self, obj):
        return _("已调出") if obj.user.transferred_out_at else _("正常")


@admin.register(TransferIn)
class TransferInAdmin(ScopedAdminMixin, ReadOnlyAdmin):
    list_display = ("created_at", "platform_ref", "user", "from_province", "reopened")
    list_filter = ("from_province", "reopened")
    list_select_related = ("user",)
    search_fields = ("platform_ref",)


@admin.register(PlatformRecord)
class PlatformRecordAdmin(ReadOnlyAdmin):
    """The local stand-in for the national platform (development and demos). Its rows name
    people but carry no division: only staff of the 省 unit see them."""

    def has_module_permission(self, request):
        return sees_everyone(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return sees_everyone(request.user) and super().has_view_permission(request, obj)

    list_display = ("ref", "from_province", "to_province", "name", "id_number_masked", "status", "updated_at")
    list_filter = ("status", "from_province", "to_province")
    search_fields = ("ref",)
    exclude = ("id_number_encrypted", "id_hash", "payload")
