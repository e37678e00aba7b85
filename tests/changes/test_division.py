"""所属行政区划: a new division takes effect at once — the archive belongs to the new
division's staff from the moment the change is saved (no pending state)."""

from __future__ import annotations

import pytest

from collection.models import Archive, ArchiveStatus
from tests.changes.helpers import changes_by_label, item_url, only_record, save, text
from tests.collection.steps import division, page_errors

pytestmark = pytest.mark.django_db


def in_division(county) -> set[int]:
    """Collected archives a division's staff see (scoped by the archive's division)."""
    return set(Archive.objects.filter(status=ArchiveStatus.COLLECTED, division=county).values_list("pk", flat=True))


def test_moving_from_guiyang_to_zunyi_takes_effect_at_once(client, collected):
    yunyan, huichuan = division("云岩区", parent="贵阳市"), division("汇川区", parent="遵义市")
    assert collected.division == yunyan and collected.pk in in_division(yunyan)

    response = save(client, "work", {"prefecture": division("遵义市").pk, "county": huichuan.pk},
                    REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 302 and response.url == item_url("work"), page_errors(response)

    archive = Archive.objects.get(pk=collected.pk)
    assert archive.division == huichuan and archive.status == ArchiveStatus.COLLECTED
    assert collected.pk in in_division(huichuan) and collected.pk not in in_division(yunyan)
    assert not Archive.objects.filter(division__parent__name="贵阳市", pk=collected.pk).exists()
    record = only_record(collected.user)
    assert changes_by_label(record) == {"所属行政区划": ("贵阳市 云岩区", "遵义市 汇川区")}
    assert record.ip_address == "203.0.113.10"
    assert "遵义市 汇川区" in text(client.get(item_url("work")))


def test_a_county_of_another_prefecture_is_refused(client, collected):
    response = save(client, "work", {"prefecture": division("遵义市").pk, "county": division("南明区").pk})
    assert response.status_code == 200
    assert "不属于所选市（州）" in page_errors(response)["county"][0]
    assert Archive.objects.get(pk=collected.pk).division == division("云岩区")


def test_moving_within_the_prefecture_is_recorded_too(client, collected):
    response = save(client, "work", {"county": division("南明区").pk})
    assert response.status_code == 302, page_errors(response)
    assert changes_by_label(only_record(collected.user)) == {"所属行政区划": ("贵阳市 云岩区", "贵阳市 南明区")}
