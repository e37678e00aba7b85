"""Issue 9 point 10: PostgreSQL restarted under load.

The portal runs as in production (DEBUG=0, its own secrets, gunicorn). Threads keep
opening logged-in pages while PostgreSQL is stopped (fast mode: every connection
cut) and started again two seconds later; wizard submits (提交) and transfer
applications (申请) are posted around the outage. Requests that meet the outage get
the portal's friendly error page, templates/500.html (or 400.html when only the
session's save met it); no stack trace, no debug page. Afterwards the same
processes answer normally without a restart (CONN_HEALTH_CHECKS drops the dead
persistent connections); no archive or transfer is half written.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from PIL import Image

from tests.faults.stack import wait_until
from tests.faults.web import Visitor

PRODUCTION = {
    "DEBUG": "0", "SECRET_KEY": "faults-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    # The same keys as the DEBUG processes that seeded the data, so ID numbers still decrypt and match.
    "ID_ENCRYPTION_KEYS": "ZGV2LW9ubHktaWQtZW5jcnlwdGlvbi1rZXktMDAwMDA=", "ID_HASH_KEY": "dev-only-id-hash-key",
    "ALLOWED_HOSTS": "127.0.0.1", "HTTPS": "0", "STATIC_MANIFEST": "0",
}
FRIENDLY = {500: "系统繁忙，请稍后再试", 503: "系统繁忙，请稍后再试",
            # The page's work done, the session's save met the outage (Django: SessionInterrupted).
            400: "请求无法处理，请刷新后重试"}
LEAKS = ("Traceback", "OperationalError", "psycopg2", "django.db", "File \"/", "settings.py", "DEBUG = True")


def evidence() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (230, 225, 215)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen: list[tuple[str, int, str]] = []

    def add(self, what: str, answer) -> None:
        with self.lock:
            self.seen.append((what, answer.status_code, answer.text if answer.status_code >= 400 else ""))


def test_postgres_restart_under_load(running, db, seeded):
    stack = running
    drafts = seeded("drafts", count=3, prefix="重启采集")
    movers = seeded("drafts", count=3, collected=True, prefix="重启调出")
    app = stack.app("app-production", **PRODUCTION)
    try:
        readers, submitters, appliers = [], [], []
        for person in drafts:
            visitor = Visitor(app.url)
            visitor.log_in(person["id_number"], person["password"])
            assert visitor.get("/collection/review/").status_code == 200
            submitters.append((person, visitor))
        for person in movers:
            visitor = Visitor(app.url)
            visitor.log_in(person["id_number"], person["password"])
            assert visitor.get("/transfers/out/new/").status_code == 200
            appliers.append((person, visitor))
        for _ in range(3):
            visitor = Visitor(app.url)
            visitor.log_in(movers[0]["id_number"], movers[0]["password"])
            readers.append(visitor)

        outcomes = Outcomes()
        stop = threading.Event()

        def read(visitor, path):
            while not stop.is_set():
                try:
                    outcomes.add(f"GET {path}", visitor.get(path))
                except Exception as exc:  # a reset connection is a failure of the test, not of a page
                    outcomes.seen.append((f"GET {path}", -1, repr(exc)))
                time.sleep(0.05)

        def submit(visitor, delay):
            time.sleep(delay)
            outcomes.add("POST 提交", visitor.post("/collection/review/", {"csrfmiddlewaretoken": visitor.csrf()}))

        def apply(visitor, delay):
            time.sleep(delay)
            answer = visitor.post("/transfers/out/new/", {
                "csrfmiddlewaretoken": visitor.csrf(), "to_province": "51", "reason": "work",
                "destination": "四川省成都市某某公司"}, files={"evidence": ("move.jpg", evidence(), "image/jpeg")})
            outcomes.add("POST 申请", answer)

        threads = [threading.Thread(target=read, args=(v, p)) for v, p in
                   zip(readers, ["/accounts/home/", "/transfers/out/", "/education/"], strict=True)]
        # Around the outage: one of each just before, one while it is down, one as it comes back.
        for n, (_person, visitor) in enumerate(submitters):
            threads.append(threading.Thread(target=submit, args=(visitor, 0.9 + 1.2 * n)))
        for n, (_person, visitor) in enumerate(appliers):
            threads.append(threading.Thread(target=apply, args=(visitor, 1.0 + 1.2 * n)))
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        stack.pg.stop("fast")
        time.sleep(2.0)
        stack.pg.start()
        down_until = time.monotonic()

        # The same processes recover by themselves.
        probe = readers[0]
        wait_until(lambda: probe.get("/accounts/home/").status_code == 200, timeout=60,
                   what="the portal to answer again after the restart")
        recovered_after = time.monotonic() - down_until
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads)

        # Every answer is a page: the normal one or the friendly error page.
        failures = [(what, status) for what, status, _body in outcomes.seen if status >= 400 or status < 0]
        assert failures, "no request met the outage: the test did not test anything"
        for what, status, body in outcomes.seen:
            assert status in (200, 302, 400, 500, 503), (what, status, body[:500])
            if status >= 400:
                assert FRIENDLY[status] in body, (what, status, body[:2000])
                leaked = [word for word in LEAKS if word in body]
                assert not leaked, (what, leaked, body[:2000])
        assert recovered_after < 30, f"took {recovered_after:.1f}s to recover"
        for visitor, path in zip(readers, ["/accounts/home/", "/transfers/out/", "/education/"], strict=True):
            for _ in range(5):
                assert visitor.get(path).status_code == 200  # the session survived, no new login needed
        app_log = app.log.read_text(errors="replace")
        assert "Booting worker" in app_log and app.alive(), "the production app itself was not restarted"

        # Nothing half written: an archive is either still a draft without a number or collected
        # with number and time; a transfer row exists only with its evidence file.
        for person, visitor in submitters:
            status, number, collected_at = db.rows(
                "SELECT status, archive_number, collected_at FROM collection_archive WHERE user_id = %s",
                person["pk"])[0]
            assert (status, number is None, collected_at is None) in {("draft", True, True),
                                                                       ("collected", False, False)}, person
            # Whatever the outcome, 提交 once more now finishes it exactly once.
            if status == "draft":
                assert visitor.post("/collection/review/", {"csrfmiddlewaretoken": visitor.csrf()}).status_code == 302
        assert db.value("SELECT count(*) FROM collection_archive WHERE user_id = ANY(%s) AND status = 'collected' "
                        "AND archive_number IS NOT NULL", [p["pk"] for p, _v in submitters]) == len(submitters)
        media = Path(stack.media)
        for person, _visitor in appliers:
            rows = db.rows("SELECT evidence, status FROM transfers_transferout WHERE user_id = %s", person["pk"])
            assert len(rows) <= 1, rows
            for name, _status in rows:
                assert (media / name).is_file(), f"transfer row without its evidence file: {name}"
        stored = {f"transfers/{p.name}" for p in (media / "transfers").glob("*")} if (media / "transfers").exists() \
            else set()
        rows = {r[0] for r in db.rows("SELECT evidence FROM transfers_transferout")}
        assert stored <= rows, f"evidence files without a transfer: {sorted(stored - rows)}"
    finally:
        app.stop()
