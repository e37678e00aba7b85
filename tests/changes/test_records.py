"""变更记录: every saved change is one record; the person sees their own, newest first;
staff see all of it in admin, read-only; saving no change records nothing."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffProfile, StaffUnitKind, User
from changes.models import ChangeRecord
from tests.changes.helpers import (
    HISTORY,
    MENU,
    collect,
    current_version,
    edit_url,
    form_values,
    item_url,
    messages_of,
    records,
    save,
    strip_tags,
    text,
)
from tests.factories import AccountFactory
from tests.staff.helpers import otp_login

pytestmark = pytest.mark.django_db


def change_email(client, n: int, **extra):
    response = save(client, "personal", {"email": f"mail{n}@example.com"}, **extra)
    assert response.status_code == 302
    return response


@pytest.fixture
def someone_else(reference_data):
    """Another collected person, with a change record of their own."""
    other = Client()
    user = AccountFactory(name="别人")
    other.force_login(user)
    collect(other, user)
    response = save(other, "work", {"employer": "别人家的单位"}, REMOTE_ADDR="192.0.2.77")
    assert response.status_code == 302
    return user


# --- nothing changed ----------------------------------------------------------------------


@pytest.mark.parametrize("item", ["personal", "education", "professional", "work"])
def test_saving_without_a_change_records_nothing_and_says_so(client, collected, item):
    response = save(client, item, {})
    assert response.status_code == 302 and response.url == item_url(item)
    assert messages_of(response) == ["您没有修改任何信息，无需保存。"]
    assert "没有修改任何信息" in text(client.get(response.url))
    assert not records(collected.user)
    assert current_version(collected.user) == collected.version


def test_typing_the_same_value_in_another_spelling_is_no_change(client, collected):
    response = save(client, "personal", {"name": f"  {collected.user.name}  ", "email": "zhang.san@example.com"})
    assert messages_of(response) == ["您没有修改任何信息，无需保存。"]
    assert not records(collected.user)


# --- 变更记录 ------------------------------------------------------------------------------


def test_history_is_empty_at_first(client, collected):
    response = client.get(HISTORY)
    assert response.status_code == 200 and "暂无变更记录。" in text(response)


def test_history_shows_what_changed_when_and_from_where(client, collected):
    change_email(client, 1, REMOTE_ADDR="203.0.113.50")
    record = records(collected.user)[0]
    html = strip_tags(text(client.get(HISTORY)))
    assert "个人信息" in html and "电子邮箱" in html
    assert "变更前： zhang.san@example.com" in html and "变更后： mail1@example.com" in html
    assert "203.0.113.50" in html
    assert timezone.localtime(record.created_at).strftime("%Y-%m-%d %H:%M:%S") in html


def test_history_escapes_what_was_typed(client, collected):
    assert save(client, "work", {"employer": "<script>alert(1)</script>单位"}).status_code == 302
    html = text(client.get(HISTORY))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;单位" in html


def test_history_shows_only_the_persons_own_records(client, collected, someone_else):
    assert ChangeRecord.objects.filter(user=someone_else).count() == 1
    change_email(client, 1)
    html = text(client.get(HISTORY))
    assert "mail1@example.com" in html
    assert "别人家的单位" not in html and "192.0.2.77" not in html
    assert not ChangeRecord.objects.filter(user=collected.user, changes__icontains="别人").exists()
    # nor on any page of it, with any page number
    for page in ("1", "2", "999", "x"):
        assert "别人家的单位" not in text(client.get(HISTORY, {"page": page}))


def test_history_is_newest_first_and_paginated(client, collected):
    for n in range(1, 23):
        change_email(client, n)
    first = strip_tags(text(client.get(HISTORY)))
    assert first.index("变更后： mail22@example.com") < first.index("变更后： mail21@example.com")
    assert "变更后： mail3@example.com" in first and "变更后： mail2@example.com" not in first  # 20 a page
    assert "第 1 / 2 页" in first and "下一页" in first
    second = strip_tags(text(client.get(HISTORY, {"page": 2})))
    assert "变更后： mail2@example.com" in second and "变更后： mail1@example.com" in second
    assert "变更后： mail3@example.com" not in second and "上一页" in second


def test_every_item_leaves_its_own_record(client, collected):
    for item, changes in (("personal", {"email": "a@example.com"}), ("education", {"ft-major": "审计学"}),
                          ("professional", {"abacus_level": "3"}), ("work", {"employer": "新单位"})):
        assert save(client, item, changes).status_code == 302
    assert [r.item for r in records(collected.user)] == ["personal", "education", "professional", "work"]
    html = text(client.get(HISTORY))
    for label in ("个人信息", "学历信息", "专业技术信息", "工作信息"):
        assert label in html


def test_menu_and_history_query_counts_do_not_grow(client, collected, django_assert_max_num_queries):
    change_email(client, 0)

    def count(page: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        return len(queries)

    few = {page: count(page) for page in (MENU, HISTORY, item_url("personal"), item_url("professional"))}
    for n in range(1, 25):
        change_email(client, n)
    assert save(client, "professional", {"abacus_level": "3"}).status_code == 302
    many = {page: count(page) for page in few}
    assert many == few
    with django_assert_max_num_queries(8):
        client.get(MENU)
    with django_assert_max_num_queries(10):
        client.get(HISTORY)
    with django_assert_max_num_queries(10):
        client.get(HISTORY, {"page": 2})


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(db):
    admin = User.objects.create_superuser("chg-admin", "Adm#Pass2026x", name="管理员")
    return otp_login(Client(), admin)  # the admin needs password + TOTP (tests/staff/helpers.py)


def test_admin_lists_everyones_records_read_only(client, collected, someone_else, superuser_client):
    change_email(client, 1)
    changelist = reverse("admin:changes_changerecord_changelist")
    response = superuser_client.get(changelist)
    assert response.status_code == 200
    html = text(response)
    assert str(collected.user) in html and str(someone_else) in html
    assert reverse("admin:changes_changerecord_add") not in html
    assert superuser_client.get(reverse("admin:changes_changerecord_add")).status_code == 403

    record = records(collected.user)[0]
    change_page = superuser_client.get(reverse("admin:changes_changerecord_change", args=[record.pk]))
    assert change_page.status_code == 200
    assert "mail1@example.com" in text(change_page) and 'name="_save"' not in text(change_page)
    response = superuser_client.post(reverse("admin:changes_changerecord_change", args=[record.pk]),
                                     {"item": "work", "ip_address": "10.0.0.1"})
    assert response.status_code == 403
    assert superuser_client.post(reverse("admin:changes_changerecord_delete", args=[record.pk]),
                                 {"post": "yes"}).status_code == 403
    response = superuser_client.post(changelist, {"action": "delete_selected", "_selected_action": [record.pk]})
    assert ChangeRecord.objects.filter(pk=record.pk).exists()
    record.refresh_from_db()
    assert (record.item, record.ip_address) == ("personal", "127.0.0.1")
    assert superuser_client.get(changelist, {"item": "work"}).status_code == 200  # the filter works


def test_admin_model_permissions_are_view_only_even_for_a_superuser(superuser_client):
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="chg-admin")
    model_admin = admin.site._registry[ChangeRecord]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_staff_need_the_view_permission(collected, client):
    change_email(client, 1)
    user = User.objects.create_user("chg-staff", "Stf#Pass2026x", name="工作人员", is_staff=True)
    StaffProfile.objects.create(user=user, unit_kind=StaffUnitKind.PROVINCE)  # sees everyone
    staff = otp_login(Client(), user)
    changelist = reverse("admin:changes_changerecord_changelist")
    assert staff.get(changelist).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_changerecord"))
    response = staff.get(changelist)
    assert response.status_code == 200 and str(collected.user) in text(response)


def test_an_accountant_cannot_open_admin(client, collected):
    response = client.get(reverse("admin:changes_changerecord_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_edit_page_version_is_what_the_record_bumps(client, collected):
    change_email(client, 1)
    assert form_values(client.get(edit_url("personal")))["version"] == str(collected.version + 1)
