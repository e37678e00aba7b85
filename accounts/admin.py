from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.paginators import EstimatedCountPaginator

from .models import SmsMessage, StaffProfile, User
from .staff import ScopedAdminMixin, sees_everyone


class StaffProfileInline(admin.StackedInline):
    """管理单位 of a staff user: what part of the province they see."""

    model = StaffProfile
    fk_name = "user"
    extra = 0
    max_num = 1
    can_delete = True
    fields = ("unit_kind", "division")


@admin.register(User)
class UserAdmin(ScopedAdminMixin, BaseUserAdmin):
    """Accounts of the staff user's scope (accountants by their archive's division);
    only the 省 unit sees accounts without an archive, staff accounts included."""

    scope_field = "archive__division"
    id_hash_field = "id_hash"
    paginator = EstimatedCountPaginator  # no exact COUNT(*) of a whole table of 300k+ rows
    show_full_result_count = False
    list_display = ("name", "id_number_masked", "mobile", "is_staff", "unit", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "id_type", "groups")
    search_fields = ("name", "username")
    search_help_text = _("姓名、用户名，或完整证件号码（精确匹配）")
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
    inlines = [StaffProfileInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff_profile__division__parent")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser hands out superuser status or single permissions;
            # everyone else works with the roles (groups).
            fields += ["is_superuser", "user_permissions"]
        return fields

    def get_inlines(self, request, obj):
        return [StaffProfileInline] if obj is not None and obj.is_staff else []

    @admin.display(description=_("管理单位"))
    def unit(self, obj):
        try:
            return str(obj.staff_profile)
        except StaffProfile.DoesNotExist:
            return "-"


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """The SMS outbox, read-only: with SMS_BACKEND=outbox this is where messages go.
    Messages carry mobiles but no division: only staff of the 省 unit see them."""

    list_display = ("created_at", "mobile", "status", "attempts", "sent_at", "short_body")
    list_filter = ("status", "created_at")
    search_fields = ("mobile",)
    ordering = ("-pk",)  # newest first through the primary key: no sort of the whole outbox
    paginator = EstimatedCountPaginator  # every code and notice ever sent: no exact COUNT(*)
    show_full_result_count = False

    def short_body(self, obj):
        return obj.body[:60]

    short_body.short_description = "内容"

    def has_view_permission(self, request, obj=None):
        return sees_everyone(request.user) and super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return sees_everyone(request.user) and super().has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
