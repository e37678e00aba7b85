"""信息变更 menu and pages: open only once the archive is 已采集 (manual section 3)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from changes.models import ChangeItem, ChangeRecord
from collection.models import Archive
from tests.changes.helpers import HISTORY, ITEM_LABELS, ITEMS, MENU, edit_url, item_url, text
from tests.collection.steps import complete

pytestmark = pytest.mark.django_db

START = reverse("collection:start")
GUARDED = [MENU, HISTORY, item_url("personal"), edit_url("personal"), item_url("work"), edit_url("contact")]


def test_the_items_are_the_issues_five():
    assert [(i.value, str(i.label)) for i in ChangeItem] == list(ITEM_LABELS.items())


@pytest.mark.parametrize("page", GUARDED)
def test_anonymous_is_sent_to_login(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.url == f"{reverse(settings.LOGIN_URL)}?next={page}"


@pytest.mark.parametrize("page", GUARDED)
def test_without_an_archive_every_page_says_collect_first(client, person, page):
    response = client.get(page)
    assert response.status_code == 403
    html = text(response)
    assert "请先完成信息采集" in html
    assert f'href="{START}"' in html and "开始信息采集" in html


@pytest.mark.parametrize("page", GUARDED)
def test_a_draft_is_not_enough(client, person, page):
    complete(client, "notice", "personal")
    response = client.get(page)
    assert response.status_code == 403
    html = text(response)
    assert "请先完成信息采集" in html and "尚未提交" in html
    assert f'href="{START}"' in html and "继续信息采集" in html


def test_a_draft_cannot_post_a_change_either(client, person):
    complete(client, "notice", "personal")
    before = Archive.objects.get(user=person)
    response = client.post(edit_url("personal"), {"version": before.version, "name": "改名",
                                                  "email": "x@example.com"})
    assert response.status_code == 403
    after = Archive.objects.get(user=person)
    assert (after.version, after.email) == (before.version, before.email)
    person.refresh_from_db()
    assert person.name != "改名"
    assert not ChangeRecord.objects.exists()


def test_menu_lists_the_five_items_with_change_buttons(client, collected):
    response = client.get(MENU)
    assert response.status_code == 200
    html = text(response)
    for item, label in ITEM_LABELS.items():
        assert f'href="{item_url(item)}"' in html and label in html
        assert f'href="{edit_url(item)}">变更信息</a>' in html
    assert html.count(">变更信息</a>") == 5
    assert "性别、国籍、出生日期、证件类型和证件号码不能变更" in html
    assert f'href="{HISTORY}"' in html


def test_home_links_to_the_menu_once_collected(client, collected):
    html = text(client.get(reverse("accounts:home")))
    assert f'href="{MENU}"' in html and f'href="{HISTORY}"' in html


@pytest.mark.parametrize("item", ITEMS)
def test_each_item_page_and_edit_page_open(client, collected, item):
    detail = client.get(item_url(item))
    assert detail.status_code == 200
    assert ITEM_LABELS[item] in text(detail)
    assert f'href="{edit_url(item)}">变更信息</a>' in text(detail)
    edit = client.get(edit_url(item))
    assert edit.status_code == 200
    assert ">保存</button>" in text(edit)
    assert f'name="version" value="{collected.version}"' in text(edit)


@pytest.mark.parametrize("page", ["/changes/unknown/", "/changes/unknown/edit/", "/changes/history/edit/",
                                  "/changes/PERSONAL/"])
def test_unknown_item_is_404(client, collected, page):
    assert client.get(page).status_code == 404


def test_pages_are_not_cached(client, collected):
    for page in (MENU, item_url("personal"), edit_url("personal"), HISTORY):
        assert "no-store" in client.get(page)["Cache-Control"], page


def test_menu_and_item_pages_refuse_post(client, collected):
    assert client.post(MENU).status_code == 405
    assert client.post(item_url("personal")).status_code == 405
    assert client.post(HISTORY).status_code == 405
