"""ID numbers stay out of the database, the logs and URLs; simultaneous
registrations of one person end with one account."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.core.cache import cache
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from phonenumber_field.phonenumber import PhoneNumber

from accounts import services
from accounts.identity import id_lookup_hash
from accounts.models import User
from accounts.sms import SmsCodeInvalid
from tests.accounts.test_password_reset import NEW_PASSWORD, complete, verify
from tests.accounts.test_registration import _id_ending_in_x
from tests.accounts.test_views import GOOD_PASSWORD, latest_code, log_in, new_mobile, register_via_views
from tests.factories import make_id_number

ROOT = Path(__file__).resolve().parents[2]


class RecordingClient(Client):
    """A test client that keeps every URL it asked for and every redirect it got."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls: list[str] = []

    def request(self, **request):
        self.urls.append(f"{request.get('PATH_INFO', '')}?{request.get('QUERY_STRING', '')}")
        response = super().request(**request)
        if 300 <= response.status_code < 400:
            self.urls.append(response["Location"])
        return response


def _contains(value, needle: str) -> bool:
    if value is None:
        return False
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return needle in str(value).upper()


def _orm_hits(needle: str) -> list[str]:
    hits = []
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.proxy or model._meta.db_table not in tables:
            continue  # a model without a table (not migrated yet) holds nothing
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                if model._base_manager.filter(**{f"{field.attname}__icontains": needle}).exists():
                    hits.append(f"{model._meta.label}.{field.name}")
    return hits


def _raw_hits(needle: str) -> list[str]:
    """Every table the database has (axes, sessions, ...), every column, read raw."""
    hits = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert "axes_accessattempt" in tables and "accounts_user" in tables
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (names from the DB)
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if _contains(value, needle):
                        hits.append(f"{table}.{column}")
                    if table == "django_session" and column == "session_data":
                        if _contains(repr(DbSessionStore().decode(value)), needle):
                            hits.append(f"{table}.{column} (decoded)")
    return hits


def _cache_hits(needle: str) -> list[str]:
    """With Redis, sessions live in the cache: read every key of this run."""
    if not settings.REDIS_URL:
        return []
    client = cache._cache.get_client()
    hits = []
    for key in client.scan_iter(match=cache.make_key("*")):
        value = client.get(key)
        if value is not None and needle.encode() in value.upper():
            hits.append(key.decode())
    return hits


def test_the_plain_id_number_is_stored_nowhere_logged_nowhere_and_never_in_a_url(tasks_run, caplog, settings):
    settings.SMS_RESEND_SECONDS = 0  # the reset code follows the registration code at once
    for name in ("", "django", "axes", "accounts", "portal", "celery", "django.db.backends"):
        caplog.set_level(logging.DEBUG, logger=name)
    plain = _id_ending_in_x()
    typed = plain.lower()  # typed with a lower-case x, as people do
    client = RecordingClient()

    # 用户注册 through the pages.
    response, _ = register_via_views(client, id_number=typed, name="陈十")
    assert response.status_code == 302
    user = User.objects.get(id_hash=id_lookup_hash(plain))

    # Failed logins up to the lockout.
    for _ in range(5):
        client.post(
            reverse("accounts:login") + "?next=/accounts/home/", {"id_number": typed, "password": "No#Pass2026"}
        )
    assert log_in(client, SimpleNamespace(plain_id_number=plain, plain_password=GOOD_PASSWORD)).status_code == 429

    # 忘记密码 (which lifts the lockout), a successful login and a logout.
    user.plain_id_number, user.plain_password = plain, GOOD_PASSWORD
    assert verify(client, user)["Location"] == reverse("accounts:password_reset_set")
    assert complete(client)["Location"] == reverse("accounts:login")
    assert log_in(client, SimpleNamespace(plain_id_number=typed, plain_password=NEW_PASSWORD))["Location"] == reverse(
        "accounts:home"
    )
    assert plain not in client.get(reverse("accounts:home")).content.decode()
    client.post(reverse("accounts:logout"))
    # One more failure so the axes tables hold a fresh row.
    client.post(reverse("accounts:login"), {"id_number": typed, "password": "No#Pass2026"})

    # The number really is stored: encrypted, and found through its hash.
    user.refresh_from_db()
    assert user.id_number == plain

    assert _orm_hits(plain) == []
    assert _raw_hits(plain) == []
    assert _cache_hits(plain) == []

    assert caplog.records, "nothing was logged: the capture is not working"
    for record in caplog.records:
        assert plain not in record.getMessage().upper(), record.name
    assert plain not in caplog.text.upper()
    worker_log = ROOT / "test-artifacts" / "celery-worker.log"
    if tasks_run is not None and worker_log.exists():
        assert plain not in worker_log.read_text(errors="replace").upper()

    assert client.urls
    for url in client.urls:
        assert plain not in url.upper(), url
        assert plain[6:14] not in url, url


# --- simultaneous registrations ------------------------------------------------------------------


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """Call the returned function once the data is in; then threads share one database.

    PostgreSQL: the test database itself. SQLite: the in-memory test database
    is opened in shared-cache mode, where a second writer fails at once with
    "database table is locked" instead of waiting out the busy timeout, so the
    threads use a file copy of it: SQLite as it runs outside tests (a file,
    WAL, IMMEDIATE transactions, 20 s timeout).
    """
    settings_dict = connection.settings_dict
    in_memory_name = settings_dict["NAME"] if connection.vendor == "sqlite" and connection.is_in_memory_db() else None

    def switch() -> None:
        if in_memory_name is None:
            return
        path = tmp_path / "race.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        settings_dict["NAME"] = str(path)  # new (thread) connections open the file

    yield switch
    if in_memory_name is not None:
        settings_dict["NAME"] = in_memory_name


def _in_threads(*calls) -> list[object]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the assertions say which outcomes are acceptable
            results[index] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _registration(*, id_number: str, mobile: str) -> dict:
    """Arguments for account_register, with a real code asked for and read from the outbox."""
    phone = PhoneNumber.from_string(mobile, region="CN")
    services.registration_code_request(mobile=phone, ip="127.0.0.1")
    return {
        "name": "并发",
        "id_type": "resident_id_card",
        "id_number": id_number,
        "password": GOOD_PASSWORD,
        "mobile": phone,
        "sms_code": latest_code(mobile),
        "works_in_guizhou": True,
        "holds_qualification": False,
    }


def _count(**lookup) -> int:
    """Count accounts through a fresh connection (the one the threads used)."""
    return _in_threads(lambda: User.objects.filter(**lookup).count())[0]


@pytest.mark.parametrize("round_", range(3))
def test_two_registrations_of_one_id_at_once_make_one_account(shared_database, round_):
    id_number = make_id_number()
    first = _registration(id_number=id_number, mobile=new_mobile())
    second = _registration(id_number=id_number, mobile=new_mobile())
    shared_database()
    results = _in_threads(lambda: services.account_register(**first), lambda: services.account_register(**second))
    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, services.AccountExists)]
    assert len(created) == 1, results
    assert len(refused) == 1, results
    assert refused[0].code == "id_taken"
    assert _count(id_hash=id_lookup_hash(id_number)) == 1


@pytest.mark.parametrize("round_", range(3))
def test_two_account_creations_of_one_id_at_once_leave_it_to_the_constraint(shared_database, round_):
    """account_create checks nothing first: the unique constraint alone decides."""
    id_number = make_id_number()
    calls = [
        lambda mobile=mobile: services.account_create(
            name="并发", id_type="resident_id_card", id_number=id_number, password=GOOD_PASSWORD, mobile=mobile
        )
        for mobile in ("+86" + new_mobile(), "+86" + new_mobile())
    ]
    shared_database()
    results = _in_threads(*calls)
    assert sorted(type(r).__name__ for r in results) == ["AccountExists", "User"], results
    assert next(r for r in results if isinstance(r, services.AccountExists)).code == "id_taken"
    assert _count(id_hash=id_lookup_hash(id_number)) == 1


def test_two_registrations_of_one_mobile_at_once_make_one_account(shared_database):
    mobile = new_mobile()
    first = _registration(id_number=make_id_number(), mobile=mobile)
    second = {**first, "id_number": make_id_number()}
    shared_database()
    results = _in_threads(lambda: services.account_register(**first), lambda: services.account_register(**second))
    created = [r for r in results if isinstance(r, User)]
    # The loser is told the mobile is taken, or that the one code was used already.
    refused = [r for r in results if isinstance(r, services.AccountExists | SmsCodeInvalid)]
    assert len(created) == 1, results
    assert len(refused) == 1, results
    assert _count(mobile="+86" + mobile) == 1
