"""Shared fixtures.

The suite runs two ways with the same code:
- bare (`make test`): SQLite, no REDIS_URL, Celery tasks inline;
- CI (`.ci/run`): PostgreSQL + Redis, with a real Celery worker process started
  here against the test database. With REQUIRE_SERVICES=1 a missing service is
  a failure, never a skip; REQUIRE_BROWSER=1 does the same for Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import ACCOUNT_PASSWORD, AccountFactory  # noqa: F401  (re-exported for tests)

ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


# With a Celery worker (CI: REDIS_URL) the worker reads uploads too (a transfer out
# carries the archive's images), so it must see the tests' media folder. The worker
# is started later in the session with this process's environment: a MEDIA_ROOT set
# here is the worker's, and every test starts with that folder emptied.
if settings.REDIS_URL and not os.environ.get("PORTAL_TEST_SHARED_MEDIA"):
    import tempfile

    os.environ["PORTAL_TEST_SHARED_MEDIA"] = os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="portal-test-media-")


@pytest.fixture(scope="session", autouse=True)
def _shared_media_removed():
    yield
    shared = os.environ.get("PORTAL_TEST_SHARED_MEDIA")
    if shared:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    """Uploads go to a temporary MEDIA_ROOT (the one shared with the worker when there is one)."""
    shared = os.environ.get("PORTAL_TEST_SHARED_MEDIA") if settings.REDIS_URL else None
    media = Path(shared) if shared else tmp_path / "media"
    media.mkdir(exist_ok=True)
    for child in media.iterdir():
        shutil.rmtree(child, ignore_errors=True)
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": media, "base_url": "/nope/"}},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    """Poll until predicate() is truthy (for work done by the Celery worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def _database_url(settings_dict) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` consuming from Redis against the test database.

    Only when REDIS_URL is set (CI). Without it tasks run inline and this
    yields None. With REQUIRE_SERVICES=1 and no REDIS_URL the run fails.
    """
    if not settings.REDIS_URL:
        if _flag("REQUIRE_SERVICES"):
            pytest.fail("REQUIRE_SERVICES=1 but REDIS_URL is not set")
        yield None
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("a Celery worker needs a shared database: set DATABASE_URL to PostgreSQL with REDIS_URL")
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict)}
    log = open(ROOT / "test-artifacts" / "celery-worker.log", "w") if (ROOT / "test-artifacts").is_dir() else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO",
         "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "-n", f"test-{os.getpid()}@%h", "--without-mingle",
         "--without-gossip", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    from portal.celery import app

    try:
        wait_for(lambda: _worker_answers(app), timeout=60, interval=0.5, message="the Celery worker to start")
    except AssertionError:
        proc.kill()
        pytest.fail("the Celery worker did not start (see test-artifacts/celery-worker.log)")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    if log:
        log.close()


def _worker_answers(app) -> bool:
    try:
        return bool(app.control.ping(timeout=1.0))
    except Exception:
        return False


@pytest.fixture
def tasks_run(celery_worker_process, transactional_db):
    """Tasks really run: inline without Redis, by the worker process with it."""
    return celery_worker_process


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if _flag("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER=1 but Debian's chromium is not installed")
        pytest.skip("chromium not installed (run `make test` as root to install it; CI requires it)")
    return path
