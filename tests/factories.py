"""Test data built through the real services (not by poking rows)."""

from __future__ import annotations

import itertools

import factory

from accounts.identity import IdType, mod11_2_check_char
from accounts.models import User
from accounts.services import account_create

ACCOUNT_PASSWORD = "Kj#Test2026pass"

_serial = itertools.count(1)


def make_id_number(*, birth: str = "19900307", seq: int | None = None, area: str = "520102", male=True) -> str:
    """A valid 居民身份证 number (MOD 11-2 check character)."""
    seq = next(_serial) if seq is None else seq
    seq3 = f"{(seq * 2 + (1 if male else 0)) % 1000:03d}"
    body = f"{area}{birth}{seq3}"
    return body + mod11_2_check_char(body)


def make_mobile(n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    return f"+86139{n:08d}"


class AccountFactory(factory.Factory):
    """An accountant created through `account_create`; the plain ID is kept on
    the instance as `plain_id_number` for tests."""

    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"测试{n}")
    id_type = IdType.RESIDENT_ID_CARD
    id_number = factory.LazyFunction(make_id_number)
    password = ACCOUNT_PASSWORD
    mobile = factory.LazyFunction(make_mobile)
    works_in_guizhou = True
    holds_qualification = False

    @classmethod
    def _create(cls, model_class, **kwargs):
        user = account_create(**kwargs)
        user.plain_id_number = kwargs["id_number"]
        user.plain_password = kwargs["password"]
        return user

    _build = _create
