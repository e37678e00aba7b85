"""The institution API's authentication, in one place.

Every request is signed with the institution's API secret:

    X-Institution-Key: <key id>
    X-Timestamp:       <Unix seconds>
    X-Signature:       hex(HMAC-SHA256(secret, "{timestamp}.{raw body}"))

A missing header, an unknown or revoked key, a timestamp more than
settings.CE_API_CLOCK_SKEW_SECONDS away from now, or a wrong signature is a 401
with a JSON error; nothing is read from the body or stored before it passes.

Secrets are stored encrypted with MultiFernet over settings.CE_API_SECRET_KEYS
(defaults to ID_ENCRYPTION_KEYS): the first key encrypts, all of them decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from portal import crypto

from .models import InstitutionApiKey

KEY_HEADER = "HTTP_X_INSTITUTION_KEY"
TIMESTAMP_HEADER = "HTTP_X_TIMESTAMP"
SIGNATURE_HEADER = "HTTP_X_SIGNATURE"


# --- secrets at rest -----------------------------------------------------------------


def encrypt_secret(secret: str) -> str:
    return crypto.encrypt(settings.CE_API_SECRET_KEYS, secret)


def decrypt_secret(token: str) -> str:
    return crypto.decrypt(settings.CE_API_SECRET_KEYS, token)


# --- signing -------------------------------------------------------------------------


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The X-Signature of a request: what an institution computes, and we check."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def json_error(status: int, code: str, message: str) -> JsonResponse:
    """Every API error has the same shape: {"error": {"code", "message"}}."""
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = 'HMAC realm="institution-api"'
    return response


def _unauthorized(code: str, message: str) -> JsonResponse:
    return json_error(401, code, message)


def _verify(request: HttpRequest) -> InstitutionApiKey | JsonResponse:
    key_id = request.META.get(KEY_HEADER, "").strip()
    timestamp = request.META.get(TIMESTAMP_HEADER, "").strip()
    signature = request.META.get(SIGNATURE_HEADER, "").strip().lower()
    if not key_id or not timestamp or not signature:
        return _unauthorized("missing_headers", _("缺少签名请求头（X-Institution-Key、X-Timestamp、X-Signature）。"))
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return _unauthorized("bad_timestamp", _("X-Timestamp 须为 Unix 时间戳（秒）。"))
    if abs(time.time() - int(timestamp)) > settings.CE_API_CLOCK_SKEW_SECONDS:
        return _unauthorized("timestamp_out_of_range", _("请求时间与服务器时间相差过大，请校准时钟。"))
    api_key = (
        InstitutionApiKey.objects.select_related("institution")
        .filter(key_id=key_id, revoked_at__isnull=True, institution__is_active=True)
        .first()
    )
    if api_key is None:
        return _unauthorized("unknown_key", _("API 密钥不存在或已被吊销。"))
    try:
        body = request.body
    except RequestDataTooBig:
        return json_error(400, "body_too_large", _("请求体过大。"))
    expected = sign(decrypt_secret(api_key.secret_encrypted), timestamp, body)
    if not hmac.compare_digest(expected, signature):
        return _unauthorized("bad_signature", _("签名校验失败。"))
    return api_key


def institution_signed(view=None, *, methods: tuple[str, ...] = ("POST",)):
    """An institution API view: only `methods` (POST by default), signature checked,
    JSON errors only. A GET is signed over an empty body.

    The view receives the authenticated institution as `request.institution`.
    Cookies play no part, so the view is exempt from CSRF.
    """

    def decorate(view):
        @csrf_exempt
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = json_error(405, "method_not_allowed",
                                      _("只接受 %(methods)s 请求。") % {"methods": "/".join(methods)})
                response["Allow"] = ", ".join(methods)
                return response
            result = _verify(request)
            if isinstance(result, JsonResponse):
                return result
            request.institution = result.institution
            request.api_key = result
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
