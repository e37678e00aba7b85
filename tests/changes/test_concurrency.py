"""Two tabs saving the same archive: the second save (from an older page) is refused
with a message to reload, nothing of it is saved, nothing of the first is lost."""

from __future__ import annotations

import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client

from accounts.models import SmsCode, User
from changes.models import ChangeRecord
from collection.models import Archive, Education, ProfessionalQualification
from tests.accounts.test_views import latest_code, new_mobile
from tests.changes.helpers import (
    SMS_URL,
    collect,
    edit_url,
    form_values,
    item_url,
    messages_of,
    records,
    text,
)
from tests.collection.steps import page_errors
from tests.factories import ACCOUNT_PASSWORD
from tests.images import photo_upload

STALE = "该信息已在其他页面或设备上修改并保存"

# item: (what tab 1 saves, what tab 2 typed, how to read the saved value)
CASES = {
    "personal": ({"email": "first@example.com"}, {"email": "second@example.com", "name": "第二个标签页"},
                 lambda a: (a.email, a.user.name)),
    "education": ({"ft-major": "财务管理"}, {"ft-major": "审计学", "ft-school": "第二个标签页大学"},
                  lambda a: tuple(Education.objects.filter(archive=a, mode="full_time").values_list(
                      "major", "school").get())),
    "professional": ({"qualifications-0-certificate_number": "FIRST-001"},
                     {"qualifications-0-certificate_number": "SECOND-002", "is_cpa": "true"},
                     lambda a: (list(ProfessionalQualification.objects.filter(archive=a).values_list(
                         "certificate_number", flat=True)), a.is_cpa)),
    "work": ({"employer": "第一个标签页单位"}, {"employer": "第二个标签页单位"}, lambda a: a.employer),
}


def archive(user) -> Archive:
    return Archive.objects.select_related("user").get(user=user)


def tab(client, item: str) -> dict:
    """A tab opened on the edit page: what its form would post."""
    return form_values(client.get(edit_url(item)))


@pytest.mark.django_db
@pytest.mark.parametrize("item", list(CASES))
def test_the_second_tab_is_refused_and_keeps_what_it_typed(client, collected, item):
    first_change, second_change, read = CASES[item]
    first, second = tab(client, item), tab(client, item)
    assert first["version"] == second["version"] == str(collected.version)

    response = client.post(edit_url(item), {**first, **first_change})
    assert response.status_code == 302, page_errors(response)
    saved = read(archive(collected.user))

    response = client.post(edit_url(item), {**second, **second_change})
    assert response.status_code == 200
    html = text(response)
    assert STALE in html and "刷新" in html
    assert f'href="{edit_url(item)}"' in html  # the way to reload
    typed = form_values(response)
    for name, value in second_change.items():
        assert typed[name] == value, name  # nothing the second tab typed is lost from the page
    assert read(archive(collected.user)) == saved  # the first tab's value stays
    assert len(records(collected.user)) == 1
    assert archive(collected.user).version == collected.version + 1

    # reloaded, the second tab saves on top of the first
    again = tab(client, item)
    response = client.post(edit_url(item), {**again, **second_change})
    assert response.status_code == 302, page_errors(response)
    assert read(archive(collected.user)) != saved and len(records(collected.user)) == 2


@pytest.mark.django_db
def test_a_save_of_another_item_also_makes_an_open_page_stale(client, collected):
    """The version is the archive's: a page opened before any saved change is refused."""
    work_tab = tab(client, "work")
    assert client.post(edit_url("personal"), {**tab(client, "personal"), "email": "x@example.com"}).status_code == 302
    response = client.post(edit_url("work"), {**work_tab, "employer": "另一个单位"})
    assert response.status_code == 200 and STALE in text(response)
    assert archive(collected.user).employer == "贵州某某会计师事务所"


@pytest.mark.django_db
def test_a_stale_save_with_a_new_photo_says_to_choose_it_again(client, collected):
    stale_tab = tab(client, "personal")
    stored = set(default_storage.listdir("archives")[1])
    assert client.post(edit_url("personal"), {**tab(client, "personal"), "email": "x@example.com"}).status_code == 302
    response = client.post(edit_url("personal"), {**stale_tab, "photo": photo_upload()})
    assert response.status_code == 200 and STALE in text(response)
    assert "请重新选择要上传的图片" in text(response)  # a file input cannot be refilled
    assert archive(collected.user).photo.name == collected.photo.name
    assert set(default_storage.listdir("archives")[1]) == stored


@pytest.mark.django_db
def test_a_stale_mobile_change_keeps_the_code_unspent(client, collected):
    contact_tab = tab(client, "contact")
    new = new_mobile()
    assert client.post(SMS_URL, {"purpose": "change_phone", "mobile": new}).status_code == 200
    assert client.post(edit_url("personal"), {**tab(client, "personal"), "email": "x@example.com"}).status_code == 302
    data = {**contact_tab, "mobile": new, "sms_code": latest_code(new), "password": ACCOUNT_PASSWORD}
    response = client.post(edit_url("contact"), data)
    assert response.status_code == 200 and STALE in text(response)
    assert form_values(response)["mobile"] == new
    assert User.objects.get(pk=collected.user_id).mobile == collected.user.mobile
    assert SmsCode.objects.get(mobile="+86" + new).used_at is None
    response = client.post(edit_url("contact"), {**data, "version": tab(client, "contact")["version"]})
    assert response.status_code == 302 and str(User.objects.get(pk=collected.user_id).mobile) == "+86" + new


@pytest.mark.django_db
@pytest.mark.parametrize("version", [None, "", "abc", "0"])
def test_a_post_without_the_pages_version_is_refused(client, collected, version):
    data = {**tab(client, "personal"), "email": "noversion@example.com", "version": version}
    response = client.post(edit_url("personal"), {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 200 and STALE in text(response)
    assert archive(collected.user).email == "zhang.san@example.com" and not records(collected.user)


@pytest.mark.django_db
def test_a_version_from_the_future_is_refused(client, collected):
    data = {**tab(client, "personal"), "email": "future@example.com", "version": str(collected.version + 5)}
    assert STALE in text(client.post(edit_url("personal"), data))
    assert not records(collected.user)


# --- a true race: two requests at once, each on its own database connection ----------------


def _at_once(*calls) -> list:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the assertions say which outcomes are acceptable
            results[index] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.parametrize("round_", range(3))
def test_two_saves_of_the_same_version_at_once_one_wins(transactional_db, reference_data, accountant, round_):
    main = Client()
    main.force_login(accountant)
    collected = collect(main, accountant)
    page = tab(main, "personal")
    tabs = [Client(), Client()]
    for browser in tabs:
        browser.force_login(accountant)
    emails = ["left@example.com", "right@example.com"]

    def post(index: int):
        return lambda: tabs[index].post(edit_url("personal"), {**page, "email": emails[index]})

    results = _at_once(post(0), post(1))
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 302], statuses
    winner = next(i for i, r in enumerate(results) if r.status_code == 302)
    loser = results[1 - winner]
    assert STALE in text(loser) and form_values(loser)["email"] == emails[1 - winner]
    assert results[winner].url == item_url("personal")
    assert "个人信息已保存，变更已记入变更记录。" in messages_of(results[winner])

    saved = archive(accountant)
    assert saved.email == emails[winner] and saved.version == collected.version + 1
    [record] = ChangeRecord.objects.filter(user=accountant)
    assert record.changes == [{"field": "email", "label": "电子邮箱", "old": "zhang.san@example.com",
                               "new": emails[winner]}]
