"""Helpers for the 跨省调转 tests: applications built through the services, the local
platform playing the other provinces, threads released together, and a fake national
platform served for real over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.contrib.messages import get_messages
from django.db import connection

from education import claims
from portal.images import DOCUMENT, clean_image
from tests.images import document_upload
from transfers import services
from transfers.demo import demo_payload
from transfers.models import PlatformRecord, PlatformStatus, TransferOut
from transfers.national import LocalPlatform

HOME = "52"
SICHUAN = "51"


def evidence():
    return clean_image(document_upload(), rule=DOCUMENT)


def apply(user, *, to_province: str = SICHUAN, reason: str = "work", destination: str = "四川省成都市某某会计师事务所"):
    """申请 through the service (已提交)."""
    return services.transfer_out_apply(
        user=user, to_province=to_province, reason=reason, destination=destination, evidence=evidence()
    )


def submitted(user, **kwargs) -> TransferOut:
    """申请 and its submission to the platform (待调入地接收), whatever runs the tasks."""
    transfer = apply(user, **kwargs)
    assert services.transfer_out_submit(transfer_id=transfer.pk) is True
    transfer.refresh_from_db()
    assert transfer.status == "pending_receipt" and transfer.platform_ref
    return transfer


def receive(transfer: TransferOut):
    """The destination receives the transfer on the local platform."""
    return LocalPlatform().outgoing_receive(ref=transfer.platform_ref, from_province=HOME)


def make_claim(user, year: int):
    return claims.credit_claim_create(user=user, year=year, activity="exam_subject", days=None,
                                      details="2026年中级会计实务合格", evidence=evidence())


def incoming(*, name: str, id_number: str, mobile: str, from_province: str = SICHUAN, to_province: str = HOME,
             status: str = PlatformStatus.PENDING_RECEIPT, id_type: str = "resident_id_card",
             payload: dict | None = None, credit_years: int = 2) -> PlatformRecord:
    """A record on the local platform bound for `to_province`."""
    return LocalPlatform().record_create(
        from_province=from_province, to_province=to_province, name=name, id_type=id_type, id_number=id_number,
        mobile=mobile, payload=payload if payload is not None else demo_payload(credit_years=credit_years),
        status=status,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def text(response) -> str:
    return response.content.decode()


def at_once(*calls) -> list:
    """Run the calls in threads released together (each on its own DB connection);
    each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the assertions say which outcomes are acceptable
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


PLATFORM_SECRET = "platform-secret"
CODE_RE = re.compile(r"验证码(\d{6})")


# --- a fake national platform over HTTP --------------------------------------------------


class FakePlatform:
    """The national platform's JSON API in a thread on 127.0.0.1, under `/api/v1`.

    Every request's signature is checked (X-Platform-Key, X-Timestamp, X-Signature =
    hex HMAC-SHA256 of "{timestamp}.{METHOD}.{path}.{body}"); a bad one gets 401.
    `answer(kind)` sets the standing answer, `script(*kinds)` the next ones:
    "ok" (serve the API), "error" (500), "hang" (answer nothing for `hang_seconds`),
    "not_json" (200 with HTML), "not_found" (404), "conflict" (409 {"status": ...}).
    """

    ANSWERS = ("ok", "error", "hang", "not_json", "not_found", "conflict")
    PREFIX = "/api/v1"

    def __init__(self, *, key_id: str = "gz-portal", secret: str | None = None, hang_seconds: float = 3.0):
        self.key_id = key_id
        self.secret = secret or PLATFORM_SECRET
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.records: dict[str, dict] = {}
        self.conflict_status = "received"
        self._standing = "ok"
        self._scripted: deque[str] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = None
        self._thread = None
        self._serial = 0

    # control
    def answer(self, kind: str) -> None:
        assert kind in self.ANSWERS
        with self._lock:
            self._standing = kind
            self._scripted.clear()

    def script(self, *kinds: str) -> None:
        assert all(k in self.ANSWERS for k in kinds)
        with self._lock:
            self._scripted.extend(kinds)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.PREFIX}"

    def add_incoming(self, *, name, id_number, mobile, from_province=SICHUAN, to_province=HOME,
                     status="pending_receipt", id_type="resident_id_card", payload=None) -> str:
        with self._lock:
            self._serial += 1
            ref = f"QGHTTP{self._serial:08d}"
            self.records[ref] = {
                "ref": ref, "client_ref": None, "status": status, "from_province": from_province,
                "to_province": to_province, "name": name, "id_type": id_type, "id_number": id_number,
                "mobile": mobile, "payload": payload if payload is not None else demo_payload(credit_years=1),
                "updated_at": _now(),
            }
        return ref

    def set_status(self, ref: str, status: str) -> None:
        with self._lock:
            self.records[ref]["status"] = status
            self.records[ref]["updated_at"] = _now()

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-national-platform", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # serving
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        timestamp = h.headers.get("X-Timestamp", "")
        message = f"{timestamp}.{method}.{h.path}.".encode() + raw
        expected = hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()
        valid = (
            bool(timestamp) and abs(time.time() - int(timestamp or 0)) < 300
            and hmac.compare_digest(expected, h.headers.get("X-Signature", ""))
            and h.headers.get("X-Platform-Key") == self.key_id
        )
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        with self._lock:
            self.requests.append({"method": method, "path": h.path, "body": body, "signature_valid": valid,
                                  "headers": dict(h.headers.items())})
            kind = self._scripted.popleft() if self._scripted else self._standing
        if not valid:
            return self._reply(h, 401, {"error": "bad signature"})
        if kind == "error":
            return self._reply(h, 500, {"error": "internal"})
        if kind == "hang":
            self._release.wait(self.hang_seconds)
            return self._reply(h, 500, {"error": "late"})
        if kind == "not_json":
            return self._reply(h, 200, b"<html>maintenance</html>", content_type="text/html")
        if kind == "not_found":
            return self._reply(h, 404, {"error": "not found"})
        if kind == "conflict":
            return self._reply(h, 409, {"status": self.conflict_status})
        code, data = self._api(method, h.path.removeprefix(self.PREFIX), body or {})
        return self._reply(h, code, data)

    def _api(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        with self._lock:
            if method == "POST" and path == "/transfers":
                for rec in self.records.values():
                    if rec["client_ref"] == body["client_ref"]:
                        return 200, self._status(rec)
                self._serial += 1
                ref = f"QGHTTP{self._serial:08d}"
                self.records[ref] = {**body, "ref": ref, "status": "pending_receipt", "updated_at": _now()}
                return 201, self._status(self.records[ref])
            if method == "POST" and path == "/transfers/find":
                for rec in self.records.values():
                    if rec.get("client_ref") == body.get("client_ref"):
                        return 200, self._status(rec)
                return 404, {"error": "not found"}
            m = re.fullmatch(r"/(transfers|incoming)/([A-Z0-9]+)(/withdraw|/receive)?", path)
            if method == "POST" and path == "/incoming/find":
                for rec in self.records.values():
                    if (rec["to_province"], rec["name"], rec["id_type"], rec["id_number"]) == (
                            body.get("to_province"), body.get("name"), body.get("id_type"), body.get("id_number")):
                        return 200, dict(rec)
                return 404, {"error": "not found"}
            if m is None or m.group(2) not in self.records:
                return 404, {"error": "not found"}
            rec = self.records[m.group(2)]
            action = m.group(3)
            if method == "GET" and action is None:
                return 200, (self._status(rec) if m.group(1) == "transfers" else dict(rec))
            if action == "/withdraw":
                if rec["status"] in ("waiting", "pending_receipt"):
                    rec["status"], rec["updated_at"] = "withdrawn", _now()
                elif rec["status"] != "withdrawn":
                    return 409, {"status": rec["status"]}
                return 200, self._status(rec)
            if action == "/receive":
                if rec["to_province"] != body.get("to_province"):
                    return 409, {"status": "wrong_province"}
                if rec["status"] == "pending_receipt":
                    rec["status"], rec["updated_at"] = "received", _now()
                elif rec["status"] != "received":
                    return 409, {"status": rec["status"]}
                return 200, self._status(rec)
            return 404, {"error": "not found"}

    @staticmethod
    def _status(rec: dict) -> dict:
        return {"ref": rec["ref"], "status": rec["status"], "updated_at": rec["updated_at"]}

    @staticmethod
    def _reply(h, status: int, body, *, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
