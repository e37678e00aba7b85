"""Settings come from the environment: production checks, required secrets, the
Redis switch, and the health check that load balancers call by IP."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent

# Everything settings.py reads; cleared so the parent's test environment leaks nothing.
SETTINGS_ENV = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests' process only
    "DEBUG",
    "SECRET_KEY",
    "ID_ENCRYPTION_KEYS",
    "ID_HASH_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "TRUSTED_PROXY_COUNT",
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "CELERY_QUEUE",
    "HTTPS",
    "HSTS_SECONDS",
    "STATIC_MANIFEST",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "LOG_LEVEL",
    "SMS_BACKEND",
    "SESSION_IDLE_MINUTES",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
    "CSP_REPORT_URI",
    "DJANGO_SETTINGS_MODULE",
)


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ID_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ID_HASH_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="portal.example.gov.cn",
        PYTHONWARNINGS="default",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
from portal.celery import app
print(json.dumps({
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "sessions": settings.SESSION_ENGINE,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
}))
"""


def show_settings(env: dict[str, str]) -> dict:
    result = run(["-c", SHOW_SETTINGS], {**env, "DJANGO_SETTINGS_MODULE": "portal.settings"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_deploy_check_passes_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output.upper()


def test_deploy_check_fails_on_an_insecure_production_setting():
    # Control for the test above: the check does look at the security settings.
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(HTTPS="0"))
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr  # SECURE_SSL_REDIRECT


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ID_ENCRYPTION_KEYS", "ID_HASH_KEY"])
def test_production_refuses_to_start_without_its_secrets(missing):
    result = run(["manage.py", "check"], production_env(**{missing: None}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


def test_redis_url_switches_cache_and_celery_to_redis_sessions_stay_in_the_database():
    """Sessions are stored in the database and only read through Redis (portal.sessions):
    a Redis outage falls back to the database (tests/test_sessions.py, tests/faults)."""
    env = production_env(DEBUG="1", REDIS_URL="redis://127.0.0.1:6399/3")
    shown = show_settings(env)
    assert shown["cache"] == "portal.cache.RedisCache"  # Django's, one client per pool (tests/test_cache.py)
    assert shown["cache_location"] == "redis://127.0.0.1:6399/3"
    assert shown["sessions"] == "portal.sessions"  # a Redis outage must not end every page
    assert shown["eager"] is False
    assert shown["celery_eager"] is False
    assert shown["broker"] == "redis://127.0.0.1:6399/3"


def test_without_redis_everything_runs_in_process():
    shown = show_settings(production_env(DEBUG="1", REDIS_URL=None))
    assert shown["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["sessions"] == "django.contrib.sessions.backends.db"
    assert shown["eager"] is True
    assert shown["celery_eager"] is True


@pytest.mark.django_db
def test_healthz_answers_ok_for_any_host_name(settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production: plain HTTP is redirected ...
    client = Client()
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert client.get("/healthz", HTTP_HOST="not-allowed.example").content == b"ok"
    # ... while every other page checks the host and redirects to HTTPS.
    assert client.get("/", HTTP_HOST="not-allowed.example").status_code == 400
    assert client.get("/", HTTP_HOST="testserver").status_code == 301


PRODUCTION_REQUESTS = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.test import Client
from accounts.services import account_create
from tests.factories import make_id_number
number = make_id_number()
account_create(name="生产", id_type="resident_id_card", id_number=number, password="Kj#Prod2026pass",
               mobile="+8613900000999")
client = Client(HTTP_HOST="portal.example.gov.cn")
plain = client.get("/accounts/login/")
page = client.get("/accounts/login/", secure=True)
token = page.cookies["csrftoken"].value
login = client.post("/accounts/login/", {"id_number": number, "password": "Kj#Prod2026pass",
                                         "csrfmiddlewaretoken": token}, secure=True, HTTP_REFERER="https://portal.example.gov.cn/accounts/login/")
def cookie(c):
    return {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]), "samesite": c["samesite"]}
print(json.dumps({
    "plain_status": plain.status_code, "plain_location": plain.get("Location"),
    "status": page.status_code, "login_status": login.status_code,
    "headers": {k: page.get(k) for k in ("Strict-Transport-Security", "Content-Security-Policy",
                                         "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")},
    "csrf_cookie": cookie(page.cookies["csrftoken"]),
    "session_cookie": cookie(login.cookies["sessionid"]),
}))
"""


def test_production_sends_hsts_csp_and_secure_cookies(tmp_path):
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}", STATIC_MANIFEST="0",
                         DJANGO_SETTINGS_MODULE="portal.settings")
    result = run(["-c", PRODUCTION_REQUESTS], env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    # Plain HTTP is redirected to HTTPS before anything else.
    assert shown["plain_status"] == 301 and shown["plain_location"].startswith("https://")
    assert shown["status"] == 200 and shown["login_status"] == 302
    headers = shown["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    for name in ("csrf_cookie", "session_cookie"):
        assert shown[name] == {"secure": True, "httponly": True, "samesite": "Lax"}, name


def test_csp_report_uri_comes_from_the_environment():
    script = ("import django; django.setup(); from django.conf import settings; "
              "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-uri'))")
    shown = run(["-c", script], production_env(CSP_REPORT_URI="https://csp.example.gov.cn/report",
                                                DJANGO_SETTINGS_MODULE="portal.settings"))
    assert shown.stdout.strip() == "['https://csp.example.gov.cn/report']", shown.stderr
    unset = run(["-c", script], production_env(DJANGO_SETTINGS_MODULE="portal.settings"))
    assert unset.stdout.strip() == "None", unset.stderr
