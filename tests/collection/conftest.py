"""Fixtures for the information-collection tests.

The code tables are loaded per test through the real loader: transactional
tests flush every table, so a session-wide load would not survive them.
"""

from __future__ import annotations

import pytest

from accounts.identity import IdType
from collection.reference import reference_data_load
from tests.collection.steps import unique_digits
from tests.factories import AccountFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 costs about a second per account; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference_data(db):
    """The code tables, loaded as `manage.py load_reference_data` does."""
    return reference_data_load()


@pytest.fixture
def accountant(db):
    """A 居民身份证 holder: gender and birth date come from the ID number."""
    return AccountFactory()


@pytest.fixture
def passport_holder(db):
    """A 护照 holder: gender, birth date and nationality are entered once in 个人信息."""
    return AccountFactory(id_type=IdType.PASSPORT, id_number=f"E{unique_digits(8)}")


@pytest.fixture
def person(client, reference_data, accountant):
    """The accountant, logged in on `client`, with the code tables loaded."""
    client.force_login(accountant)
    return accountant
