"""Issue 9 point 4: security headers on every response, and pages a strict CSP can hold.

Every URL of the URL conf is fetched (HTML pages, the JSON API, file downloads, the admin),
plus the error answers (CSRF 403, 404, 413, the API's 401): each carries nosniff, a
Referrer-Policy, X-Frame-Options DENY and a Content-Security-Policy whose scripts come
from this site only, with frame-ancestors 'none'. Every HTML page is also read for what
the policy would block: inline <script>, on* handler attributes, javascript: URLs, inline
styles. HSTS and the cookie flags are production settings: tests/test_settings.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from tests.security.conftest import logged_in
from tests.security.urls import all_urls
from tests.staff.helpers import make_staff

pytestmark = pytest.mark.django_db

REFERRER_POLICIES = {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}
# The one <style> block allowed (by its hash in settings.CONTENT_SECURITY_POLICY): Django's admin
# change list for a model admin without actions.
ADMIN_CHANGELIST_STYLE = "\n      #changelist table thead th:first-child {width: inherit}\n    "

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.I)
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.I | re.S)


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def header_problems(response) -> list[str]:
    problems = []
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if response.get("Referrer-Policy") not in REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {response.get('Referrer-Policy')!r}")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {response.get('X-Frame-Options')!r}")
    policy = directives(response.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts != ["'self'"]:
        problems.append(f"script-src {scripts!r}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {policy.get('frame-ancestors')!r}")
    if "'unsafe-inline'" in policy.get("style-src", []):
        problems.append("style-src allows 'unsafe-inline'")
    return problems


def page_problems(html: str) -> list[str]:
    problems = []
    for name, pattern in (("inline <script>", INLINE_SCRIPT), ("on* handler attribute", HANDLER),
                          ("javascript: URL", JS_URL), ("style= attribute", STYLE_ATTR)):
        found = pattern.search(html)
        if found:
            problems.append(f"{name}: {found.group(0)[:80]!r}")
    for block in STYLE_BLOCK.findall(html):
        if block != ADMIN_CHANGELIST_STYLE:
            problems.append(f"<style> block not in the policy: {block[:60]!r}")
    return problems


@pytest.fixture
def clients(world):
    province = make_staff("sec-headers-province", unit="province")
    province.user_permissions.add(*Permission.objects.all())
    return logged_in(Client(), world.owner), logged_in(Client(), User.objects.get(pk=province.pk))


def test_every_response_has_the_security_headers_and_every_page_holds_under_the_csp(world, clients):
    owner, staff = clients
    failures, kinds = [], set()
    responses = []
    for route, url in all_urls(world):
        client = staff if url.startswith("/admin/") else owner
        responses.append((route.key, url, client.get(url)))
    # The error answers, and pages seen by someone logged out.
    responses += [
        ("csrf", "/accounts/logout/", Client(enforce_csrf_checks=True).post("/accounts/logout/")),
        ("404", "/no-such-page/", Client().get("/no-such-page/")),
        ("api 401", "/api/v1/credit-batches", Client().post("/api/v1/credit-batches", {})),
        ("login page", "/accounts/login/", Client().get("/accounts/login/")),
        ("admin login", "/admin/login/", Client().get("/admin/login/")),
    ]
    for key, url, response in responses:
        content_type = response.get("Content-Type", "").split(";")[0]
        kinds.add(content_type)
        problems = header_problems(response)
        if content_type == "text/html" and not response.streaming:
            problems += page_problems(response.content.decode())
        if problems:
            failures.append(f"{key} {url} ({response.status_code}): " + "; ".join(problems))
    assert not failures, "\n".join(failures)
    # HTML pages, JSON, images (uploads and evidence), and exports were all among them.
    assert {"text/html", "application/json", "image/jpeg", "text/csv"} <= kinds, kinds


def test_the_413_answer_has_the_headers_too(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    for path in ("/accounts/login/", "/api/v1/credit-batches"):
        response = client.post(path, data="x" * 2000, content_type="application/octet-stream")
        assert response.status_code in (400, 413)
        assert header_problems(response) == [], path


def test_the_checks_do_find_what_a_strict_csp_would_block():
    """Control: the page checks above are not vacuous."""
    assert page_problems('<script>alert(1)</script>')
    assert page_problems('<a href="#" onclick="go()">x</a>')
    assert page_problems('<a href="javascript:go()">x</a>')
    assert page_problems('<div style="color:red">x</div>')
    assert page_problems("<style>p{}</style>")
    assert not page_problems('<script src="/static/js/sms.js" defer></script><p class="on">x</p>')
    assert not page_problems(f"<style>{ADMIN_CHANGELIST_STYLE}</style>")


def test_the_allowed_style_block_is_allowed_by_its_hash(settings):
    digest = base64.b64encode(hashlib.sha256(ADMIN_CHANGELIST_STYLE.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    # ... and Django's template still renders exactly that block.
    template = Path(admin.__file__).parent / "templates" / "admin" / "change_list.html"
    assert f"<style>{ADMIN_CHANGELIST_STYLE}</style>" in template.read_text()
