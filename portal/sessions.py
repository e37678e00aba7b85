"""Sessions: in the database, with Redis as a read-through shortcut.

Django's `cached_db` store, except that the cache can never break a page: a
cache that errors or hangs (Redis down, a network partition) is logged and
skipped, and the database answers, as it does for every write. Each page view
then costs one Redis GET instead of a database query for the session.

A cached copy lives at most SESSION_CACHE_SECONDS. That bounds the one case
the cache could get wrong: a logout (or a session flushed by a password reset)
while Redis is unreachable deletes the database row, but cannot delete the
cached copy; if Redis comes back with its data, that copy is honoured until it
expires. Password changes are not affected: the auth hash kept in the session is
checked against the user row on every request.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

logger = logging.getLogger(__name__)


class SessionStore(CachedDBStore):
    cache_key_prefix = "portal.session."

    def _cache_ttl(self, age: int) -> int:
        return max(0, min(age, settings.SESSION_CACHE_SECONDS))

    def _cache_get(self):
        try:
            return self._cache.get(self.cache_key)
        except Exception:
            logger.warning("session cache unavailable: reading the session from the database", exc_info=True)
            return None

    def _cache_set(self, data, age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, self._cache_ttl(age))
        except Exception:
            logger.warning("session cache unavailable: the session is kept in the database only", exc_info=True)

    def load(self):
        data = self._cache_get()
        if data is None:
            stored = self._get_session_from_db()
            if stored is None:
                return {}
            data = self.decode(stored.session_data)
            self._cache_set(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        # Used when creating a key: the database is the authority.
        return super(CachedDBStore, self).exists(session_key)

    def save(self, must_create=False):
        super(CachedDBStore, self).save(must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        super(CachedDBStore, self).delete(session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            logger.error("session cache unavailable: a deleted session may stay cached for up to %s s",
                         settings.SESSION_CACHE_SECONDS, exc_info=True)

    def flush(self):
        self.clear()
        self.delete(self.session_key)
        self._session_key = None

    # The async variants are not used (WSGI only); keep them on the database.
    async def aload(self):
        return await super(CachedDBStore, self).aload()
