"""Registration, login, logout, password reset and the personal home page.

Thin views: validate a form, call one service, redirect or render.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from collection.selectors import archive_brief_for, collection_status_for
from portal.errors import PortalError
from portal.http import client_ip

from . import services
from .forms import (
    EligibilityForm,
    LoginForm,
    MobileChangeForm,
    PasswordResetSetForm,
    PasswordResetVerifyForm,
    RegisterForm,
)
from .identity import login_username
from .models import SmsPurpose, User
from .sms import SmsRefused

ELIGIBILITY_KEY = "register_eligibility"
RESET_KEY = "password_reset"
SENSITIVE = ("password", "password1", "password2", "new_password1", "new_password2", "id_number", "sms_code")

# Fields that must be valid before a code can be asked for, per purpose.
SMS_FIELDS = {
    SmsPurpose.REGISTER: ("mobile",),
    SmsPurpose.RESET: ("name", "id_number", "mobile"),
    SmsPurpose.CHANGE_PHONE: ("mobile",),
    SmsPurpose.TRANSFER_IN: ("name", "id_number", "mobile"),
}


def request_code(request: HttpRequest, purpose: str, form) -> tuple[int, str, int | None]:
    """Ask for a code with the typed data; (HTTP status, message, retry_after)."""
    form.is_valid()
    bad = [f for f in SMS_FIELDS[purpose] if form.has_error(f)]
    if bad:
        return 400, str(form.errors[bad[0]][0]), None
    data = form.cleaned_data
    try:
        if purpose == SmsPurpose.REGISTER:
            services.registration_code_request(mobile=data["mobile"], ip=client_ip(request))
            message = _("短信验证码已发送，请查收。")
        elif purpose == SmsPurpose.TRANSFER_IN:
            from transfers.services import transfer_in_code_request

            transfer_in_code_request(mobile=data["mobile"], ip=client_ip(request))
            message = _("短信验证码已发送，请查收。")
        elif purpose == SmsPurpose.CHANGE_PHONE:
            services.mobile_change_code_request(user=request.user, mobile=data["mobile"], ip=client_ip(request))
            message = _("短信验证码已发送至新手机号码，请查收。")
        else:
            services.password_reset_code_request(
                name=data["name"], id_number=data["id_number"], mobile=data["mobile"], ip=client_ip(request)
            )
            message = _("如姓名、证件号码与手机号码匹配，短信验证码已发送至该手机号码，请查收。")
    except SmsRefused as exc:
        return 429, exc.message, exc.retry_after
    except PortalError as exc:
        return 400, exc.message, None
    return 200, message, settings.SMS_RESEND_SECONDS


def _transfer_in_form():
    from transfers.forms import TransferInVerifyForm

    return TransferInVerifyForm


@require_POST
@sensitive_post_parameters(*SENSITIVE)
def sms_code_send(request: HttpRequest) -> JsonResponse:
    """获取短信验证码 (JavaScript): same rules as the form post without JavaScript."""
    purpose = request.POST.get("purpose")
    form_class = {
        SmsPurpose.REGISTER: RegisterForm,
        SmsPurpose.RESET: PasswordResetVerifyForm,
        SmsPurpose.CHANGE_PHONE: MobileChangeForm,
        SmsPurpose.TRANSFER_IN: _transfer_in_form(),
    }.get(purpose)
    if form_class is None:
        return JsonResponse({"ok": False, "message": _("请求无效。")}, status=400)
    if purpose == SmsPurpose.CHANGE_PHONE and not request.user.is_authenticated:
        return JsonResponse({"ok": False, "message": _("请先登录。")}, status=403)
    status, message, retry_after = request_code(request, purpose, form_class(request.POST))
    return JsonResponse({"ok": status == 200, "message": message, "retry_after": retry_after}, status=status)


def code_sent_context(request, purpose, form) -> dict:
    """No-JavaScript 获取短信验证码: re-render the page with what was typed."""
    status, message, retry_after = request_code(request, purpose, form)
    form.errors.clear()  # only the code request is judged here, not the whole form
    for name in ("password1", "password2"):
        if name in form.fields:
            form.fields[name].widget.render_value = True
    return {"sms_status": "success" if status == 200 else "danger", "sms_message": message, "retry_after": retry_after}


@require_http_methods(["GET", "POST"])
def register_eligibility(request: HttpRequest) -> HttpResponse:
    """用户注册 第二步：选择信息采集对象."""
    form = EligibilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        works, holds = form.answers()
        if not (works or holds):
            request.session.pop(ELIGIBILITY_KEY, None)  # an earlier "yes" no longer opens the form
            return redirect("accounts:register_not_needed")
        request.session[ELIGIBILITY_KEY] = {"works_in_guizhou": works, "holds_qualification": holds}
        return redirect("accounts:register")
    return render(request, "accounts/register_eligibility.html", {"form": form})


def register_not_needed(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_not_needed.html")


@never_cache
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """用户注册 第三步：填写注册信息."""
    eligibility = request.session.get(ELIGIBILITY_KEY)
    if not eligibility:
        messages.info(request, _("请先选择信息采集对象。"))
        return redirect("accounts:register_eligibility")
    form = RegisterForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            context.update(code_sent_context(request, SmsPurpose.REGISTER, form))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                services.account_register(
                    name=data["name"],
                    id_type=data["id_type"],
                    id_number=data["id_number"],
                    password=data["password1"],
                    mobile=data["mobile"],
                    sms_code=data["sms_code"],
                    works_in_guizhou=eligibility["works_in_guizhou"],
                    holds_qualification=eligibility["holds_qualification"],
                )
            except services.AccountExists as exc:
                context["account_exists"] = exc.message
            except PortalError as exc:
                form.add_error("sms_code", exc.message)
            else:
                request.session.pop(ELIGIBILITY_KEY, None)
                messages.success(request, _("注册成功，请使用证件号码和密码登录。"))
                return redirect("accounts:login")
    return render(request, "accounts/register_form.html", context)


@never_cache
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """登录: 证件号码 + 密码; lockout by django-axes (see login_locked_out)."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=login_username(form.cleaned_data["id_number"]),
            password=form.cleaned_data["password"],
        )
        if user is not None and user.is_active:
            services.session_login(request=request, user=user)
            target = request.POST.get("next") or request.GET.get("next")
            if not (target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())):
                target = reverse("accounts:home")
            return redirect(target)
        form.add_error(
            None,
            _("证件号码或密码错误。连续输入错误 %(n)d 次，账号将被锁定 %(m)d 分钟。")
            % {"n": settings.AXES_FAILURE_LIMIT, "m": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        )
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


def login_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes lockout response: a message that does not say whether the ID exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "登录失败次数过多，该账号已被暂时锁定，请 %(m)d 分钟后再试，或通过“忘记密码”重置密码。"
    ) % {"m": minutes}
    if request.path.startswith(reverse("admin:index")):
        return render(request, "accounts/login_locked_admin.html", {"locked_message": message}, status=429)
    return render(request, "accounts/login.html", {"form": LoginForm(), "locked_message": message}, status=429)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.session_logout(request=request)
    messages.success(request, _("您已安全退出。"))
    return redirect("home")


@never_cache
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """忘记密码 第一步：姓名、证件号码、手机号码、短信验证码 → 下一步."""
    form = PasswordResetVerifyForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            context.update(code_sent_context(request, SmsPurpose.RESET, form))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                user, token = services.password_reset_verify(
                    name=data["name"], id_number=data["id_number"], mobile=data["mobile"], sms_code=data["sms_code"]
                )
            except PortalError as exc:
                form.add_error("sms_code", exc.message)
            else:
                request.session.cycle_key()
                request.session[RESET_KEY] = {"uid": user.pk, "token": token}
                return redirect("accounts:password_reset_set")
    return render(request, "accounts/password_reset_verify.html", context)


@never_cache
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def password_reset_set(request: HttpRequest) -> HttpResponse:
    """忘记密码 第二步：新密码、确认密码 → 完成."""
    state = request.session.get(RESET_KEY) or {}
    user = User.objects.filter(pk=state.get("uid"), is_active=True).first()
    if user is None or not services.password_reset_token_valid(user=user, token=state.get("token", "")):
        request.session.pop(RESET_KEY, None)
        messages.error(request, _("请先验证身份信息。"))
        return redirect("accounts:password_reset")
    form = PasswordResetSetForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_complete(
                user=user, token=state["token"], new_password=form.cleaned_data["new_password1"]
            )
        except PortalError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:password_reset")
        request.session.pop(RESET_KEY, None)
        messages.success(request, _("密码已重置，请使用新密码登录。"))
        return redirect("accounts:login")
    return render(request, "accounts/password_reset_set.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The person's own home page after login."""
    archive = archive_brief_for(user=request.user)
    return render(
        request,
        "accounts/home.html",
        {"archive": archive, "collection_status": collection_status_for(user=request.user, archive=archive)},
    )
