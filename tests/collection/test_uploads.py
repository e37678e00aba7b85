"""Uploads through the wizard's pages, and the owner-only view that serves them."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image

from collection.models import Archive
from portal.images import MAX_STORED_BYTES
from tests.collection.steps import archive_of, complete, complete_until, page_errors, personal_data, url
from tests.factories import AccountFactory
from tests.images import (
    gps_of,
    jpeg_bytes,
    jpeg_with_gps,
    noise_png,
    padded_png,
    photo_upload,
    png_claiming_size,
    png_headed_html,
    svg_bytes,
    upload,
)

pytestmark = pytest.mark.django_db

STORED_NAME = re.compile(r"^archives/[0-9a-f]{32}\.jpg$")


def file_url(field: str) -> str:
    return reverse("collection:upload", args=[field])


def _stored_files() -> set[str]:
    try:
        return {f"archives/{name}" for name in default_storage.listdir("archives")[1]}
    except FileNotFoundError:
        return set()


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        return f.read()


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- attacks through the 个人信息 page -----------------------------------------------------


ATTACKS = {
    "png-headed-html": (png_headed_html, "evil.png", "image/png", "JPG 或 PNG"),
    "svg": (svg_bytes, "photo.svg", "image/svg+xml", "JPG 或 PNG"),
    "pixel-flood-20000x20000": (lambda: png_claiming_size(20000, 20000), "flood.png", "image/png", "像素过大"),
    "6-mb": (lambda: padded_png(6 * 1024 * 1024), "big.png", "image/png", "5 MB"),
    "photo-too-small": (lambda: jpeg_bytes((290, 400)), "small.jpg", "image/jpeg", "295×413"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_bad_uploads_are_refused_and_nothing_of_them_is_stored(client, person, attack):
    make, name, content_type, message = ATTACKS[attack]
    complete_until(client, "personal")
    data = personal_data(photo=upload(make(), name, content_type))
    response = client.post(url("personal"), data)
    assert response.status_code == 200
    errors = page_errors(response)
    assert list(errors) == ["photo"] and message in errors["photo"][0]
    archive = archive_of(person)
    assert not archive.photo and not archive.personal_done
    # the two valid ID images of the same post are kept, and they are all that was stored
    assert _stored_files() == {archive.id_card_front.name, archive.id_card_back.name}
    assert client.get(file_url("photo")).status_code == 404


def test_exif_gps_is_removed_from_the_stored_photo(client, person):
    complete_until(client, "personal")
    client.post(url("personal"), personal_data(photo=upload(jpeg_with_gps((400, 520)), "IMG_0001.JPG")))
    stored = _read(archive_of(person).photo.name)
    assert gps_of(stored) == {}
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format == "JPEG" and not img.getexif()
    assert b"TestCam" not in stored


def test_stored_files_have_random_names_under_archives_and_stay_under_500_kb(client, person):
    complete_until(client, "personal")
    big = noise_png((1000, 1500))
    assert len(big) > MAX_STORED_BYTES
    client.post(url("personal"), personal_data(id_card_front=upload(big, "身份证正面.png", "image/png")))
    archive = archive_of(person)
    for field in ("photo", "id_card_front", "id_card_back"):
        name = getattr(archive, field).name
        assert STORED_NAME.match(name), name
        assert default_storage.size(name) <= MAX_STORED_BYTES
    assert "身份证" not in archive.id_card_front.name  # nothing of the original name


def test_a_replaced_upload_is_deleted_from_storage(client, person, django_capture_on_commit_callbacks):
    complete_until(client, "personal")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("personal"), personal_data())
    first = archive_of(person).photo.name
    assert default_storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("personal"), personal_data(uploads=False, photo=photo_upload(color=(9, 9, 9))))
    assert response.url == url("education")
    second = archive_of(person).photo.name
    assert second != first and default_storage.exists(second)
    assert not default_storage.exists(first)
    assert _stored_files() == {second, archive_of(person).id_card_front.name, archive_of(person).id_card_back.name}


# --- the serving view ---------------------------------------------------------------------


@pytest.fixture
def uploaded(client, person):
    complete(client, "notice", "personal")
    return archive_of(person)


def test_owner_gets_the_image_with_safe_headers(client, uploaded):
    response = client.get(file_url("photo"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert _body(response) == _read(uploaded.photo.name)


def test_anonymous_is_sent_to_login(uploaded):
    response = Client().get(file_url("photo"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_another_accountant_never_gets_the_first_persons_file(client, uploaded, reference_data):
    first_bytes = _read(uploaded.photo.name)
    other = Client()
    other.force_login(AccountFactory())
    assert other.get(file_url("photo")).status_code == 404  # no archive yet

    complete(other, "notice")
    other.post(url("personal"), personal_data(photo=photo_upload(color=(200, 200, 10)), email="li@example.com"))
    response = other.get(file_url("photo"))
    assert response.status_code == 200
    theirs = _body(response)
    assert theirs != first_bytes
    other_archive = Archive.objects.exclude(pk=uploaded.pk).get()
    assert theirs == _read(other_archive.photo.name)


@pytest.mark.parametrize("field", ["passport", "user", "photo.jpg", "..", "archive_number"])
def test_unknown_field_is_404(client, uploaded, field):
    assert client.get(f"/collection/files/{field}/").status_code == 404


def test_field_without_a_file_is_404(client, uploaded):
    assert client.get(file_url("student_card")).status_code == 404


def test_a_file_missing_from_storage_is_404(client, uploaded):
    default_storage.delete(uploaded.photo.name)
    assert client.get(file_url("photo")).status_code == 404


def test_serving_view_answers_get_only(client, uploaded):
    assert client.post(file_url("photo")).status_code == 405


def test_stored_files_are_not_reachable_by_a_public_url(client, uploaded):
    name = uploaded.photo.name
    for path in (f"/media/{name}", f"/{name}", f"/private-media-not-served/{name}", f"/static/{name}"):
        assert client.get(path).status_code == 404, path
