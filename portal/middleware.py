"""Middleware that belongs to no app."""

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
