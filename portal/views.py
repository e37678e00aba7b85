"""Pages that belong to no app: the public home page and `ping`."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The portal's front page with its entries (信息采集, 继续教育, 跨省调转)."""
    return render(request, "portal/home.html")


def ping(request: HttpRequest) -> HttpResponse:
    """A constant answer through the whole middleware stack (load balancers; the benchmark's baseline).

    Unlike /healthz it touches no database, so it measures the server and Django alone."""
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "portal/csrf_failure.html", status=403)
