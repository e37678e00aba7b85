"""Fixtures for 信息变更: an archive collected through the real wizard pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.changes.helpers import collect
from tests.collection import conftest as wizard
from tests.collection.steps import complete_until, url
from tests.factories import AccountFactory

# The wizard's fixtures (code tables, accountants, fast hashing), shared rather than copied.
_fast_password_hashing = wizard._fast_password_hashing
reference_data = wizard.reference_data
accountant = wizard.accountant
passport_holder = wizard.passport_holder
person = wizard.person


@pytest.fixture
def collected(client, person):
    """The logged-in accountant's archive, collected through the wizard (已采集)."""
    return collect(client, person)


@pytest.fixture
def wizard_page(reference_data):
    """A wizard step's page as another person with a draft sees it (to compare fields)."""

    def get(step: str):
        other = Client()
        other.force_login(AccountFactory())
        complete_until(other, step)
        response = other.get(url(step))
        assert response.status_code == 200
        return response

    return get
