"""audit_record: the one writer of the staff audit log (portal.models.AuditEntry)."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from .http import client_ip
from .models import AuditAction, AuditEntry

_ID_LIKE = re.compile(r"^[0-9A-Za-z]{8,20}$")


def person_label(person) -> str:
    """Name and masked ID number: enough for an auditor, no full number."""
    if person is None:
        return ""
    masked = getattr(person, "id_number_masked", "") or ""
    return f"{person.name}（{masked}）" if masked else person.name


def _jsonable(params: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if isinstance(value, list | tuple):
            out[str(key)] = [str(v) for v in value]
        elif value is None or isinstance(value, bool | int | float):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def audit_record(
    *,
    request: HttpRequest,
    action: AuditAction | str,
    obj: Any = None,
    person: Any = None,
    params: dict[str, Any] | None = None,
    row_count: int | None = None,
) -> AuditEntry:
    """Append one row to the audit log: who (request.user), what, whose, when, from where."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor else "",
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        person_id=person.pk if person is not None else None,
        person=person_label(person),
        params=_jsonable(params),
        row_count=row_count,
        ip_address=client_ip(request) or None,
    )


def params_of(request: HttpRequest) -> dict[str, Any]:
    """The query parameters of a request (changelist filters); a searched ID number is masked."""
    from accounts.identity import mask_id_number

    out: dict[str, Any] = {}
    for key, values in request.GET.lists():
        if key == "q":
            values = [mask_id_number(v.strip()) if _ID_LIKE.match(v.strip()) else v for v in values]
        out[key] = values if len(values) > 1 else values[0]
    return out
