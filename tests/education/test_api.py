"""POST /api/v1/learner-tokens/exchange: signed requests, one-time tokens."""

from __future__ import annotations

import datetime as dt
import json
import time
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from education import services
from education.api_auth import decrypt_secret
from education.models import InstitutionApiKey, LaunchToken
from tests.education.helpers import EXCHANGE_URL, exchange, make_institution, signed_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolment(learner, institution, this_year):
    return services.enrolment_create(user=learner, institution=institution, year=this_year)


@pytest.fixture
def token(enrolment):
    return services.launch_token_issue(enrolment=enrolment)


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()["error"]
    assert body["code"] == code and body["message"]


def _ok(client, api_key, token, **kwargs):
    key, secret = api_key
    return exchange(client, key_id=key.key_id, secret=secret, token=token, **kwargs)


# --- the exchange ----------------------------------------------------------------------


def test_valid_token_gives_the_learner(client, api_key, token, learner, enrolment, this_year):
    response = _ok(client, api_key, token)
    assert response.status_code == 200, response.content
    assert response.json() == {"name": "李学员", "id_type": "resident_id_card", "id_number": learner.plain_id_number,
                               "year": this_year, "enrolment_id": enrolment.pk}
    assert LaunchToken.objects.get().used_at is not None


def test_replayed_token_is_refused(client, api_key, token):
    assert _ok(client, api_key, token).status_code == 200
    _error(_ok(client, api_key, token), 409, "token_used")


def test_expired_token_is_refused(client, api_key, token, settings):
    later = timezone.now() + dt.timedelta(seconds=settings.CE_LAUNCH_TOKEN_TTL_SECONDS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        _error(_ok(client, api_key, token), 410, "token_expired")
    assert LaunchToken.objects.get().used_at is None


def test_token_just_before_expiry_works(client, api_key, token, settings):
    later = timezone.now() + dt.timedelta(seconds=settings.CE_LAUNCH_TOKEN_TTL_SECONDS - 5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert _ok(client, api_key, token).status_code == 200


def test_unknown_token_is_refused(client, api_key, token):
    _error(_ok(client, api_key, token + "x"), 404, "token_invalid")


def test_another_institutions_token_is_refused_and_not_consumed(client, api_key, token, this_year):
    other = make_institution("OTHER", years=(this_year,))
    other_key, other_secret = services.institution_api_key_issue(institution=other)
    _error(exchange(client, key_id=other_key.key_id, secret=other_secret, token=token), 404, "token_invalid")
    assert LaunchToken.objects.get().used_at is None
    assert _ok(client, api_key, token).status_code == 200


def test_the_mark_as_used_is_one_conditional_update(api_key, token, institution):
    """Single use holds under concurrency: the UPDATE itself requires used_at IS NULL."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.launch_token_exchange(institution=institution, token=token)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1
    assert '"used_at" IS NULL' in updates[0] and '"expires_at" >' in updates[0]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"token": 5}', b"{}", b""])
def test_malformed_body_is_a_json_400(client, api_key, token, body):
    response = _ok(client, api_key, token, body=body)
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] in {"malformed_json", "token_required"}
    assert LaunchToken.objects.get().used_at is None


def test_get_is_a_json_405(client, api_key):
    response = client.get(EXCHANGE_URL)
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_no_csrf_token_is_needed(api_key, token):
    from django.test import Client

    response = _ok(Client(enforce_csrf_checks=True), api_key, token)
    assert response.status_code == 200


# --- the signature ---------------------------------------------------------------------


@pytest.mark.parametrize("drop", ["HTTP_X_INSTITUTION_KEY", "HTTP_X_TIMESTAMP", "HTTP_X_SIGNATURE"])
def test_missing_header_is_401(client, api_key, token, drop):
    key, secret = api_key
    body = json.dumps({"token": token}).encode()
    headers = signed_headers(key_id=key.key_id, secret=secret, body=body)
    del headers[drop]
    _error(exchange(client, key_id="", secret="", token=token, body=body, headers=headers), 401, "missing_headers")
    assert LaunchToken.objects.get().used_at is None


def test_wrong_secret_is_401(client, api_key, token):
    key, _secret = api_key
    _error(exchange(client, key_id=key.key_id, secret="not-the-secret", token=token), 401, "bad_signature")
    assert LaunchToken.objects.get().used_at is None


def test_tampered_body_is_401(client, api_key, token):
    key, secret = api_key
    signed_body = json.dumps({"token": token}).encode()
    headers = signed_headers(key_id=key.key_id, secret=secret, body=signed_body)
    other_body = json.dumps({"token": token, "x": 1}).encode()
    _error(exchange(client, key_id="", secret="", token=token, body=other_body, headers=headers), 401,
           "bad_signature")
    assert LaunchToken.objects.get().used_at is None


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_timestamp_more_than_300s_off_is_401(client, api_key, token, offset):
    _error(_ok(client, api_key, token, timestamp=int(time.time()) + offset), 401, "timestamp_out_of_range")
    assert LaunchToken.objects.get().used_at is None


@pytest.mark.parametrize("offset", [-299, 299])
def test_timestamp_299s_off_is_accepted(client, api_key, token, offset):
    assert _ok(client, api_key, token, timestamp=int(time.time()) + offset).status_code == 200


def test_non_numeric_timestamp_is_401(client, api_key, token):
    key, secret = api_key
    body = json.dumps({"token": token}).encode()
    headers = signed_headers(key_id=key.key_id, secret=secret, body=body)
    headers["HTTP_X_TIMESTAMP"] = "2026-01-01T00:00:00"
    _error(exchange(client, key_id="", secret="", token=token, body=body, headers=headers), 401, "bad_timestamp")


def test_unknown_key_is_401(client, api_key, token):
    _key, secret = api_key
    _error(exchange(client, key_id="ce_unknown", secret=secret, token=token), 401, "unknown_key")


def test_revoked_key_is_401(client, api_key, token, institution):
    assert services.institution_api_key_revoke(institution=institution) == 1
    _error(_ok(client, api_key, token), 401, "unknown_key")
    assert LaunchToken.objects.get().used_at is None


def test_inactive_institution_key_is_401(client, api_key, token, institution):
    services.institution_save(code=institution.code, name=institution.name, platform_url=institution.platform_url,
                              is_active=False)
    _error(_ok(client, api_key, token), 401, "unknown_key")


def test_rotation_old_secret_stops_new_one_works(client, api_key, token, institution):
    old_key, old_secret = api_key
    new_key, new_secret = services.institution_api_key_issue(institution=institution)
    assert new_key.key_id != old_key.key_id and new_secret != old_secret
    _error(exchange(client, key_id=old_key.key_id, secret=old_secret, token=token), 401, "unknown_key")
    # the old secret with the new key id is a bad signature too
    _error(exchange(client, key_id=new_key.key_id, secret=old_secret, token=token), 401, "bad_signature")
    assert exchange(client, key_id=new_key.key_id, secret=new_secret, token=token).status_code == 200
    assert InstitutionApiKey.objects.filter(institution=institution, revoked_at__isnull=True).count() == 1


def test_secret_is_stored_encrypted(api_key):
    key, secret = api_key
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM education_institutionapikey WHERE key_id = %s", [key.key_id])
        (stored,) = cursor.fetchone()
    assert secret not in stored and stored != secret
    assert decrypt_secret(stored) == secret


def test_invalid_signature_stores_nothing(client, api_key, token):
    key, _secret = api_key
    before = (LaunchToken.objects.get().used_at, InstitutionApiKey.objects.count())
    exchange(client, key_id=key.key_id, secret="wrong", token=token)
    assert (LaunchToken.objects.get().used_at, InstitutionApiKey.objects.count()) == before
