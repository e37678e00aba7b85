"""Fixtures for the 跨省调转 tests: collected accountants, fast hashing, no SMS resend wait."""

from __future__ import annotations

import pytest
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
