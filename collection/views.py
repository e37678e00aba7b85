"""信息采集: the wizard's pages, the status page and the owner's uploads.

Each step is its own URL. Progress is in the database (the draft archive), so
the person can continue on another device. 上一步 saves what validates and keeps
the raw input of what does not; a failed step keeps what was typed, and valid
uploads are stored at once.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.errors import PortalError
from portal.http import private_image_response

from . import selectors, services
from .forms import (
    ROW_FORMSETS,
    CertificationForm,
    PersonalForm,
    WorkForm,
    education_forms,
    formset_with_extra_row,
    formset_without_errors,
    labelled_formsets,
    professional_forms,
    unbound_from,
)
from .models import ArchiveStatus
from .services import STEP_LABELS, STEPS


def _step_url(step: str) -> str:
    return f"collection:{step}"


def wizard_step(step: str):
    """Login required; a collected archive goes to 采集状态; steps open in order."""

    def decorator(view):
        @login_required
        @never_cache
        @require_http_methods(["GET", "POST"])
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            archive = selectors.archive_for(user=request.user)
            if archive is not None and archive.status == ArchiveStatus.COLLECTED:
                messages.info(request, _("您已完成信息采集。"))
                return redirect("collection:status")
            if step != "notice" and not services.step_reachable(archive, step):
                messages.warning(request, _("请按顺序完成前面的步骤。"))
                return redirect(_step_url(services.first_open_step(archive)))
            return view(request, archive, *args, **kwargs)

        return wrapper

    return decorator


def _nav_target(request: HttpRequest, step: str) -> str:
    index = STEPS.index(step)
    if request.POST.get("nav") == "prev" and index > 0:
        return _step_url(STEPS[index - 1])
    return _step_url(STEPS[index + 1])


def _draft_data(archive, step: str) -> QueryDict | None:
    raw = (archive.step_drafts or {}).get(step) if archive else None
    if not raw:
        return None
    data = QueryDict(mutable=True)
    for key, values in raw.items():
        data.setlist(key, values)
    return data


def _keep_draft(request: HttpRequest, archive, step: str) -> None:
    # NUL cannot be stored in a JSON column on PostgreSQL (and is never valid input): dropped.
    data = {k.replace("\x00", ""): [v.replace("\x00", "") for v in request.POST.getlist(k)] for k in request.POST}
    services.archive_step_draft_keep(archive=archive, step=step, data=data)


def _render_step(request, archive, step: str, template: str, context: dict) -> HttpResponse:
    steps = [
        {"key": s, "label": STEP_LABELS[s], "done": services.step_done(archive, s), "current": s == step,
         "url": _step_url(s), "reachable": services.step_reachable(archive, s)}
        for s in STEPS
    ]
    has_draft = bool(archive and (archive.step_drafts or {}).get(step)) and request.method == "GET"
    return render(request, template, {**context, "steps": steps, "step": step, "current_label": STEP_LABELS[step],
                                      "archive": archive, "unsaved_draft": has_draft})


def _store_uploads(archive, form) -> None:
    for field, content in form.valid_uploads().items():
        services.archive_upload_replace(archive=archive, field=field, content=content)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """信息采集: continue where the person left off."""
    archive = selectors.archive_for(user=request.user)
    if archive is not None and archive.status == ArchiveStatus.COLLECTED:
        return redirect("collection:status")
    return redirect(_step_url(services.first_open_step(archive)))


@wizard_step("notice")
def notice(request: HttpRequest, archive) -> HttpResponse:
    """第二步：阅读须知, 勾选“承诺填写信息的真实性”, 下一步."""
    error = None
    if request.method == "POST":
        if request.POST.get("promise") == "on":
            services.archive_start(user=request.user)
            return redirect("collection:personal")
        error = _("请阅读采集须知并勾选“承诺填写信息的真实性”。")
    accepted = archive is not None and archive.notice_accepted_at is not None
    return _render_step(request, archive, "notice", "collection/step_notice.html", {"error": error,
                                                                                    "accepted": accepted})


@wizard_step("personal")
def personal(request: HttpRequest, archive) -> HttpResponse:
    """第三步：个人信息 (民族, 政治面貌, 电子邮箱, 证件照, 身份证两面)."""
    initial = {"ethnicity": archive.ethnicity_id, "political_status": archive.political_status_id,
               "email": archive.email}
    if request.method == "POST":
        form = PersonalForm(request.POST, request.FILES, archive=archive, initial=initial)
        valid = form.is_valid()
        _store_uploads(archive, form)
        if valid:
            data = form.cleaned_data
            try:
                services.archive_save_personal(
                    archive=archive, ethnicity=data["ethnicity"], political_status=data["political_status"],
                    email=data["email"], gender=data.get("gender"), birth_date=data.get("birth_date"),
                    nationality=data.get("nationality"),
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(_nav_target(request, "personal"))
        _keep_draft(request, archive, "personal")
        if request.POST.get("nav") == "prev":
            return redirect(_nav_target(request, "personal"))
    else:
        draft = _draft_data(archive, "personal")
        form = PersonalForm(draft, archive=archive, initial=initial) if draft else PersonalForm(
            archive=archive, initial=initial)
    if request.method == "POST":  # show what the services stored (uploads, draft); a GET's archive is fresh
        archive.refresh_from_db()
        archive.user = request.user
    return _render_step(request, archive, "personal", "collection/step_personal.html", {"form": form})


@wizard_step("education")
def education(request: HttpRequest, archive) -> HttpResponse:
    """第四步：学历信息 (全日制教育; 非全日制教育 optional)."""
    if request.method == "POST":
        full_time, part_time = education_forms(archive, request.POST)
        if full_time.is_valid() and part_time.is_valid():
            services.archive_save_education(archive=archive, full_time=full_time.values(),
                                            part_time=part_time.values())
            return redirect(_nav_target(request, "education"))
        _keep_draft(request, archive, "education")
        if request.POST.get("nav") == "prev":
            return redirect(_nav_target(request, "education"))
    else:
        full_time, part_time = education_forms(archive, _draft_data(archive, "education"))
    return _render_step(request, archive, "education", "collection/step_education.html",
                        {"full_time": full_time, "part_time": part_time})


@wizard_step("professional")
def professional(request: HttpRequest, archive) -> HttpResponse:
    """第五步：专业技术信息 (认证, 专业技术资格, 高端会计人才, 奖励信息)."""
    if request.method == "POST":
        data = request.POST
        add = data.get("add")
        if add in ROW_FORMSETS:
            # 新增 without JavaScript: a round trip that adds a row; not a submit, so no errors yet.
            data = formset_with_extra_row(data, add)
            services.archive_step_draft_keep(archive=archive, step="professional",
                                             data={k: data.getlist(k) for k in data})
            _unused, formsets = professional_forms(archive, data)
            for formset in formsets.values():
                formset_without_errors(formset)
            certification = unbound_from(data, CertificationForm)
            return _render_step(request, archive, "professional", "collection/step_professional.html",
                                {"certification": certification, "formsets": labelled_formsets(formsets), "added": add})
        certification, formsets = professional_forms(archive, data)
        if certification.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            services.archive_save_professional(
                archive=archive, certification=certification.cleaned_data,
                qualifications=formsets["qualifications"].values(), talents=formsets["talents"].values(),
                awards=formsets["awards"].values(),
            )
            return redirect(_nav_target(request, "professional"))
        _keep_draft(request, archive, "professional")
        if data.get("nav") == "prev":
            return redirect(_nav_target(request, "professional"))
    else:
        certification, formsets = professional_forms(archive, _draft_data(archive, "professional"))
    return _render_step(request, archive, "professional", "collection/step_professional.html",
                        {"certification": certification, "formsets": labelled_formsets(formsets)})


@wizard_step("work")
def work(request: HttpRequest, archive) -> HttpResponse:
    """第六步：工作信息 (在岗状态, 所属行政区划, 工作单位 / 学校与学生证)."""
    initial = WorkForm.initial_from(archive)
    if request.method == "POST":
        form = WorkForm(request.POST, request.FILES, archive=archive, initial=initial)
        valid = form.is_valid()
        _store_uploads(archive, form)
        if valid:
            data = form.cleaned_data
            try:
                services.archive_save_work(
                    archive=archive, employment_status=data["employment_status"], division=data["division"],
                    employer=data.get("employer", ""), school=data.get("school", ""),
                    provincial_declaration=data.get("provincial_declaration", False),
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(_nav_target(request, "work"))
        _keep_draft(request, archive, "work")
        if request.POST.get("nav") == "prev":
            return redirect(_nav_target(request, "work"))
    else:
        draft = _draft_data(archive, "work")
        form = WorkForm(draft, archive=archive, initial=initial) if draft else WorkForm(archive=archive,
                                                                                       initial=initial)
    if request.method == "POST":  # show what the services stored (uploads, draft); a GET's archive is fresh
        archive.refresh_from_db()
        archive.user = request.user
    return _render_step(request, archive, "work", "collection/step_work.html", {"form": form})


@wizard_step("review")
def review(request: HttpRequest, archive) -> HttpResponse:
    """第七步：提交 — a read-only summary; 提交 generates the archive at once."""
    if request.method == "POST":
        if request.POST.get("nav") == "prev":
            return redirect("collection:work")
        try:
            services.archive_submit(archive=archive)
        except PortalError as exc:
            messages.error(request, exc.message)
            return redirect(_step_url(services.first_open_step(archive)))
        messages.success(request, _("信息采集已提交，系统已生成您的会计人员信息档案。"))
        return redirect("collection:status")
    summary = selectors.archive_summary(archive=archive)
    return _render_step(request, archive, "review", "collection/step_review.html",
                        {"summary": summary, "missing": services.archive_missing(archive)})


@login_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """采集状态: 未采集 / 采集中 / 已采集, with the archive number and time."""
    archive = selectors.archive_for(user=request.user)
    return render(request, "collection/status.html", {
        "archive": archive,
        "status_label": selectors.collection_status_for(user=request.user, archive=archive),
        "next_step": services.first_open_step(archive),
    })


@login_required
@require_GET
def upload(request: HttpRequest, field: str) -> HttpResponse:
    """The owner's own uploaded image; nobody else's can be named in the URL."""
    if field not in services.UPLOAD_FIELDS:
        raise Http404
    archive = selectors.archive_for(user=request.user)
    return private_image_response(getattr(archive, field, None) if archive else None)
