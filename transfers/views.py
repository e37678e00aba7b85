"""跨省调转 pages: the entry page, 跨出省外调转 (logged in) and 跨省调入 (public, three steps).

Thin views: validate a form, call one service, redirect or render. Pages show the
status last read from the national platform and never wait for it, except where
the person asks the platform something (撤回, the 调入 steps).
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.views import code_sent_context
from collection import access
from collection.models import Division
from portal.errors import PortalError
from portal.http import private_image_response

from . import selectors, services
from .business import business_refusal
from .forms import TransferInConfirmForm, TransferInPasswordForm, TransferInVerifyForm, TransferOutForm

IN_KEY = "transfer_in"
NOT_COLLECTED = "transfers/not_collected.html"

collected_required = access.collected_required(NOT_COLLECTED)
transfer_allowed = access.collected_required(NOT_COLLECTED, business="transfer")


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """跨省调转: 跨省调入 (public) and 跨出省外调转 (after login)."""
    return render(request, "transfers/index.html")


# --- 跨出省外调转 ----------------------------------------------------------------------------


@collected_required
@require_GET
def out_list(request: HttpRequest) -> HttpResponse:
    """调出省外申请: the person's applications with status and progress."""
    return render(request, "transfers/out_list.html", {
        "transfers": selectors.transfers_of(user=request.user),
        "refusal": business_refusal(user=request.user, action="transfer"),
    })


@transfer_allowed
@require_http_methods(["GET", "POST"])
def out_create(request: HttpRequest) -> HttpResponse:
    """申请: refused with the reason while any business is under way."""
    form = TransferOutForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.transfer_out_apply(
                user=request.user, to_province=data["to_province"], reason=data["reason"],
                destination=data["destination"], evidence=data["evidence"],
            )
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("调出申请已提交，正在报送全国平台。可在本页查看调出进度。"))
            return redirect("transfers:out_list")
    return render(request, "transfers/out_create.html", {"form": form})


@collected_required
@require_POST
def out_withdraw(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """撤回, until the destination receives."""
    if selectors.transfer_of(user=request.user, transfer_id=transfer_id) is None:
        raise Http404
    try:
        services.transfer_out_withdraw(user=request.user, transfer_id=transfer_id)
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("调出申请已撤回。"))
    return redirect("transfers:out_list")


@collected_required
@require_GET
def out_evidence(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """The owner's own 证明材料."""
    transfer = selectors.transfer_of(user=request.user, transfer_id=transfer_id)
    if transfer is None:
        raise Http404
    return private_image_response(transfer.evidence)


# --- 跨省调入 (public) ----------------------------------------------------------------------


def _state(request: HttpRequest) -> dict:
    return request.session.get(IN_KEY) or {}


def _restart(request: HttpRequest, message: str) -> HttpResponse:
    request.session.pop(IN_KEY, None)
    messages.error(request, message)
    return redirect("transfers:in_verify")


@never_cache
@sensitive_post_parameters("id_number", "sms_code")
@require_http_methods(["GET", "POST"])
def in_verify(request: HttpRequest) -> HttpResponse:
    """第一步 填写验证信息: 姓名, 证件类型, 证件号码, 手机号码 + 短信验证码."""
    form = TransferInVerifyForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            from accounts.models import SmsPurpose

            context.update(code_sent_context(request, SmsPurpose.TRANSFER_IN, form))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                ref = services.transfer_in_verify(
                    name=data["name"], id_type=data["id_type"], id_number=data["id_number"], mobile=data["mobile"],
                    sms_code=data["sms_code"],
                )
            except PortalError as error:
                context["refusal"] = error.message
            else:
                request.session.cycle_key()
                request.session[IN_KEY] = {"ref": ref, "step": 2}
                return redirect("transfers:in_confirm")
    return render(request, "transfers/in_verify.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def in_confirm(request: HttpRequest) -> HttpResponse:
    """第二步 确认调入信息: the record from the platform (masked), 所属行政区划 and 工作单位."""
    state = _state(request)
    if not state.get("ref"):
        return _restart(request, _("请先填写验证信息。"))
    try:
        record = services.transfer_in_record(ref=state["ref"])
    except PortalError as error:
        return _restart(request, error.message)
    initial = state.get("choices") or {}
    form = TransferInConfirmForm(request.POST or None, initial={**initial, "confirmed": bool(initial)})
    if request.method == "POST" and form.is_valid():
        state["choices"] = form.choices_for_session()
        state["step"] = 3
        request.session[IN_KEY] = state
        return redirect("transfers:in_password")
    return render(request, "transfers/in_confirm.html", {"form": form, "record": record})


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def in_password(request: HttpRequest) -> HttpResponse:
    """第三步 设置账号登录密码 → 完成 (a second submit creates nothing more)."""
    state = _state(request)
    choices = state.get("choices")
    if not state.get("ref"):
        return _restart(request, _("请先填写验证信息。"))
    if not choices:
        return redirect("transfers:in_confirm")
    try:
        name, mobile, number = services.transfer_in_identity(ref=state["ref"])
    except PortalError as error:
        return _restart(request, error.message)
    form = TransferInPasswordForm(request.POST or None, name=name, mobile=mobile, id_number_probe=number)
    if request.method == "POST" and form.is_valid():
        division = Division.objects.filter(pk=choices["division"]).first()
        if division is None:
            return redirect("transfers:in_confirm")
        try:
            services.transfer_in_complete(
                ref=state["ref"], division=division, employer=choices["employer"],
                password=form.cleaned_data["password1"], provincial_declaration=choices["provincial_declaration"],
            )
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            request.session.pop(IN_KEY, None)
            request.session["transfer_in_done"] = True
            return redirect("transfers:in_done")
    return render(request, "transfers/in_password.html", {"form": form})


@never_cache
@require_GET
def in_done(request: HttpRequest) -> HttpResponse:
    """完成: the account and its archive exist; log in with the ID number and the new password."""
    if not request.session.pop("transfer_in_done", False):
        return redirect("transfers:index")
    return render(request, "transfers/in_done.html")
