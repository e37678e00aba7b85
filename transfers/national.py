"""The national platform (全国会计人员统一服务管理平台), behind one small interface.

Everything the portal asks of the platform goes through `platform()`:

- `transfer_submit` a transfer out (idempotent on our `client_ref`), `transfer_find`
  it again by that key, read its `transfer_status`, `transfer_withdraw` it;
- `incoming_find` a record bound for this province by the person's identity,
  `incoming_get` it by reference, `incoming_receive` it (confirm receipt).

Two backends, chosen by NATIONAL_PLATFORM_BACKEND:

- `local` (default): the platform's side kept in this database (PlatformRecord), so
  `make run` and the tests need no outside system; `manage.py national_platform` plays
  the other provinces on it;
- `http`: JSON over HTTPS to NATIONAL_PLATFORM_URL, every request signed
  (X-Platform-Key, X-Timestamp, X-Signature = hex HMAC-SHA256 of
  "{timestamp}.{METHOD}.{path}.{body}"), with a timeout and retries with backoff.
  Every operation is idempotent on the platform's side, so a retry is always safe.

The state changes that race (a withdrawal against the destination's receipt) are
decided by the platform in one conditional update: exactly one of them wins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Protocol

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from portal.errors import PortalError

from .models import PlatformRecord, PlatformStatus

logger = logging.getLogger(__name__)


class PlatformUnavailable(PortalError):
    """The platform did not answer (down, timeout, 5xx, nonsense): try again later."""

    def __init__(self, detail: str = ""):
        super().__init__(str(_("全国平台暂时无法连接，请稍后再试。")), code="unavailable")
        self.detail = detail


class PlatformRefused(PortalError):
    """The platform refused the operation in the record's state (`code` = that state)."""


@dataclass(frozen=True)
class RemoteStatus:
    ref: str
    status: str  # a PlatformStatus value
    updated_at: dt.datetime


@dataclass(frozen=True)
class IncomingRecord:
    ref: str
    status: str
    from_province: str
    to_province: str
    name: str
    id_type: str
    id_number: str
    mobile: str
    payload: dict = field(default_factory=dict)


class NationalPlatform(Protocol):
    def transfer_submit(
        self, *, client_ref: str, from_province: str, to_province: str, name: str, id_type: str, id_number: str,
        mobile: str, reason: str, destination: str, payload: dict,
    ) -> RemoteStatus: ...

    def transfer_find(self, *, client_ref: str) -> RemoteStatus | None: ...

    def transfer_status(self, *, ref: str) -> RemoteStatus: ...

    def transfer_withdraw(self, *, ref: str) -> RemoteStatus: ...

    def incoming_find(self, *, to_province: str, name: str, id_type: str, id_number: str) -> IncomingRecord | None: ...

    def incoming_get(self, *, ref: str) -> IncomingRecord | None: ...

    def incoming_receive(self, *, ref: str, to_province: str) -> RemoteStatus: ...


def platform() -> NationalPlatform:
    backend = settings.NATIONAL_PLATFORM_BACKEND
    if backend == "local":
        return LocalPlatform()
    if backend == "http":
        return HttpPlatform(
            base_url=settings.NATIONAL_PLATFORM_URL,
            key_id=settings.NATIONAL_PLATFORM_KEY_ID,
            secret=settings.NATIONAL_PLATFORM_SECRET,
            timeout=settings.NATIONAL_PLATFORM_TIMEOUT_SECONDS,
            retries=settings.NATIONAL_PLATFORM_RETRIES,
        )
    raise ValueError(f"unknown NATIONAL_PLATFORM_BACKEND {backend!r}")


def _refused(status: str) -> PlatformRefused:
    messages = {
        PlatformStatus.RECEIVED: _("调入地已接收，调转已完成。"),
        PlatformStatus.WITHDRAWN: _("该调转已由调出地撤回。"),
        PlatformStatus.WAITING: _("该调转尚未进入“待调入地接收”状态。"),
        "not_found": _("全国平台上没有该调转记录。"),
        "wrong_province": _("该调转记录的调入地不是本省。"),
    }
    return PlatformRefused(str(messages.get(status, _("全国平台拒绝了该操作。"))), code=str(status))


# --- local backend ----------------------------------------------------------------------


def new_ref() -> str:
    """A platform reference: date + random digits (no personal data)."""
    return f"QG{timezone.localdate():%Y%m%d}{secrets.randbelow(10**8):08d}"


class LocalPlatform:
    """The platform's side in this database. Each state change is one conditional
    UPDATE, so a withdrawal and a receipt racing each other cannot both succeed."""

    @staticmethod
    def _status(rec: PlatformRecord) -> RemoteStatus:
        return RemoteStatus(ref=rec.ref, status=rec.status, updated_at=rec.updated_at)

    @staticmethod
    def _incoming(rec: PlatformRecord) -> IncomingRecord:
        from accounts.identity import decrypt_id_number

        return IncomingRecord(
            ref=rec.ref, status=rec.status, from_province=rec.from_province, to_province=rec.to_province,
            name=rec.name, id_type=rec.id_type, id_number=decrypt_id_number(rec.id_number_encrypted),
            mobile=rec.mobile, payload=rec.payload,
        )

    def record_create(
        self, *, from_province: str, to_province: str, name: str, id_type: str, id_number: str, mobile: str,
        payload: dict, status: str, reason: str = "", destination: str = "", client_ref: str | None = None,
    ) -> PlatformRecord:
        from accounts.identity import encrypt_id_number, id_lookup_hash, mask_id_number

        return PlatformRecord.objects.create(
            ref=new_ref(), client_ref=client_ref, from_province=from_province, to_province=to_province, name=name,
            id_type=id_type, id_hash=id_lookup_hash(id_number), id_number_encrypted=encrypt_id_number(id_number),
            id_number_masked=mask_id_number(id_number), mobile=mobile, reason=reason, destination=destination,
            payload=payload, status=status,
        )

    def transfer_submit(
        self, *, client_ref, from_province, to_province, name, id_type, id_number, mobile, reason, destination,
        payload,
    ) -> RemoteStatus:
        existing = PlatformRecord.objects.filter(client_ref=client_ref).first()
        if existing is not None:
            return self._status(existing)
        # The platform checks the submission at once and forwards it to the destination.
        rec = self.record_create(
            client_ref=client_ref, from_province=from_province, to_province=to_province, name=name, id_type=id_type,
            id_number=id_number, mobile=mobile, reason=reason, destination=destination, payload=payload,
            status=PlatformStatus.PENDING_RECEIPT,
        )
        return self._status(rec)

    def transfer_find(self, *, client_ref: str) -> RemoteStatus | None:
        rec = PlatformRecord.objects.filter(client_ref=client_ref).first()
        return self._status(rec) if rec else None

    def transfer_status(self, *, ref: str) -> RemoteStatus:
        rec = PlatformRecord.objects.filter(ref=ref).first()
        if rec is None:
            raise _refused("not_found")
        return self._status(rec)

    def _transition(self, *, ref: str, allowed_from: tuple[str, ...], to: str, extra=None) -> RemoteStatus:
        qs = PlatformRecord.objects.filter(ref=ref, **(extra or {}))
        changed = qs.filter(status__in=allowed_from).update(status=to, updated_at=timezone.now())
        rec = qs.first()
        if rec is None:
            raise _refused("not_found")
        if not changed and rec.status != to:
            raise _refused(rec.status)
        return self._status(rec)

    def transfer_withdraw(self, *, ref: str) -> RemoteStatus:
        return self._transition(
            ref=ref, allowed_from=(PlatformStatus.WAITING, PlatformStatus.PENDING_RECEIPT), to=PlatformStatus.WITHDRAWN
        )

    def outgoing_receive(self, *, ref: str, from_province: str) -> RemoteStatus:
        """Another province receives a transfer out of `from_province` (the operator
        playing it with `manage.py national_platform receive`, and tests)."""
        return self._transition(
            ref=ref, allowed_from=(PlatformStatus.PENDING_RECEIPT,), to=PlatformStatus.RECEIVED,
            extra={"from_province": from_province},
        )

    def incoming_find(self, *, to_province: str, name: str, id_type: str, id_number: str) -> IncomingRecord | None:
        from accounts.identity import id_lookup_hash

        records = PlatformRecord.objects.filter(
            to_province=to_province, id_hash=id_lookup_hash(id_number), id_type=id_type, name=name
        ).order_by("-created_at", "-pk")
        rec = records.filter(status=PlatformStatus.PENDING_RECEIPT).first() or records.first()
        return self._incoming(rec) if rec else None

    def incoming_get(self, *, ref: str) -> IncomingRecord | None:
        rec = PlatformRecord.objects.filter(ref=ref).first()
        return self._incoming(rec) if rec else None

    def incoming_receive(self, *, ref: str, to_province: str) -> RemoteStatus:
        if not PlatformRecord.objects.filter(ref=ref, to_province=to_province).exists():
            raise _refused("wrong_province" if PlatformRecord.objects.filter(ref=ref).exists() else "not_found")
        return self._transition(
            ref=ref, allowed_from=(PlatformStatus.PENDING_RECEIPT,), to=PlatformStatus.RECEIVED,
            extra={"to_province": to_province},
        )


# --- http backend -----------------------------------------------------------------------


def sign(*, secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class HttpPlatform:
    """The real platform: signed JSON requests with a timeout, retried with backoff on
    connection errors, timeouts and 5xx (every call is idempotent on the platform)."""

    def __init__(self, *, base_url: str, key_id: str, secret: str, timeout: float, retries: int,
                 backoff: float = 0.3, session: requests.Session | None = None):
        if not base_url:
            raise ValueError("NATIONAL_PLATFORM_URL is required for the http backend")
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = session or requests.Session()

    def _request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() if body is not None else b""
        url = self.base_url + path
        signed_path = requests.utils.urlparse(url).path
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Platform-Key": self.key_id,
                "X-Timestamp": timestamp,
                "X-Signature": sign(
                    secret=self.secret, timestamp=timestamp, method=method, path=signed_path, body=raw
                ),
            }
            try:
                response = self.session.request(
                    method, url, data=raw or None, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}"
                logger.warning("national platform %s %s failed (attempt %d): %s", method, path, attempt + 1, last)
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                logger.warning("national platform %s %s: %s (attempt %d)", method, path, last, attempt + 1)
                continue
            try:
                data = response.json() if response.content else {}
            except ValueError:
                last = "invalid JSON"
                continue
            if not isinstance(data, dict):
                last = "unexpected JSON"
                continue
            return response.status_code, data
        raise PlatformUnavailable(last)

    @staticmethod
    def _status(data: dict) -> RemoteStatus:
        try:
            status = data["status"]
            if status not in PlatformStatus.values:
                raise ValueError(status)
            updated = parse_datetime(str(data.get("updated_at") or "")) or timezone.now()
            return RemoteStatus(ref=str(data["ref"]), status=status, updated_at=updated)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformUnavailable(f"bad status document: {exc}") from None

    def _checked(self, code: int, data: dict) -> dict:
        if code == 404:
            raise _refused("not_found")
        if code == 409:
            raise _refused(str(data.get("status") or data.get("error") or ""))
        if code >= 400:
            raise PlatformUnavailable(f"HTTP {code}: {data.get('error', '')}")
        return data

    @staticmethod
    def _incoming(data: dict) -> IncomingRecord:
        try:
            return IncomingRecord(
                ref=str(data["ref"]), status=str(data["status"]), from_province=str(data["from_province"]),
                to_province=str(data["to_province"]), name=str(data["name"]), id_type=str(data["id_type"]),
                id_number=str(data["id_number"]), mobile=str(data.get("mobile") or ""),
                payload=data.get("payload") if isinstance(data.get("payload"), dict) else {},
            )
        except (KeyError, TypeError) as exc:
            raise PlatformUnavailable(f"bad record document: {exc}") from None

    def transfer_submit(self, *, client_ref, from_province, to_province, name, id_type, id_number, mobile, reason,
                        destination, payload) -> RemoteStatus:
        body = {
            "client_ref": client_ref, "from_province": from_province, "to_province": to_province, "name": name,
            "id_type": id_type, "id_number": id_number, "mobile": mobile, "reason": reason,
            "destination": destination, "payload": payload,
        }
        return self._status(self._checked(*self._request("POST", "/transfers", body)))

    def transfer_find(self, *, client_ref: str) -> RemoteStatus | None:
        code, data = self._request("POST", "/transfers/find", {"client_ref": client_ref})
        if code == 404:
            return None
        return self._status(self._checked(code, data))

    def transfer_status(self, *, ref: str) -> RemoteStatus:
        return self._status(self._checked(*self._request("GET", f"/transfers/{ref}")))

    def transfer_withdraw(self, *, ref: str) -> RemoteStatus:
        return self._status(self._checked(*self._request("POST", f"/transfers/{ref}/withdraw", {})))

    def incoming_find(self, *, to_province, name, id_type, id_number) -> IncomingRecord | None:
        # The ID number travels in the signed body, never in a URL.
        body = {"to_province": to_province, "name": name, "id_type": id_type, "id_number": id_number}
        code, data = self._request("POST", "/incoming/find", body)
        if code == 404:
            return None
        return self._incoming(self._checked(code, data))

    def incoming_get(self, *, ref: str) -> IncomingRecord | None:
        code, data = self._request("GET", f"/incoming/{ref}")
        if code == 404:
            return None
        return self._incoming(self._checked(code, data))

    def incoming_receive(self, *, ref: str, to_province: str) -> RemoteStatus:
        body = {"to_province": to_province}
        return self._status(self._checked(*self._request("POST", f"/incoming/{ref}/receive", body)))
