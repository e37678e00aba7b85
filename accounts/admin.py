from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import SmsMessage, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("name", "id_number_masked", "mobile", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "id_type")
    search_fields = ("name", "username")
    ordering = ("-date_joined",)
    readonly_fields = ("id_type", "id_number_masked", "gender", "birth_date", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("name", "id_type", "id_number_masked", "gender", "birth_date", "mobile")}),
        ("信息采集对象", {"fields": ("works_in_guizhou", "holds_qualification")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "name", "password1", "password2")}),)


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """The SMS outbox, read-only: with SMS_BACKEND=outbox this is where messages go."""

    list_display = ("created_at", "mobile", "status", "attempts", "sent_at", "short_body")
    list_filter = ("status",)
    search_fields = ("mobile",)
    date_hierarchy = "created_at"

    def short_body(self, obj):
        return obj.body[:60]

    short_body.short_description = "内容"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
