"""Fixtures for the 跨省调转 tests: collected accountants, fast hashing, no SMS resend wait."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from collection.reference import reference_data_load
from tests.education.helpers import collect
from tests.factories import AccountFactory


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


@pytest.fixture(autouse=True)
def _worker_done_before_flush(request):
    """A transactional test ends with the tables truncated; a transfer submission still
    running in the Celery worker (CI) would deadlock with that TRUNCATE. Wait (briefly)
    for the worker to finish the submissions the test queued."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if not (django_settings.REDIS_URL and marker and marker.kwargs.get("transaction")):
        return
    import time

    from transfers.models import TransferOut, TransferStatus

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and TransferOut.objects.filter(
        status=TransferStatus.SUBMITTED, platform_ref__isnull=True, sync_error=""
    ).exists():
        time.sleep(0.2)
    time.sleep(0.3)  # the task's own commit and release of its locks
