"""portal.cache: Django's Redis cache with one redis-py client per connection pool."""

from __future__ import annotations

import os
import uuid

import pytest

from portal.cache import RedisCache
from tests.faults.stack import Redis


def test_one_client_is_built_per_pool_and_reused():
    cache = RedisCache("redis://127.0.0.1:6399/0", {})  # no connection is made: clients and pools are lazy
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other") is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share the pool


def test_each_server_has_its_own_client():
    cache = RedisCache("redis://127.0.0.1:6399/0,redis://127.0.0.1:6398/0", {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client()  # reads go to the replica
    assert writer is not reader
    assert writer.connection_pool.connection_kwargs["port"] == 6399
    assert reader.connection_pool.connection_kwargs["port"] == 6398
    assert cache._cache.get_client() is reader


@pytest.fixture(scope="module")
def redis_cache(tmp_path_factory):
    """The cache on a private redis-server (the fault tests' one): runs the same in both CI runs, never skips."""
    server = Redis(tmp_path_factory.mktemp("cache"))
    server.start()
    try:
        yield RedisCache(server.url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    finally:
        server.destroy()


def test_the_shared_client_reads_and_writes_redis(redis_cache):
    key = f"test-cache-{uuid.uuid4().hex}"
    redis_cache.set(key, {"甲": 1}, 30)
    assert redis_cache.get(key) == {"甲": 1}
    redis_cache.delete(key)
    assert redis_cache.get(key) is None


def test_a_forked_worker_uses_the_inherited_client_on_its_own_connection(redis_cache):
    """gunicorn forks its workers after the app is loaded: the pool notices the new pid and reconnects."""
    key = f"test-cache-{uuid.uuid4().hex}"
    redis_cache.set(key, "parent", 30)
    client = redis_cache._cache.get_client(key)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read through the same client object, write a value back
        try:
            ok = redis_cache._cache.get_client(key) is client and redis_cache.get(key) == "parent"
            redis_cache.set(key, "child", 30)
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert redis_cache.get(key) == "child"
    redis_cache.delete(key)
