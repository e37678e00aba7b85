"""The portal's URLs plus two reference views for `bench/pages.py` (never in production).

They measure what any logged-in page costs before it does anything of its own,
under the same settings, middleware and server as the pages:

- `/bench/floor-user`: logged in (session and user loaded), a constant text body;
- `/bench/floor-layout`: the same, rendering the portal's empty layout (`base.html`).
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


@login_required
def floor_user(request):
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain; charset=utf-8")


@login_required
def floor_layout(request):
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/floor-user", floor_user),
    path("bench/floor-layout", floor_layout),
    *portal_urlpatterns,
]
