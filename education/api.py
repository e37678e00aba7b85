"""The institution API (server to server, signed: see api_auth.py)."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from . import services
from .api_auth import institution_signed, json_error


@institution_signed
def learner_token_exchange(request: HttpRequest) -> JsonResponse:
    """POST {"token": "..."} → the learner of the 点击查看 that produced the token, once."""
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
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
