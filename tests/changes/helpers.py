"""Helpers for the 信息变更 tests: collect through the wizard, then read and post change pages."""

from __future__ import annotations

import re

from django.contrib.messages import get_messages
from django.urls import reverse

from changes.models import ChangeRecord
from collection.models import Archive, ArchiveStatus
from tests.accounts.test_views import latest_code  # noqa: F401  (re-exported: codes from the SMS outbox)
from tests.collection.steps import STEPS, complete, parse, personal_data, url

MENU = reverse("changes:menu")
HISTORY = reverse("changes:history")
SMS_URL = reverse("accounts:sms_code_send")
ITEMS = ["personal", "contact", "education", "professional", "work"]
ITEM_LABELS = {"personal": "个人信息", "contact": "联系方式", "education": "学历信息",
               "professional": "专业技术信息", "work": "工作信息"}


def item_url(item: str) -> str:
    return reverse("changes:item", args=[item])


def edit_url(item: str) -> str:
    return reverse("changes:edit", args=[item])


def collect(client, user, **personal) -> Archive:
    """Walk every wizard step with valid data and 提交; `personal` adds to the 个人信息 post."""
    complete(client, "notice")
    if personal:
        response = client.post(url("personal"), personal_data(**personal))
        assert response.status_code == 302 and response.url == url("education"), response.status_code
        complete(client, *STEPS[2:-1])
    else:
        complete(client, *STEPS[1:-1])
    response = client.post(url("review"), {"nav": "next"})
    assert response.status_code == 302 and response.url == reverse("collection:status")
    archive = Archive.objects.select_related("user", "division__parent").get(user=user)
    assert archive.status == ArchiveStatus.COLLECTED
    return archive


def current_version(user) -> int:
    return Archive.objects.values_list("version", flat=True).get(user=user)


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_values(response) -> dict[str, str]:
    """What a page's form would post: inputs' values, selected options, checked boxes."""
    page = parse(response)
    values = dict(page.values)
    for name, selected in page.selected.items():
        values[name] = selected[0]
    for name, value in page.checked:
        values[name] = value
    # the formsets' row templates and the logout form's token are not part of this form
    return {k: v for k, v in values.items() if "__prefix__" not in k and k != "csrfmiddlewaretoken"}


def records(user) -> list[ChangeRecord]:
    return list(ChangeRecord.objects.filter(user=user).order_by("id"))


def only_record(user) -> ChangeRecord:
    found = records(user)
    assert len(found) == 1, [r.changes for r in found]
    return found[0]


def changes_by_label(record: ChangeRecord) -> dict[str, tuple[str, str]]:
    """label → (old, new); for labels that occur more than once use `record.changes`."""
    return {c["label"]: (c["old"], c["new"]) for c in record.changes}


def strip_tags(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def save(client, item: str, changes: dict, **extra):
    """Open the edit page, change what the person changes (None drops a field), 保存."""
    data = form_values(client.get(edit_url(item)))
    data.update(changes)
    return client.post(edit_url(item), {k: v for k, v in data.items() if v is not None}, **extra)
