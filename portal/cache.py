"""Django's Redis cache backend, with one Redis client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` object for every cache call;
building one fills redis-py's table of ~170 response callbacks: about 7% (in
cProfile) of a logged-in page that does nothing else but read its session through
the cache (`bench/pages.py`, the "floor" rows). A `redis.Redis` object holds no connection
of its own (it borrows from the pool for each command, and the pool reconnects
after a fork), so one per pool is shared by every thread and call.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
