"""Fakes of outside systems, served for real on 127.0.0.1 (never mocks of our code)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_SECRET = "fake-gateway-secret"


@dataclass
class GatewayRequest:
    """One request as the fake SMS gateway received it."""

    path: str
    headers: dict[str, str]
    raw_body: bytes
    signature_valid: bool
    json: dict[str, Any] | None = field(default=None)


class FakeSmsGateway:
    """A JSON-over-HTTP SMS gateway in a thread, speaking `HttpBackend`'s protocol.

    It records every request and checks its signature,
    `hex(HMAC-SHA256(secret, f"{X-Timestamp}." + raw body))`. What it answers is
    set with `answer(...)` (every later request) or `script(...)` (the next
    requests, one answer each, then back to the standing answer):

    - "ok":       200 {"ok": true, "message_id": "gw-<n>"}
    - "error":    500
    - "not_json": 200 with an HTML body
    - "refused":  200 {"ok": false, "error": "..."}
    - "hang":     answers nothing for `hang_seconds` (longer than the client timeout)

    A request with a bad signature gets 401 {"ok": false}, like a real gateway.
    """

    ANSWERS = ("ok", "error", "not_json", "refused", "hang")

    def __init__(
        self,
        *,
        secret: str = DEFAULT_SECRET,
        key_id: str = "test-key",
        hang_seconds: float = 5.0,
    ):
        self.secret = secret
        self.key_id = key_id
        self.hang_seconds = hang_seconds
        self.requests: list[GatewayRequest] = []
        self._standing = "ok"
        self._scripted: deque[str] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -----------------------------------------------------------------

    def answer(self, kind: str) -> None:
        self._check(kind)
        with self._lock:
            self._standing = kind
            self._scripted.clear()

    def script(self, *kinds: str) -> None:
        for kind in kinds:
            self._check(kind)
        with self._lock:
            self._scripted.extend(kinds)

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake gateway is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/sms/send"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> FakeSmsGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                gateway._handle(self)

            def log_message(self, format, *args):  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-sms-gateway", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # let hanging handlers finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSmsGateway:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- serving -----------------------------------------------------------------

    def _check(self, kind: str) -> None:
        if kind not in self.ANSWERS:
            raise ValueError(f"unknown answer {kind!r}; choose from {self.ANSWERS}")

    def _next_answer(self) -> str:
        with self._lock:
            return self._scripted.popleft() if self._scripted else self._standing

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        timestamp = handler.headers.get("X-Timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        signature_valid = bool(timestamp) and hmac.compare_digest(expected, handler.headers.get("X-Signature", ""))
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except ValueError:
            parsed = None
        with self._lock:
            self.requests.append(
                GatewayRequest(
                    path=handler.path,
                    headers={k: v for k, v in handler.headers.items()},
                    raw_body=raw,
                    signature_valid=signature_valid,
                    json=parsed,
                )
            )
            number = len(self.requests)
        kind = self._next_answer()
        if not signature_valid or handler.headers.get("X-Key-Id") != self.key_id:
            self._reply(handler, 401, {"ok": False, "error": "bad signature"})
        elif kind == "ok":
            self._reply(handler, 200, {"ok": True, "message_id": f"gw-{number}"})
        elif kind == "error":
            self._reply(handler, 500, {"ok": False, "error": "internal error"})
        elif kind == "not_json":
            self._reply(handler, 200, b"<html><body>Service Unavailable</body></html>", content_type="text/html")
        elif kind == "refused":
            self._reply(handler, 200, {"ok": False, "error": "number on the blocklist"})
        elif kind == "hang":
            self._release.wait(self.hang_seconds)
            self._reply(handler, 200, {"ok": True, "message_id": f"gw-late-{number}"})

    @staticmethod
    def _reply(handler, status: int, body, *, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout) and closed the connection
