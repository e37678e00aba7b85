"""The admin: 签发/轮换 API 密钥 shows the secret once; 吊销."""

from __future__ import annotations

import pytest
from django.urls import reverse

from education.api_auth import decrypt_secret
from education.models import InstitutionApiKey
from tests.staff.helpers import otp_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    return otp_login(client, admin_user)  # the admin needs password + TOTP (tests/staff/helpers.py)


def _action(client, action, institution):
    return client.post(reverse("admin:education_institution_changelist"),
                       {"action": action, "_selected_action": [institution.pk]})


def test_issue_shows_the_secret_once_and_rotates(staff_client, institution):
    response = _action(staff_client, "issue_api_key", institution)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = InstitutionApiKey.objects.get(revoked_at__isnull=True)
    secret = decrypt_secret(key.secret_encrypted)
    html = response.content.decode()
    assert key.key_id in html and secret in html
    # the change page lists the key id but never the secret
    page = staff_client.get(reverse("admin:education_institution_change", args=[institution.pk])).content.decode()
    assert key.key_id in page and secret not in page and key.secret_encrypted not in page

    _action(staff_client, "issue_api_key", institution)
    assert InstitutionApiKey.objects.count() == 2
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoke(staff_client, institution, api_key):
    response = _action(staff_client, "revoke_api_key", institution)
    assert response.status_code == 302
    assert not InstitutionApiKey.objects.filter(revoked_at__isnull=True).exists()


def test_institution_changelist_renders(staff_client, institution):
    response = staff_client.get(reverse("admin:education_institution_changelist"))
    assert response.status_code == 200 and "贵州会计网校" in response.content.decode()
