"""The Content-Security-Policy holds in the browser, and the e2e fixtures see a breach
(issue 9 point 4): every other browser test fails on a CSP violation, so this one proves
that a violation is noticed at all."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import csp_violation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_inline_script_and_style_are_blocked_and_reported(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda m: csp_violation(m) and seen.append(m.text))
    try:
        response = page.goto("/accounts/login/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert seen == []  # the page's own scripts and styles (static/) are all allowed
        # An injected inline script does not run, and the browser says why.
        page.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.__injected = true';
            document.body.appendChild(s);
        }""")
        page.evaluate("""() => { document.body.setAttribute('onclick', 'window.__clicked = true'); }""")
        page.click("body")
        page.wait_for_timeout(200)
        assert page.evaluate("window.__injected === undefined && window.__clicked === undefined")
        assert any("script" in text for text in seen), seen
    finally:
        context.close()
