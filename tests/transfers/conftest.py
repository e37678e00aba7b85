"""Fixtures for the 跨省调转 tests: collected accountants, fast hashing, no SMS resend wait."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from collection.reference import reference_data_load
from tests.education.helpers import collect
from tests.factories import AccountFactory

# With a Celery worker (CI: REDIS_URL), the worker reads uploads too (a transfer out
# carries the archive's images): it must see the same media folder as the tests. The
# worker is started later in the session with this process's environment, so a
# MEDIA_ROOT set here (at collection) is the worker's; each test below starts it empty.
if django_settings.REDIS_URL and not os.environ.get("PORTAL_TEST_SHARED_MEDIA"):
    os.environ["PORTAL_TEST_SHARED_MEDIA"] = os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="portal-test-media-")


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    """Uploads go to a temporary MEDIA_ROOT (shared with the worker when there is one)."""
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
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_resend_wait(settings):
    settings.SMS_RESEND_SECONDS = 0
    settings.SMS_HOURLY_LIMIT_PER_IP = 1000
    settings.NATIONAL_PLATFORM_BACKEND = "local"


@pytest.fixture
def reference_data(db):
    return reference_data_load()


@pytest.fixture
def this_year() -> int:
    return timezone.localdate().year


@pytest.fixture
def accountant(reference_data):
    """An accountant whose archive is 已采集 (with credits: none)."""
    user = AccountFactory(name="张调出")
    collect(user)
    return user


@pytest.fixture
def accountant_client(client, accountant):
    client.force_login(accountant)
    return client


@pytest.fixture
def other_accountant(reference_data):
    user = AccountFactory(name="王另一")
    collect(user)
    return user


@pytest.fixture(scope="session", autouse=True)
def _shared_media_removed():
    yield
    shared = os.environ.get("PORTAL_TEST_SHARED_MEDIA")
    if shared:
        shutil.rmtree(shared, ignore_errors=True)
