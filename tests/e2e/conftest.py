"""Browser tests: Playwright driving Debian's Chromium against the live server."""

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make to read the SMS outbox are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def csp_violation(message) -> bool:
    """Chromium reports what the Content-Security-Policy blocked as a console error."""
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture
def page(browser, live_server):
    """One page; anything the Content-Security-Policy blocks fails the test at teardown."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda m: csp_violation(m) and violations.append(f"{page.url}: {m.text}"))
    yield page
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def shot(request):
    """Save a screenshot under test-artifacts/screenshots/<test>/<n>-<name>.png."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, name: str):
        page.screenshot(path=str(folder / f"{next(counter):02d}-{name}.png"), full_page=True)

    return take


class BrowserPages:
    """Pages in fresh browser contexts (own cookies: a new device), each with
    its own viewport and JavaScript switch; JavaScript errors are collected."""

    def __init__(self, browser, base_url: str):
        self._browser = browser
        self._base_url = base_url
        self._contexts = []
        self.js_errors: list[str] = []

    def open(self, *, width: int = 375, height: int = 812, javascript: bool = True):
        context = self._browser.new_context(
            base_url=self._base_url,
            locale="zh-CN",
            viewport={"width": width, "height": height},
            java_script_enabled=javascript,
        )
        self._contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.js_errors.append(f"{page.url}: uncaught {error}"))
        return page

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.js_errors.append(f"console.error: {message.text} ({where})")

    def assert_no_js_errors(self, where: str = "") -> None:
        errors, self.js_errors[:] = list(self.js_errors), []
        assert not errors, f"JavaScript errors {where}:\n" + "\n".join(errors)

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts.clear()


@contextmanager
def _one_request_at_a_time(live_server):
    """With the in-memory SQLite test database the live server's request threads
    share the test's one connection, which Django documents as unsafe for
    simultaneous queries: a page loading several private images at once then
    fails with "database table is locked". Serve one request at a time there;
    on PostgreSQL the server stays fully threaded."""
    from django.db import connections

    httpd = live_server.thread.httpd
    application = httpd.get_app()
    if not any(c.vendor == "sqlite" and c.is_in_memory_db() for c in connections.all()):
        yield
        return
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            return application(environ, start_response)

    httpd.set_app(serial)
    try:
        yield
    finally:
        httpd.set_app(application)


@pytest.fixture
def pages(browser, live_server):
    """Open pages at any width, with or without JavaScript; a JavaScript error
    (console.error or an uncaught exception) not asserted by the test fails it
    at teardown."""
    opened = BrowserPages(browser, live_server.url)
    with _one_request_at_a_time(live_server):
        yield opened
        opened.close()
    opened.assert_no_js_errors("(not checked by the test)")
