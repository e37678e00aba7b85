"""Issue 9 point 6 (API): the institution API fuzzed with schemathesis against its own
OpenAPI document (/api/v1/openapi.json), in-process through the WSGI application.

Every request is signed like an institution signs it (X-Institution-Key, X-Timestamp,
X-Signature over the exact bytes sent). No answer may be a 5xx, and every answer must be
one the document lists, with its content type and schema. Negative cases (data that does
not fit the document) must be refused with a documented 4xx.
"""

from __future__ import annotations

import json
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from education import services
from education.api_auth import sign
from education.openapi import openapi_document
from tests.education.helpers import make_institution

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
negative = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
negative.config.generation.update(modes=[schemathesis.GenerationMode.NEGATIVE])

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request; the test
    client switches that off for its requests, so do the same for the WSGI calls."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db):
    institution = make_institution("GZFUZZ", years=(2026,))
    return services.institution_api_key_issue(institution=institution)


def _body(kwargs: dict) -> bytes:
    data = kwargs.get("data", kwargs.get("json"))
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data).encode()


def signed_call(case, api_key):
    """Send the case with the signature an institution would compute over these bytes."""
    key, secret = api_key
    body = _body(case.as_transport_kwargs())
    timestamp = int(time.time())
    headers = {"X-Institution-Key": key.key_id, "X-Timestamp": str(timestamp),
               "X-Signature": sign(secret, timestamp, body)}
    return case.call(headers=headers, data=body) if body else case.call(headers=headers)


def test_the_served_document_is_the_one_fuzzed(client):
    assert client.get("/api/v1/openapi.json").json() == openapi_document()
    assert set(openapi_document()["paths"]) == {"/learner-tokens/exchange", "/credit-batches",
                                                "/credit-batches/{batch_id}"}


@schema.parametrize()
@FUZZ
def test_signed_requests_get_documented_answers_and_never_a_5xx(case, api_key):
    response = signed_call(case, api_key)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code != 401, response.text  # the signature itself was right


@negative.parametrize()
@FUZZ
def test_data_outside_the_document_is_refused_with_a_documented_4xx(case, api_key):
    """A credit batch is refused as a whole (400) for its shape and types only; a record whose
    values break the document (a bad date, an unknown category) is stored with the batch and
    reported `rejected` / `invalid_value` in the batch's results, as the document says. So the
    "must be a 4xx" check applies to the other operations; every answer still has to conform."""
    response = signed_call(case, api_key)
    checks = CHECKS if case.operation.label == "POST /credit-batches" else [*CHECKS, negative_data_rejection]
    case.validate_response(response, checks=checks)


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/credit-batches", '{"records": [{"record_id": "R\\u0000", "id_type": "resident_id_card"}]}'),
    ("/api/v1/credit-batches", '{"records": [], "\\u0000": 1}'),
    ("/api/v1/learner-tokens/exchange", '{"token": "abc\\u0000"}'),
])
def test_a_nul_character_is_a_json_400_not_a_5xx(client, api_key, path, body):
    """Found by the fuzzing above on PostgreSQL, which cannot store or compare text with NUL."""
    key, secret = api_key
    raw = body.encode()
    timestamp = int(time.time())
    response = client.generic("POST", path, raw, content_type="application/json", HTTP_X_INSTITUTION_KEY=key.key_id,
                              HTTP_X_TIMESTAMP=str(timestamp), HTTP_X_SIGNATURE=sign(secret, timestamp, raw))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
