"""portal.sessions: sessions stored in the database and read through the cache; the
cache is only ever a shortcut (any cache error falls back to the database)."""

from __future__ import annotations

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.sessions import SessionStore
from tests.factories import AccountFactory


class BrokenCache(BaseCache):
    """A cache whose every call fails, as Redis does when it is down."""

    def __init__(self, location, params):
        super().__init__(params)

    def get(self, *args, **kwargs):
        raise ConnectionError("Redis is down")

    set = delete = add = has_key = get


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sessions-test"},
    "broken": {"BACKEND": "tests.test_sessions.BrokenCache"},
}


@pytest.fixture
def cached(settings):
    settings.CACHES = CACHES
    settings.SESSION_CACHE_ALIAS = "default"
    from django.core.cache import caches

    caches["default"].clear()
    return caches["default"]


def _stored(data: dict) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    return store.session_key


@pytest.mark.django_db
def test_a_session_is_read_from_the_cache_after_the_first_load(cached):
    key = _stored({"who": "甲"})
    cached.clear()  # as after a restart: only the database has it
    with CaptureQueriesContext(connection) as first:
        assert SessionStore(key).load() == {"who": "甲"}
    assert len(first) == 1
    with CaptureQueriesContext(connection) as second:
        assert SessionStore(key).load() == {"who": "甲"}
    assert len(second) == 0


@pytest.mark.django_db
def test_saving_and_deleting_keep_the_cache_in_step(cached):
    key = _stored({"n": 1})
    store = SessionStore(key)
    store["n"] = 2
    store.save()
    assert SessionStore(key).load() == {"n": 2}
    SessionStore(key).delete()
    with CaptureQueriesContext(connection) as after:
        assert SessionStore(key).load() == {}
    assert len(after) == 1  # not found in the cache: the database says it is gone


@pytest.mark.django_db
def test_the_cached_copy_lives_at_most_session_cache_seconds(cached, settings):
    settings.SESSION_CACHE_SECONDS = 7
    store = SessionStore()
    assert store._cache_ttl(1800) == 7 and store._cache_ttl(3) == 3 and store._cache_ttl(-5) == 0


@pytest.mark.django_db
def test_a_broken_cache_falls_back_to_the_database(settings, caplog):
    settings.CACHES = CACHES
    settings.SESSION_CACHE_ALIAS = "broken"
    key = _stored({"who": "乙"})  # save: the database row is written, the cache error logged
    store = SessionStore(key)
    assert store.load() == {"who": "乙"}
    store["who"] = "丙"
    store.save()
    assert SessionStore(key).load() == {"who": "丙"}
    SessionStore(key).delete()
    assert SessionStore(key).load() == {}
    assert "session cache unavailable" in caplog.text


@pytest.mark.django_db
def test_pages_work_through_the_cached_store(client, cached, settings):
    """Login, a page, logout with the store Redis deployments use (here on a local cache)."""
    settings.SESSION_ENGINE = "portal.sessions"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = AccountFactory()
    client.force_login(user)
    assert client.get("/accounts/home/").status_code == 200
    key = client.session.session_key
    assert cached.get(SessionStore.cache_key_prefix + key) is not None
    client.post("/accounts/logout/")
    assert cached.get(SessionStore.cache_key_prefix + key) is None
    assert client.get("/accounts/home/").status_code == 302  # logged out for good
