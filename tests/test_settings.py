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
    env = production_env(DEBUG="1", REDIS_URL="redis://127.0.0.1:6399/3")
    shown = show_settings(env)
    assert shown["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert shown["cache_location"] == "redis://127.0.0.1:6399/3"
    assert shown["sessions"] == "django.contrib.sessions.backends.db"  # a Redis outage must not end every page
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
