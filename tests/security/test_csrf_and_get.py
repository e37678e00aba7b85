"""Issue 9 point 3: CSRF on every state change, and no state change on GET.

Every URL of the URL conf is POSTed to without a CSRF token by a logged-in user (the
owner; a staff user of the 省 unit with every permission for the admin): each is refused
with the portal's CSRF page (403), except the signed institution API, which is exempt by
design and answers 401 without a signature. Then every URL is fetched with GET: no row of
any table changes but the ones listed in tests/security/urls.py (MAY_CHANGE).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from tests.security.conftest import logged_in, walk_urlconf
from tests.security.urls import all_urls, changed, fingerprint
from tests.staff.helpers import make_staff

pytestmark = pytest.mark.django_db

# The only views without CSRF protection: the institution API, signed instead (education/api_auth.py),
# and its JSON 404 for unknown paths under /api/v1/ (which does nothing).
CSRF_EXEMPT = {"education_api:learner_token_exchange", "education_api:credit_batch_create",
               "education_api:credit_batch_detail", "education_api:not_found"}


@pytest.fixture
def clients(world):
    """(owner's client, province staff's client), both enforcing CSRF like a browser."""
    province = make_staff("sec-csrf-province", unit="province")
    province.user_permissions.add(*Permission.objects.all())
    owner = logged_in(Client(enforce_csrf_checks=True), world.owner)
    staff = logged_in(Client(enforce_csrf_checks=True), User.objects.get(pk=province.pk))
    return owner, staff


def _client_for(url: str, clients):
    owner, staff = clients
    return staff if url.startswith("/admin/") else owner


def test_exactly_the_signed_api_is_csrf_exempt():
    exempt = {route.key for route in walk_urlconf() if getattr(route.callback, "csrf_exempt", False)}
    assert exempt == CSRF_EXEMPT


def test_a_post_without_the_csrf_token_is_refused_everywhere_and_changes_nothing(world, clients):
    before = fingerprint()
    failures = []
    urls = all_urls(world)
    assert len(urls) > 150
    for route, url in urls:
        response = _client_for(url, clients).post(url, {"confirm": "yes", "post": "yes", "_approve": "1"})
        if route.key in CSRF_EXEMPT:
            if response.status_code not in (401, 404, 405):  # unsigned, unknown, or a GET-only endpoint
                failures.append(f"{route.key} {url}: the API without a signature answered {response.status_code}")
            continue
        templates = [t.name for t in response.templates]
        if response.status_code != 403 or "portal/csrf_failure.html" not in templates:
            failures.append(f"{route.key} {url}: {response.status_code} {templates[:2]} instead of the CSRF 403")
    assert not failures, "\n".join(failures)
    assert changed(before, fingerprint()) == []


def test_the_same_post_with_the_token_gets_past_the_check(world, clients):
    """Control for the test above: the refusal is the missing token, not the request."""
    owner, _staff = clients
    owner.get("/accounts/home/")
    token = owner.cookies["csrftoken"].value
    response = owner.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "_auth_user_id" not in owner.session


def test_no_get_changes_anything(world, clients):
    before = fingerprint()
    statuses = {}
    for route, url in all_urls(world):
        response = _client_for(url, clients).get(url)
        statuses[route.key] = response.status_code
        assert response.status_code < 500, (route.key, url)
    assert changed(before, fingerprint()) == []
    # The GETs did reach the pages (a control against testing only redirects to the login page).
    assert statuses["accounts:home"] == statuses["collection:status"] == statuses["admin:index"] == 200
    assert statuses["admin:collection_archive_change"] == statuses["education:claim_evidence"] == 200
    # A GET never logs anyone out.
    owner, staff = clients
    assert "_auth_user_id" in owner.session and "_auth_user_id" in staff.session
