"""Continuing-education test data, built through the real services."""

from __future__ import annotations

import datetime as dt
import json
import time

from django.urls import reverse

from collection import services as collection_services
from collection.models import Archive, Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
from education import services
from education.api_auth import sign
from education.models import Institution
from portal.images import DOCUMENT, PHOTO, clean_image
from tests.images import document_upload, photo_upload

PLATFORM_URL = "http://institution.test/learn"
EXCHANGE_URL = "/api/v1/learner-tokens/exchange"


def collect(user) -> Archive:
    """Walk the archive of `user` to 已采集 through collection.services (code tables must be loaded)."""
    archive = collection_services.archive_start(user=user)
    for field, upload, rule in (("photo", photo_upload, PHOTO), ("id_card_front", document_upload, DOCUMENT),
                                ("id_card_back", document_upload, DOCUMENT)):
        collection_services.archive_upload_replace(archive=archive, field=field, content=clean_image(upload(),
                                                                                                    rule=rule))
    collection_services.archive_save_personal(
        archive=archive, ethnicity=Ethnicity.objects.get(name="汉族"),
        political_status=PoliticalStatus.objects.get(name="群众"), email="learner@example.com",
    )
    collection_services.archive_save_education(archive=archive, full_time={
        "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
        "school": "贵州财经大学", "major": "会计学", "start_date": dt.date(2008, 9, 1),
        "graduation_date": dt.date(2012, 7, 1),
    }, part_time=None)
    collection_services.archive_save_professional(
        archive=archive,
        certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False, "abacus_level": "none"},
        qualifications=[], talents=[], awards=[],
    )
    collection_services.archive_save_work(
        archive=archive, employment_status="accounting", division=Division.objects.get(code="520102"),
        employer="贵州某某会计师事务所", school="", provincial_declaration=False,
    )
    return collection_services.archive_submit(archive=archive)


def make_institution(code: str, *, years=(2026,), name: str | None = None, active: bool = True,
                     platform_url: str = PLATFORM_URL) -> Institution:
    return services.institution_save(
        code=code, name=name or f"机构{code}", platform_url=platform_url, contact_name="王老师",
        contact_phone="0851-12345678", years=years, is_active=active,
    ).institution


def signed_headers(*, key_id: str, secret: str, body: bytes, timestamp: int | None = None) -> dict:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"HTTP_X_INSTITUTION_KEY": key_id, "HTTP_X_TIMESTAMP": str(ts),
            "HTTP_X_SIGNATURE": sign(secret, ts, body)}


def exchange(client, *, key_id: str, secret: str, token: str, timestamp: int | None = None, body: bytes | None = None,
             headers: dict | None = None):
    """POST the exchange as an institution would (signed unless `headers` is given)."""
    body = json.dumps({"token": token}).encode() if body is None else body
    if headers is None:
        headers = signed_headers(key_id=key_id, secret=secret, body=body, timestamp=timestamp)
    return client.generic("POST", EXCHANGE_URL, body, content_type="application/json", **headers)


def remote_url(year: int | None = None) -> str:
    url = reverse("education:remote")
    return url if year is None else f"{url}?year={year}"


CREDIT_BATCHES_URL = "/api/v1/credit-batches"


def credit_record(user, *, record_id: str = "R1", year: int, category: str = "专业科目", credits=10,
                  course: str = "企业会计准则解读", completed_at: str | None = None, name: str | None = None,
                  id_number: str | None = None) -> dict:
    """One record of a credit batch, for `user` (built with AccountFactory: has plain_id_number)."""
    return {"record_id": record_id, "id_type": "resident_id_card",
            "id_number": user.plain_id_number if id_number is None else id_number,
            "name": user.name if name is None else name, "year": year, "category": category,
            "credits": credits, "course": course, "completed_at": completed_at or f"{year}-06-30"}


def post_batch(client, api_key, records=None, *, body: bytes | None = None, headers: dict | None = None):
    """POST /api/v1/credit-batches as the institution of `api_key` ((key, secret)) would."""
    key, secret = api_key
    if body is None:
        body = json.dumps({"records": records}, ensure_ascii=False).encode()
    if headers is None:
        headers = signed_headers(key_id=key.key_id, secret=secret, body=body)
    return client.generic("POST", CREDIT_BATCHES_URL, body, content_type="application/json", **headers)


def get_batch(client, api_key, batch_id: int, *, headers: dict | None = None):
    """GET /api/v1/credit-batches/{id}, signed over the empty body."""
    key, secret = api_key
    if headers is None:
        headers = signed_headers(key_id=key.key_id, secret=secret, body=b"")
    return client.get(f"{CREDIT_BATCHES_URL}/{batch_id}", **headers)
