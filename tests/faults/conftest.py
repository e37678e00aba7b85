"""Fixtures of the fault tests (issue 9 section 3): one private stack per session.

The stack (tests/faults/stack.py) is PostgreSQL, Redis, gunicorn and a Celery worker
started here on free loopback ports, whatever the surrounding run uses (SQLite and
inline tasks, or CI's PostgreSQL and Redis): these tests run the same way in both CI
runs and never skip. Tests stop, kill and restart these processes; each test leaves
them running again for the next one.
"""

from __future__ import annotations

import contextlib
import os

import psycopg2
import pytest

from tests.faults import seed
from tests.faults.stack import Stack


@pytest.fixture(scope="session")
def stack():
    built = Stack()
    try:
        built.up()
        built.app_main = built.app("app")
        built.worker_main = built.worker("worker")
        yield built
    finally:
        if not os.environ.get("FAULTS_KEEP"):
            built.down()


@pytest.fixture
def running(stack):
    """The stack, checked whole before and after a test (a test that stops a service restarts it)."""
    _whole(stack)
    yield stack
    _whole(stack)


def _whole(stack) -> None:
    if not stack.redis.proc or stack.redis.proc.poll() is not None:
        stack.redis.start()
    if not stack.pg.running():
        stack.pg.start()
    for process in (stack.app_main, stack.worker_main):
        if not process.alive():
            process.start()
            process.wait_ready()


class Db:
    """Reads and the odd check straight from the stack's PostgreSQL (psycopg2, autocommit)."""

    def __init__(self, dsn: str):
        self.dsn = dsn

    def rows(self, sql: str, *params) -> list[tuple]:
        with contextlib.closing(psycopg2.connect(self.dsn, connect_timeout=10)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []

    def value(self, sql: str, *params):
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None


@pytest.fixture
def db(stack) -> Db:
    return Db(stack.pg.dsn())


@pytest.fixture
def seeded(stack):
    """Call a seed function in the stack's configuration: seeded("learners", count=2)."""

    def call(function: str, **kwargs):
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return seed.read(stack.python(f"from tests.faults.seed import {function}; {function}({args})", timeout=300))

    return call
