"""继续教育 pages: the menu, 专业课学习, 远程教育 (year query, 报名), 点击查看,
继续教育记录查询 (yearly totals, 查看明细), 学分确认申请 (我要申请, 我的申请历史,
撤回, the evidence image)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collection import access
from portal.errors import PortalError
from portal.http import private_image_response

from . import claims, selectors, services
from .forms import ClaimForm, EnrolForm, YearForm
from .models import CreditClaim

collected_required = access.collected_required("education/not_collected.html")
# Pages that start business: refused with the reason after 已调出 (or, for claims, while a transfer out is open).
claim_allowed = access.collected_required("education/not_collected.html", business="claim")


@collected_required
@require_GET
def menu(request: HttpRequest) -> HttpResponse:
    """继续教育: 专业课学习, 学分确认申请, 继续教育记录查询."""
    return render(request, "education/menu.html")


@collected_required
@require_GET
def professional(request: HttpRequest) -> HttpResponse:
    """专业课学习: 远程教育."""
    return render(request, "education/professional.html")


def _remote_url(year: int) -> str:
    return f"{reverse('education:remote')}?{urlencode({'year': year})}"


@collected_required
@require_GET
def remote(request: HttpRequest) -> HttpResponse:
    """远程教育: choose 年度, 查询, the institutions filed for it with 报名 / 点击查看."""
    form = YearForm(request.GET or None, initial={"year": selectors.current_year()})
    year = form.cleaned_data["year"] if form.is_valid() else selectors.current_year()
    institutions = list(selectors.institutions_for_year(year=year, user=request.user))
    return render(request, "education/remote.html", {
        "form": form, "year": year, "institutions": institutions, "queried": form.is_bound,
    })


@collected_required
@require_POST
def enrol(request: HttpRequest) -> HttpResponse:
    """报名 for an institution and year; a second 报名 says 已报名."""
    form = EnrolForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择要报名的机构和年度。"))
        return redirect("education:remote")
    year = form.cleaned_data["year"]
    institution = form.cleaned_data["institution"]
    try:
        services.enrolment_create(user=request.user, institution=institution, year=year)
    except services.AlreadyEnrolled:
        messages.info(request, _("已报名：%(name)s（%(year)s年度），点击“点击查看”进入学习平台。")
                      % {"name": institution.name, "year": year})
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("报名成功：%(name)s（%(year)s年度），点击“点击查看”进入学习平台。")
                         % {"name": institution.name, "year": year})
    return redirect(_remote_url(year))


def _with_token(platform_url: str, token: str) -> str:
    parts = urlsplit(platform_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token))
    return urlunsplit(parts._replace(query=urlencode(query)))


@collected_required
@require_POST
def launch(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """点击查看: a one-time token, then off to the institution's platform."""
    enrolment = selectors.enrolment_of(user=request.user, enrolment_id=enrolment_id)
    if enrolment is None:
        raise Http404
    try:
        token = services.launch_token_issue(enrolment=enrolment)
    except PortalError as error:
        messages.error(request, error.message)
        return redirect(_remote_url(enrolment.year))
    response = HttpResponseRedirect(_with_token(enrolment.institution.platform_url, token))
    # The token must not leak onward through the Referer of the platform's own links.
    response["Referrer-Policy"] = "no-referrer"
    return response


@collected_required
@require_GET
def credits(request: HttpRequest) -> HttpResponse:
    """继续教育记录查询: choose 年度, 查询, the year's totals against the requirement."""
    form = YearForm(request.GET or None, initial={"year": selectors.current_year()})
    year = form.cleaned_data["year"] if form.is_valid() else selectors.current_year()
    return render(request, "education/credits.html", {
        "form": form, "year": year, "summary": selectors.year_credits(user=request.user, year=year),
    })


@collected_required
@require_GET
def credit_detail(request: HttpRequest) -> HttpResponse:
    """查看明细: every credit record of the year."""
    form = YearForm(request.GET or None)
    year = form.cleaned_data["year"] if form.is_valid() else selectors.current_year()
    records = list(selectors.credit_records_of(user=request.user, year=year))
    return render(request, "education/credit_detail.html", {"year": year, "records": records})


# --- 打印继续教育证明 and its public verification ------------------------------------------


@collected_required
@require_GET
def certificate(request: HttpRequest) -> HttpResponse:
    """打印继续教育证明: the logged-in person's own certificate of a 达标 year (?year=)."""
    from . import certificates  # imported here: the head of this module is shared with other features

    form = YearForm(request.GET or None)
    year = form.cleaned_data["year"] if form.is_valid() else None
    cert = certificates.certificate_for(user=request.user, year=year) if year is not None else None
    if cert is None:
        return render(request, "education/certificate.html", {"year": year, "certificate": None}, status=404)
    verify_url = request.build_absolute_uri(reverse("verify:certificate", args=[cert.code]))
    return render(request, "education/certificate.html", {
        "year": year, "certificate": cert, "verify_url": verify_url,
        "qr_svg": certificates.qr_svg(verify_url),
    })


@never_cache
@require_GET
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public (no login): confirms a certificate's masked name, year, credits and 达标 today."""
    from . import certificates

    verification = certificates.certificate_verify(code=code)
    response = render(request, "education/verify.html", {"verification": verification},
                      status=200 if verification is not None else 404)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- 学分确认申请 -------------------------------------------------------------------------


def evidence_response(claim) -> HttpResponse:
    """The stored evidence JPEG (see portal.http.private_image_response)."""
    return private_image_response(claim.evidence)


@claim_allowed
@require_http_methods(["GET", "POST"])
def claim_create(request: HttpRequest) -> HttpResponse:
    """我要申请: the form shows the credits each activity gives before 提交申请."""
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                claims.credit_claim_create(user=request.user, year=data["year"], activity=data["activity"],
                                           days=data["days"], details=data["details"], evidence=data["evidence"])
            except PortalError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("申请已提交，等待审核。"))
                return redirect("education:claim_list")
    else:
        form = ClaimForm(initial={"year": selectors.current_year()})
    return render(request, "education/claim_create.html", {"form": form})


@collected_required
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """我的申请历史: status, credits, the reviewer's reason, 撤回 while 待审核."""
    return render(request, "education/claim_list.html", {"claims": list(claims.claims_of(user=request.user))})


@collected_required
@require_POST
def claim_withdraw(request: HttpRequest, claim_id: int) -> HttpResponse:
    """撤回 a 待审核 claim (one's own; anyone else's is 404)."""
    if claims.claim_of(user=request.user, claim_id=claim_id) is None:
        raise Http404
    try:
        claims.credit_claim_withdraw(user=request.user, claim_id=claim_id)
    except CreditClaim.DoesNotExist:
        raise Http404 from None
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("education:claim_list")


@collected_required
@require_GET
def claim_evidence(request: HttpRequest, claim_id: int) -> HttpResponse:
    """The owner's own evidence image; staff see it through the admin."""
    claim = claims.claim_of(user=request.user, claim_id=claim_id)
    if claim is None:
        raise Http404
    return evidence_response(claim)
