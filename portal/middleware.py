"""Middleware that belongs to no app."""

import time

from django.db import connection
from django.http import HttpResponse, JsonResponse


class HealthCheckMiddleware:
    """Answers /healthz before host, HTTPS and session handling, for load
    balancers and container health checks that call by IP over plain HTTP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except Exception:
                return JsonResponse({"status": "database unavailable"}, status=503)
            return HttpResponse("ok", content_type="text/plain")
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuse bodies over MAX_REQUEST_BYTES before Django reads them (413).

    Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams files to
    disk whatever their size; the reverse proxy should enforce the same limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.shortcuts import render

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            limit_mb = settings.MAX_REQUEST_BYTES // (1024 * 1024)
            if request.path.startswith("/api/"):
                # The institution API answers every error in JSON (400, as its document says).
                message = f"请求体过大（上限 {limit_mb} MB）。"
                return JsonResponse({"error": {"code": "body_too_large", "message": message}}, status=400)
            return render(request, "portal/request_too_large.html", {"limit_mb": limit_mb}, status=413)
        return self.get_response(request)


class SessionRenewMiddleware:
    """Sliding idle timeout without a session write on every page view.

    SESSION_SAVE_EVERY_REQUEST would UPDATE and commit the session row on every
    request. Instead, a session in use is marked modified at most once per
    SESSION_RENEW_SECONDS, which saves it (new expiry on the server and in the
    cookie): a person idle for SESSION_COOKIE_AGE is logged out, give or take
    SESSION_RENEW_SECONDS. Goes right after SessionMiddleware.
    """

    KEY = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or getattr(session, "_session_cache", None) is None:
            return response  # no session, or one this request never loaded
        from django.conf import settings

        now = int(time.time())
        if now - int(session.get(self.KEY, 0)) >= settings.SESSION_RENEW_SECONDS:
            session[self.KEY] = now
        return response
