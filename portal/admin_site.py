"""The staff admin site: password plus TOTP (django-otp), review counts on the index.

Installed as the default admin site (portal.admin_config.PortalAdminConfig replaces django.contrib.admin in
INSTALLED_APPS), so every app's `admin.site.register` / `@admin.register` lands here.
A staff user who has not verified a TOTP device in this session is treated as not
staff: the admin answers with its login page.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.signals import user_login_failed
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice


class StaffLoginForm(OTPAdminAuthenticationForm):
    """用户名 + 密码 + 动态口令 on one page. A wrong code counts as a failed login for the
    account lockout (django-axes), exactly like a wrong password."""

    otp_token = forms.CharField(
        label=_("动态口令"), required=False, max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=_("请输入身份验证器上的 6 位动态口令。"),
        invalid_token=_("动态口令不正确或已过期，请重新输入。"),
        device_required=_("该账号尚未绑定身份验证器，请联系系统管理员。"),
        n_failed_attempts=_("动态口令错误次数过多，请稍后再试。"),
        verification_not_allowed=_("暂时无法验证动态口令，请稍后再试。"),
    )

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            # One authenticator per staff user: no device list to choose from.
            device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        return device

    def clean_otp(self, user):
        try:
            super().clean_otp(user)
        except forms.ValidationError:
            if user is not None:
                user_login_failed.send(
                    sender=type(self), credentials={"username": self.cleaned_data.get("username")},
                    request=self.request,
                )
            raise


class PortalAdminSite(OTPAdminSite):
    site_header = _("贵州省财政会计网 · 管理后台")
    site_title = _("贵州省财政会计网")
    index_title = _("业务管理")
    login_form = StaffLoginForm
    login_template = "admin/otp_login.html"
    index_template = "admin/portal_index.html"

    def __init__(self, name: str = "admin"):
        super().__init__(name)

    def review_queues(self, request) -> list[dict]:
        """Counts per status of every review queue (model admins with `review_status_field`)
        the staff user may see, within their scope."""
        queues = []
        for model, model_admin in self._registry.items():
            field = getattr(model_admin, "review_status_field", None)
            if not field or not model_admin.has_view_permission(request):
                continue
            counts = dict(
                model_admin.get_queryset(request).order_by().values_list(field).annotate(n=Count("pk"))
            )
            status_field = model._meta.get_field(field)
            param = getattr(model_admin, "review_status_param", f"{field}__exact")
            changelist = reverse(f"{self.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
            queues.append({
                "name": model._meta.verbose_name_plural,
                "url": changelist,
                "statuses": [
                    {"value": value, "label": label, "count": counts.get(value, 0),
                     "url": f"{changelist}?{param}={value}"}
                    for value, label in status_field.choices
                ],
            })
        return queues

    def index(self, request, extra_context=None):
        extra = {"review_queues": self.review_queues(request), **(extra_context or {})}
        return super().index(request, extra)
