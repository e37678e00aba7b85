"""The institution API (server to server, signed: see api_auth.py)."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from . import credits, selectors, services
from .api_auth import institution_signed, json_error
from .openapi import openapi_document


@institution_signed
def learner_token_exchange(request: HttpRequest) -> JsonResponse:
    """POST {"token": "..."} → the learner of the 点击查看 that produced the token, once."""
    try:
        payload = _json_body(request)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return json_error(400, "malformed_json", _("请求体须为 JSON。"))
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token or len(token) > 200:
        return json_error(400, "token_required", _("请提供 token。"))
    try:
        enrolment = services.launch_token_exchange(institution=request.institution, token=token)
    except services.TokenRefused as refused:
        return json_error(refused.status, refused.code, refused.message)
    user = enrolment.user
    return JsonResponse(
        {"name": user.name, "id_type": user.id_type, "id_number": user.id_number, "year": enrolment.year,
         "enrolment_id": enrolment.pk},
        json_dumps_params={"ensure_ascii": False},
    )


def _json_body(request: HttpRequest):
    """The parsed body; NaN/Infinity refused, floats kept exact as Decimal."""

    def refuse_constant(name):
        raise ValueError(name)

    payload = json.loads(request.body.decode("utf-8"), parse_float=Decimal, parse_constant=refuse_constant)
    if _has_nul(payload):
        # "\u0000" is valid JSON but no database text (PostgreSQL refuses it): malformed for us.
        raise ValueError("NUL character")
    return payload


def _has_nul(payload) -> bool:
    pending = [payload]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


@institution_signed
def credit_batch_create(request: HttpRequest) -> JsonResponse:
    """POST {"records": [...]} → 202 {"batch_id"}; the batch is processed in the background."""
    if len(request.body) > settings.CE_CREDIT_BATCH_MAX_BYTES:
        return json_error(400, "body_too_large", _("请求体不能超过 %(n)d 字节。") % {
            "n": settings.CE_CREDIT_BATCH_MAX_BYTES})
    try:
        payload = _json_body(request)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return json_error(400, "malformed_json", _("请求体须为 JSON。"))
    if not isinstance(payload, dict) or "records" not in payload:
        return json_error(400, "records_required", _("请求体须为含 records 数组的对象。"))
    try:
        batch = credits.credit_batch_receive(institution=request.institution, records=payload["records"])
    except credits.BatchInvalid as invalid:
        return json_error(400, invalid.code, invalid.message)
    response = JsonResponse(
        {"batch_id": batch.pk, "status": batch.status, "record_count": batch.record_count,
         "status_url": reverse("education_api:credit_batch_detail", args=[batch.pk])},
        status=202, json_dumps_params={"ensure_ascii": False},
    )
    response["Location"] = reverse("education_api:credit_batch_detail", args=[batch.pk])
    return response


@institution_signed(methods=("GET",))
def credit_batch_detail(request: HttpRequest, batch_id: int) -> JsonResponse:
    """GET → the batch's status and each record's outcome; only for the institution that posted it."""
    batch = selectors.credit_batch_of(institution=request.institution, batch_id=batch_id)
    if batch is None:
        return json_error(404, "batch_not_found", _("批次不存在。"))
    return JsonResponse(credits.credit_batch_report(batch=batch), json_dumps_params={"ensure_ascii": False})


@never_cache
@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    """The institution API described as an OpenAPI 3 document."""
    return JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /api/v1/: the API's JSON error, not the site's HTML page."""
    return json_error(404, "not_found", _("接口不存在。"))
