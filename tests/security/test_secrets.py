"""Issue 9 point 7: a person's secrets stay out of logs, URLs and error pages; the database
holds no plaintext ID number.

One journey through the pages with every logger captured at DEBUG: 用户注册 with the SMS
code, a wrong password, 登录, 忘记密码 with its SMS code, 登录 with the new password, the
wizard's first steps, 学分确认申请 with its evidence, error pages (404, CSRF), 退出. The
secrets are the full ID number, both passwords, both SMS codes and every session key the
person held. tests/accounts/test_security.py covers the ID number through registration,
lockout and reset; this adds the other secrets, the wizard, the claim and the error pages.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from django.conf import settings as django_settings
from django.urls import reverse

from accounts.identity import id_lookup_hash
from accounts.models import User
from collection.reference import reference_data_load
from tests.accounts.test_password_reset import NEW_PASSWORD, complete, details, latest_code
from tests.accounts.test_security import RecordingClient, _cache_hits, _raw_hits
from tests.accounts.test_views import GOOD_PASSWORD, log_in, register_via_views
from tests.education.helpers import collect
from tests.images import document_upload

ROOT = Path(__file__).resolve().parents[2]
LOGGERS = ("", "django", "django.request", "django.server", "axes", "accounts", "collection", "changes", "education",
           "transfers", "portal", "celery", "django.db.backends")


class JourneyClient(RecordingClient):
    """Keeps every URL, every session key the client held, and every error page's text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_keys: set[str] = set()
        self.error_pages: list[tuple[str, str]] = []

    def request(self, **request):
        response = super().request(**request)
        key = self.cookies.get(django_settings.SESSION_COOKIE_NAME)
        if key is not None and key.value:
            self.session_keys.add(key.value)
        if response.status_code >= 400 and not response.streaming:
            self.error_pages.append((request.get("PATH_INFO", ""), response.content.decode(errors="replace")))
        return response


def _appears(secret: str, text: str) -> bool:
    if secret.isdigit():  # a 6-digit code inside a longer number is not that code
        return re.search(rf"(?<!\d){secret}(?!\d)", text) is not None
    return secret.upper() in text.upper()


def test_no_secret_in_logs_urls_or_error_pages_and_no_plain_id_in_the_database(tasks_run, caplog, settings):
    settings.SMS_RESEND_SECONDS = 0  # the reset code follows the registration code at once
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    reference_data_load()
    client = JourneyClient()
    secrets: dict[str, str] = {}

    # 用户注册 with the SMS code.
    response, typed = register_via_views(client, name="秘密测试")
    assert response.status_code == 302
    plain = typed["id_number"]
    secrets.update(id_number=plain, password=GOOD_PASSWORD, new_password=NEW_PASSWORD,
                   register_code=typed["sms_code"])
    user = User.objects.get(id_hash=id_lookup_hash(plain))
    user.plain_id_number, user.plain_password = plain, GOOD_PASSWORD

    # A wrong password, then 登录.
    assert log_in(client, user, "Wrong#Pass2026").status_code == 200
    assert log_in(client, user)["Location"] == reverse("accounts:home")
    client.post(reverse("accounts:logout"))

    # 忘记密码 with its SMS code, 登录 with the new password.
    data = details(user)
    assert client.post(reverse("accounts:password_reset"), {**data, "action": "send_code"}).status_code == 200
    secrets["reset_code"] = latest_code(data["mobile"])
    verified = client.post(reverse("accounts:password_reset"), {**data, "sms_code": secrets["reset_code"]})
    assert verified["Location"] == reverse("accounts:password_reset_set")
    assert complete(client)["Location"] == reverse("accounts:login")
    user.plain_password = NEW_PASSWORD
    assert log_in(client, user)["Location"] == reverse("accounts:home")

    # The wizard: 阅读须知, then 个人信息 without its images (refused; the draft is kept).
    assert client.post(reverse("collection:notice"), {"promise": "on"})["Location"] == reverse("collection:personal")
    assert client.post(reverse("collection:personal"), {"email": "secret@example.com"}).status_code == 200
    # The rest of the archive through the services, then 学分确认申请 through its page.
    collect(user)
    year = str(User.objects.get(pk=user.pk).archive.collected_at.year)
    evidence = document_upload()
    evidence.name = "evidence.jpg"
    claimed = client.post(reverse("education:claim_create"), {
        "year": year, "activity": "exam_subject", "details": "中级会计实务合格", "evidence": evidence})
    assert claimed.status_code == 302, claimed.content.decode()[:500]

    # Error pages: a claim that does not exist, a form posted without its CSRF token.
    assert client.get(reverse("education:claim_evidence", args=[999_999])).status_code == 404
    csrf_client = JourneyClient(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    assert csrf_client.post(reverse("accounts:logout")).status_code == 403
    client.post(reverse("accounts:logout"))

    assert len(client.session_keys) >= 3  # anonymous, first login, login after the reset
    secret_values = {**secrets, **{f"session {i}": k for i, k in enumerate(sorted(client.session_keys))}}

    # Logs.
    assert caplog.records, "nothing was logged: the capture is not working"
    log_lines = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    for what, value in secret_values.items():
        leaked = [line for line in log_lines if _appears(value, line)]
        assert not leaked, (what, leaked[:3])
    worker_log = ROOT / "test-artifacts" / "celery-worker.log"
    if tasks_run is not None and worker_log.exists():
        text = worker_log.read_text(errors="replace")
        assert not [w for w, v in secret_values.items() if _appears(v, text)]

    # URLs, and error pages.
    urls = client.urls + csrf_client.urls
    assert len(urls) > 15
    for what, value in secret_values.items():
        assert not [u for u in urls if _appears(value, u)], what
    error_pages = client.error_pages + csrf_client.error_pages
    assert {path for path, _ in error_pages} >= {reverse("accounts:logout"),
                                                 reverse("education:claim_evidence", args=[999_999])}
    for what, value in secret_values.items():
        assert not [p for p, page in error_pages if _appears(value, page)], what

    # The database (every table, every column, read raw) and, with Redis, the cache.
    assert User.objects.get(pk=user.pk).id_number == plain  # stored, encrypted
    assert _raw_hits(plain) == []
    assert _raw_hits(plain[6:]) == []  # not even the birth date and serial together
    assert _cache_hits(plain) == []
