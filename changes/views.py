"""信息变更: choose an item, 变更信息, edit, 保存; and 变更记录.

The edit pages use the wizard's own forms and field templates. Every save goes
through one service in changes/services.py, which checks the version the page
was opened with and writes the change record.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import MobileChangeForm
from accounts.identity import mask_mobile
from accounts.models import SmsPurpose
from accounts.views import code_sent_context
from collection import access
from collection.forms import (
    CertificationForm,
    WorkForm,
    education_forms,
    formset_with_extra_row,
    formset_without_errors,
    labelled_formsets,
    professional_forms,
    unbound_from,
)
from portal.errors import PortalError
from portal.http import client_ip

from . import services
from .forms import PersonalChangeForm
from .models import ChangeItem, ChangeRecord

ITEM_HELP = {
    ChangeItem.PERSONAL: _("姓名、民族、政治面貌、电子邮箱、免冠证件照、身份证照片"),
    ChangeItem.CONTACT: _("手机号码（需新号码短信验证和当前登录密码）"),
    ChangeItem.EDUCATION: _("全日制教育、非全日制教育"),
    ChangeItem.PROFESSIONAL: _("专业技术认证；新增、修改、删除专业技术资格、高端会计人才、奖励信息"),
    ChangeItem.WORK: _("在岗状态、所属行政区划、工作单位、学校和学生证"),
}


def _gate(view, business: str | None = None):
    """信息变更 is open only once the archive is 已采集; an unknown item is 404."""

    @access.collected_required("changes/not_collected.html", with_archive=True, business=business)
    @wraps(view)
    def wrapper(request: HttpRequest, archive, *args, **kwargs):
        if "item" in kwargs and kwargs["item"] not in ChangeItem.values:
            raise Http404
        return view(request, archive, *args, **kwargs)

    return wrapper


def collected_required(view):
    return _gate(view)


def change_allowed(view):
    """As collected_required, and refused (with the reason) while a transfer out is open or after 已调出."""
    return _gate(view, business="change")


@collected_required
@require_GET
def menu(request: HttpRequest, archive) -> HttpResponse:
    """信息变更: the items that can change."""
    items = [{"key": item.value, "label": item.label, "help": ITEM_HELP[item]} for item in ChangeItem]
    return render(request, "changes/menu.html", {"items": items, "archive": archive})


@collected_required
@require_GET
def item(request: HttpRequest, archive, item: str) -> HttpResponse:
    """One item read-only, with the 变更信息 button."""
    rows = services.item_snapshot(archive=archive, item=item)
    return render(request, "changes/item_detail.html", {
        "archive": archive, "item": item, "item_label": ChangeItem(item).label, "rows": rows,
    })


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1  # a page without a version is as good as a stale one


def _forms_for(item: str, archive, data=None, files=None) -> dict:
    if item == ChangeItem.PERSONAL:
        initial = {"name": archive.user.name, "ethnicity": archive.ethnicity_id,
                   "political_status": archive.political_status_id, "email": archive.email}
        return {"form": PersonalChangeForm(data, files, archive=archive, initial=initial)}
    if item == ChangeItem.CONTACT:
        return {"form": MobileChangeForm(data)}
    if item == ChangeItem.EDUCATION:
        full_time, part_time = education_forms(archive, data)
        return {"full_time": full_time, "part_time": part_time}
    if item == ChangeItem.PROFESSIONAL:
        certification, formsets = professional_forms(archive, data)
        return {"certification": certification, "formsets": formsets}
    return {"form": WorkForm(data, files, archive=archive, initial=WorkForm.initial_from(archive))}


def _valid(forms: dict) -> bool:
    results = []
    for value in forms.values():
        if isinstance(value, dict):
            results.extend(fs.is_valid() for fs in value.values())
        else:
            results.append(value.is_valid())
    return all(results)


def _save(request: HttpRequest, archive, item: str, forms: dict):
    common = {"archive": archive, "expected_version": _version(request), "ip": client_ip(request)}
    if item == ChangeItem.PERSONAL:
        data = forms["form"].cleaned_data
        return services.change_personal(
            **common, name=data["name"], ethnicity=data["ethnicity"], political_status=data["political_status"],
            email=data["email"], uploads=forms["form"].valid_uploads(),
        )
    if item == ChangeItem.CONTACT:
        data = forms["form"].cleaned_data
        return services.change_mobile(
            **common, new_mobile=data["mobile"], sms_code=data["sms_code"], password=data["password"]
        )
    if item == ChangeItem.EDUCATION:
        return services.change_education(
            **common, full_time=forms["full_time"].values(), part_time=forms["part_time"].values()
        )
    if item == ChangeItem.PROFESSIONAL:
        formsets = forms["formsets"]
        return services.change_professional(
            **common, certification=forms["certification"].cleaned_data,
            qualifications=formsets["qualifications"].values(), talents=formsets["talents"].values(),
            awards=formsets["awards"].values(),
        )
    data = forms["form"].cleaned_data
    return services.change_work(
        **common, employment_status=data["employment_status"], division=data["division"],
        employer=data.get("employer", ""), school=data.get("school", ""),
        provincial_declaration=data.get("provincial_declaration", False),
        student_card=forms["form"].valid_uploads().get("student_card"),
    )


def _render_edit(request, archive, item, forms, version, **extra) -> HttpResponse:
    context = {"archive": archive, "item": item, "item_label": ChangeItem(item).label, "version": version,
               "save_label": _("保存"),
               "current_mobile": mask_mobile(str(archive.user.mobile or "")), **forms, **extra}
    if "formsets" in context:
        context["formsets"] = labelled_formsets(context["formsets"])
    return render(request, "changes/item_edit.html", context)


@change_allowed
@sensitive_post_parameters("password", "sms_code")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, archive, item: str) -> HttpResponse:
    """变更信息 → the item's fields editable → 保存."""
    if request.method == "GET":
        return _render_edit(request, archive, item, _forms_for(item, archive), archive.version)
    version = _version(request)
    if item == ChangeItem.CONTACT and request.POST.get("action") == "send_code":
        forms = _forms_for(item, archive, request.POST)
        extra = code_sent_context(request, SmsPurpose.CHANGE_PHONE, forms["form"])
        return _render_edit(request, archive, item, forms, version, **extra)
    if item == ChangeItem.PROFESSIONAL and request.POST.get("add") in ("qualifications", "talents", "awards"):
        data = formset_with_extra_row(request.POST, request.POST["add"])
        forms = _forms_for(item, archive, data)
        for formset in forms["formsets"].values():
            formset_without_errors(formset)
        forms["certification"] = unbound_from(data, CertificationForm)
        return _render_edit(request, archive, item, forms, version)
    forms = _forms_for(item, archive, request.POST, request.FILES)
    # A page drawn again cannot refill a file input: say so whenever a chosen image was not kept.
    uploads_lost = any(request.FILES.values())
    if _valid(forms):
        try:
            _save(request, archive, item, forms)
        except services.NothingChanged as exc:
            messages.info(request, exc.message)
            return redirect("changes:item", item=item)
        except services.StaleVersion as exc:
            return _render_edit(request, archive, item, forms, version, stale=exc.message, uploads_lost=uploads_lost)
        except PortalError as exc:
            return _render_edit(request, archive, item, forms, version, error=exc.message, uploads_lost=uploads_lost)
        messages.success(request, _("%(item)s已保存，变更已记入变更记录。") % {"item": ChangeItem(item).label})
        return redirect("changes:item", item=item)
    return _render_edit(request, archive, item, forms, version, uploads_lost=uploads_lost)


@collected_required
@require_GET
def history(request: HttpRequest, archive) -> HttpResponse:
    """变更记录: the person's own change history, newest first."""
    records = ChangeRecord.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(records, 20).get_page(request.GET.get("page"))
    return render(request, "changes/history.html", {"page": page, "archive": archive})
