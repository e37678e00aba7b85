"""Every URL of the URL conf made concrete for the world (tests/security/conftest.py),
and a fingerprint of the database to prove that requests changed nothing."""

from __future__ import annotations

import hashlib

from django.apps import apps
from django.urls import reverse

from tests.security.conftest import Route, World, walk_urlconf
from tests.security.test_object_urls import OBJECT_URLS, PUBLIC_BY_DESIGN, _url

# Arguments for the URLs that are public by design or carry no personal data.
SAMPLE_KWARGS = {
    "verify:certificate": lambda w: {"code": w.certificate_code},
    "admin:app_list": lambda w: {"app_label": "collection"},
    "admin:collection_archive_export": lambda w: {"fmt": "csv"},
    "admin:collection_archive_export_compliance": lambda w: {"year": w.year, "fmt": "csv"},
}

# Rows a request may write whatever its method: the session (saved on every request),
# django-axes' login records, and the staff audit log (reading personal data is audited).
MAY_CHANGE = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog",
              "portal.auditentry"}


def _admin_model_of(key: str):
    """The model behind an allow-listed admin object URL (change/history/delete/bare)."""
    name = key.split(":", 1)[1]
    if name.startswith("admin/"):
        app_label, model_name = name.split("/")[1:3]
    else:
        for suffix in ("_change", "_history", "_delete"):
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
                break
        else:
            return None
        app_label, _sep, model_name = name.partition("_")
        for model in apps.get_models():  # app labels with an underscore (otp_totp)
            meta = model._meta
            if name == f"{meta.app_label}_{meta.model_name}":
                return model
        return None
    return apps.get_model(app_label, model_name)


def concrete_url(route: Route, world: World) -> str:
    """A URL for `route`, with the world's objects for its arguments."""
    if not route.converters:
        if "(?P" in route.route or "^" in route.route:
            return "/" + route.route.replace("^", "").replace("$", "")
        return "/" + route.route
    if route.key in OBJECT_URLS:
        return _url(route.key, OBJECT_URLS[route.key].kwargs(world))
    if route.key in SAMPLE_KWARGS:
        return reverse(route.key, kwargs=SAMPLE_KWARGS[route.key](world))
    if route.key == "admin:admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    assert route.key in PUBLIC_BY_DESIGN, route.key
    model = _admin_model_of(route.key)
    assert model is not None, f"no sample for {route.key}"
    obj = model._base_manager.order_by("pk").first()
    return _url(route.key, {"object_id": obj.pk if obj is not None else 999_999})


def all_urls(world: World) -> list[tuple[Route, str]]:
    return [(route, concrete_url(route, world)) for route in walk_urlconf()]


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table (but MAY_CHANGE), per model."""
    out = {}
    for model in apps.get_models():
        if model._meta.label_lower in MAY_CHANGE or model._meta.proxy:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        out[model._meta.label_lower] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return out


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))
