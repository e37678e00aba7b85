"""Fixtures for the continuing-education tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from collection.reference import reference_data_load
from education import services
from tests.education.helpers import collect, make_institution
from tests.factories import AccountFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference_data(db):
    return reference_data_load()


@pytest.fixture
def this_year() -> int:
    return timezone.localdate().year


@pytest.fixture
def learner(reference_data):
    """An accountant whose archive is 已采集."""
    user = AccountFactory(name="李学员")
    collect(user)
    return user


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def institution(db, this_year):
    return make_institution("GZ001", years=(this_year,), name="贵州会计网校")


@pytest.fixture
def api_key(institution):
    """(key, secret) of the institution's live API key."""
    return services.institution_api_key_issue(institution=institution)
