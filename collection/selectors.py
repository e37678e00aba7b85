"""Reads about a person's archive."""

from django.utils.translation import gettext_lazy as _

NOT_COLLECTED = _("未采集")


def collection_status_for(*, user) -> str:
    """The person's 采集状态. The archive itself arrives with the collection
    wizard; until then every account is 未采集."""
    return NOT_COLLECTED
