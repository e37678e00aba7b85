"""The request-size cap: refused before Django reads the body."""

import pytest


@pytest.mark.parametrize("path", ["/accounts/login/", "/collection/personal/"])
def test_oversize_page_post_is_413_with_a_chinese_page(client, settings, path):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post(path, data="x" * 2000, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "上传内容过大" in response.content.decode()


def test_oversize_api_post_is_a_json_400(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post("/api/v1/credit-batches", data="{" + " " * 2000 + "}", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_body_under_the_cap_reaches_the_view(client, settings):
    settings.MAX_REQUEST_BYTES = 10_000
    response = client.post("/api/v1/credit-batches", data="{}", content_type="application/json")
    # the view answers (unsigned → 401), not the size guard
    assert response.status_code == 401
